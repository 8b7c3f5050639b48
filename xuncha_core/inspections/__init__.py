"""Random inspections (双随机、一公开): directories, plans, the verifiable draw, publication.

One concept per module, all pure (no database, no HTTP):

    directories      the entity, inspector, conflict and matter rows offices keep
    directory_rows   checking a whole imported table (every bad row, with its line)
    directory_files  reading and writing those tables as CSV
    plans            a plan: matters, strata with their filters and counts, deadline
    rfc3797          RFC 3797 verifiable random selection, exactly
    commitment       what is fixed and appended to the ledger before the random values exist
    assignment       inspectors per selected entity: recusal, balance, deterministic ties
    draw             entering the random values: the published draw file
    verify           re-running a published draw file and naming the first difference
    publication      when an inspection result is due on the public page
    inspection_record  the ``random_inspection`` record an officer's phone makes on site
    pin              an inspector's PIN: hashed on their phone, checked offline on another
"""
