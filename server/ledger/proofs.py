"""Roots and proofs from stored subtree hashes, in O(log n), without rebuilding the tree.

Every subtree an RFC 9162 proof uses tiles into at most ~log2(n) complete aligned
subtrees, each stored in ``ledger_nodes``; a proof is therefore one query for the
nodes it needs and a few hashes. Sizes and indexes are checked by the caller
against ``store.size``; here an out-of-range argument is a ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from server.infra import tables as t
from server.ledger.store import nodes
from xuncha_core.merkle import (
    EMPTY_ROOT,
    aligned_nodes,
    consistency_subtrees,
    fold_right,
    inclusion_subtrees,
)


@dataclass(frozen=True)
class StoredEntry:
    index: int
    text: str  # the exact canonical JSON text that was hashed
    leaf_hash: bytes


def _subtree_hashes(conn: Connection, ranges: list[tuple[int, int]]) -> list[bytes]:
    tilings = [aligned_nodes(a, b) for a, b in ranges]
    found = nodes(conn, [key for tiling in tilings for key in tiling])
    return [fold_right([found[key] for key in tiling]) for tiling in tilings]


def root_at(conn: Connection, size: int) -> bytes:
    """The RFC 9162 root of the first ``size`` entries (SHA-256 of nothing for 0)."""
    if size < 0:
        raise ValueError(f"size {size} is negative")
    return _subtree_hashes(conn, [(0, size)])[0] if size else EMPTY_ROOT


def inclusion_proof(conn: Connection, index: int, size: int) -> list[bytes]:
    """The audit path of entry ``index`` in the tree of the first ``size`` entries."""
    return _subtree_hashes(conn, inclusion_subtrees(index, size))


def consistency_proof(conn: Connection, first: int, second: int) -> list[bytes]:
    """The proof that the first ``first`` entries are a prefix of the first ``second``."""
    return _subtree_hashes(conn, consistency_subtrees(first, second))


def entry(conn: Connection, index: int) -> StoredEntry | None:
    """The stored entry at ``index``, or None if there is none."""
    e = t.ledger_entries.c
    row = conn.execute(select(e.idx, e.entry, e.leaf_hash).where(e.idx == index)).first()
    if row is None:
        return None
    return StoredEntry(index=int(row.idx), text=row.entry, leaf_hash=bytes(row.leaf_hash))
