"""Ledger storage: entries, and the hash of every complete aligned subtree.

Appending leaf ``n`` stores its hash at level 0 and, for every level at which
leaf ``n`` completes an aligned subtree, that subtree's hash. Any RFC 9162
subtree hash, and so any proof, is then a handful of lookups: O(log n).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from server import tables as t
from server.db import is_sqlite
from xuncha_core.canonical import canonical_text
from xuncha_core.merkle import leaf_hash, node_hash

_PG_LEDGER_LOCK = 0x78756E6368610001  # "xuncha" + 1: serialises appends on PostgreSQL


@dataclass(frozen=True)
class Receipt:
    index: int
    leaf_hash: str  # hex

    def as_dict(self) -> dict[str, Any]:
        return {"ledger_index": self.index, "leaf_hash": self.leaf_hash}


def size(conn: Connection) -> int:
    n = conn.execute(select(func.max(t.ledger_entries.c.idx))).scalar()
    return 0 if n is None else int(n) + 1


def append(conn: Connection, entry: dict[str, Any]) -> Receipt:
    """Append ``entry`` (a JSON object) as the next leaf, in the caller's transaction."""
    if not is_sqlite(conn):
        # SQLite writers already hold the database lock (BEGIN IMMEDIATE).
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LEDGER_LOCK})")
    text = canonical_text(entry)
    data = text.encode("utf-8")
    index = size(conn)
    leaf = leaf_hash(data)
    conn.execute(
        t.ledger_entries.insert().values(
            idx=index, entry=text, leaf_hash=leaf, created_at=datetime.now(UTC).isoformat()
        )
    )
    nodes = [{"level": 0, "pos": index, "hash": leaf}]
    level, pos, current = 0, index, leaf
    while pos % 2 == 1:  # this leaf completes the subtree (level + 1, pos // 2)
        left = conn.execute(
            select(t.ledger_nodes.c.hash).where(
                t.ledger_nodes.c.level == level, t.ledger_nodes.c.pos == pos - 1
            )
        ).scalar_one()
        current = node_hash(left, current)
        level, pos = level + 1, pos // 2
        nodes.append({"level": level, "pos": pos, "hash": current})
    conn.execute(t.ledger_nodes.insert(), nodes)
    return Receipt(index=index, leaf_hash=leaf.hex())
