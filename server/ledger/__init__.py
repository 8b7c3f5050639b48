"""The append-only ledger: every accepted change becomes one RFC 9162 leaf.

``append(conn, entry)`` (or ``append_many`` for a batch) is called inside the
same transaction as the change it records, with an entry built by
``xuncha_core.ledger_entries``, and returns the receipt (entry index and leaf
hash). The leaf is the entry's committed form, which names nobody; its content
is kept beside it (``contents``: what the public sees, who may read the rest).
``proofs`` answers roots and proofs from stored subtree hashes; ``signing``
holds the Ed25519 key and signs checkpoints.
"""

from server.ledger.store import Receipt, append, append_many

__all__ = ["Receipt", "append", "append_many"]
