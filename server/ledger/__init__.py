"""The append-only ledger: every accepted change becomes one RFC 9162 leaf.

``append(conn, entry)`` is called inside the same transaction as the change it
records and returns the receipt (entry index and leaf hash).
"""

from server.ledger.store import Receipt, append

__all__ = ["Receipt", "append"]
