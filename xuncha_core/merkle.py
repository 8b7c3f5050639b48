"""RFC 9162 (Certificate Transparency v2, as RFC 6962) Merkle tree hashing.

leaf hash  = SHA-256(0x00 || entry bytes)
node hash  = SHA-256(0x01 || left || right)
"""

from __future__ import annotations

import hashlib


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()
