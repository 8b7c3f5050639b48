"""Sync between the field app and the server: nothing lost, nothing twice, on a bad link.

The protocol
============

**Outbox.** When the app says "saved", the record revision and its photos are already
durable on the phone (the local store writes them atomically; photo files are named by
their SHA-256). A revision leaves the outbox only after the server's receipt for it is
stored durably: the receipts of a batch go into the history first, then the whole batch
leaves the outbox in one write, and a kill between the two is finished when the store
opens. A kill at any moment therefore leaves the revision either in the outbox (it is
sent again, answered as a replay) or receipted (it is not).

**Records** are pushed with ``POST /api/v1/records/batch``, idempotently keyed by
``record_id`` + ``revision``; an edit names its base by number and by digest
(``base_revision``, ``base_digest``). The server answers an
identical replay with the receipt it gave the first time (``replayed: true``), so sending a
revision twice (a retry after a cut, a kill after the server committed but before the
receipt was stored, a duplicated request) never makes two copies. A batch holds at most one
revision of each record, so a revision is never sent before its base has a receipt.

  * ``409 record.revision_conflict`` (another revision with that number already exists,
    typically from a second phone editing from the same base): the phone keeps the server's
    envelope beside its own and shows the record as **conflict**. The user chooses *keep
    mine* (the store makes a new revision on top of the server's, carrying her content) or
    *take the server's*. Nothing is discarded until she chooses.
  * ``409 record.base_mismatch`` (the revision was built on a version of its base that the
    server does not hold, e.g. her own edit that lost a conflict): the same, with the
    server's head as the other version.
  * ``409 record.base_missing``: the base has not reached the server; the revision waits.
  * ``422`` / ``403``: the server will never accept this revision as it is; it is kept and
    shown as **refused** with the server's message, never retried in a loop.

**Photos pending (the decision).** A record does not wait for its photos: the server accepts
it at once and its receipt lists ``photos_missing``; the office sees a "photos pending"
badge until every photo has arrived. The phone keeps the hashes still owed in its store and
keeps uploading them, pass after pass, until the server reports none missing. Records go
first because they are small and are what the office needs first on a 2G link: photos
wait until every batch is answered and the pull is done. On a fast link (a full batch
answered in under a second) records cannot hold up the office, so photos start as soon as
the first batch is answered, alongside the remaining batches and the pull.

**Photo uploads.** The phone asks ``POST /api/v1/photos/missing`` which hashes the server
lacks, and uploads only those. A photo no bigger than one chunk goes in one
``PUT /api/v1/photos/{sha256}``; a larger one goes through the resumable upload
(``POST /api/v1/uploads`` then ``PATCH`` chunk by chunk with ``Upload-Offset``). After a
cut the phone asks the server where it stands (``HEAD``) and continues from there, so at
most one chunk is sent again. Up to four photos are on the way at once (while the server
checks one, the others' bytes keep the link busy); each is read and re-hashed once on the
phone, just before it goes, and one whose file no longer matches its hash is reported,
never sent. What the server confirms is stored in bulk writes. The chunk size adapts to the measured link speed (a few
seconds of sending per chunk, between 16 KiB and 1 MiB). The server re-hashes the whole
photo and checks it is a real image before it keeps it.

**Pull.** Reference data (villages, scoring sheets, cleaners, entities, inspectors, tasks,
settings) and the review decisions on the user's own records come from
``GET /api/v1/sync/changes?after=CURSOR``, paged, in the server's sequence order; a deleted
item arrives as a tombstone. Each page and the cursor after it are stored in one durable
write, so a kill between pages re-fetches at most one page and applying a page twice is
harmless.

**Receipts.** Every receipt (digest, ledger index, leaf hash, server receive time) is kept.
``receipts.prove`` fetches a signed checkpoint and the inclusion proof of the record's
ledger entry and verifies both on the phone, so an officer can show that the server
accepted her record and cannot quietly drop it later.

**Clocks.** The device clock is recorded in the envelope and used for nothing else:
order comes from the outbox's local save order and from the server's sequence numbers;
timeouts and backoff use a monotonic clock.

**Failures.** A network failure or a 5xx ends the pass; the scheduler retries with
exponential backoff and full jitter. ``401 auth.device_revoked`` (or any 401) stops sync
and surfaces "this phone was signed out by the office" until the user signs in again;
it is never retried in a loop.

Modules: ``errors`` (the error tree), ``transport`` (the one place that builds the HTTP
client; the seam), ``uploads`` (resumable photo upload), ``engine`` (one sync pass),
``scheduler`` (when to run a pass, backoff, progress and status for the UI), ``receipts``
(inclusion proofs), ``faults`` (named kill points for crash tests), ``cli`` (headless).
"""

from field_app.sync.transport import enroll

__all__ = ["enroll"]
