"""Ledger storage: entries, their contents, and the hash of every complete aligned subtree.

An entry is a ``xuncha_core.ledger_entries.NewEntry``: its committed form is the leaf
(``ledger_entries``, public), its content and salt go beside it (``ledger_contents``,
read only by those who may), in the same transaction.

Appending leaf ``n`` stores its hash at level 0 and, for every level at which
leaf ``n`` completes an aligned subtree, that subtree's hash. Any RFC 9162
subtree hash, and so any proof, is then a handful of lookups: O(log n)
(see ``server.ledger.proofs``).

The only other state an append needs is the right edge of the tree: the
complete aligned subtrees that tile [0, size), at most one per level. It is
read in one query per append (or per batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, TextClause, func, select, text

from server.infra import clock
from server.infra import tables as t
from server.infra.db import is_sqlite
from xuncha_core.canonical import canonical_text
from xuncha_core.errors import IntegrityError
from xuncha_core.ledger_entries import NewEntry
from xuncha_core.merkle import aligned_nodes, leaf_hash, node_hash
from xuncha_core.receipts import LedgerPlace

_PG_LEDGER_LOCK = 0x78756E6368610001  # "xuncha" + 1: serialises appends on PostgreSQL


@dataclass(frozen=True)
class Receipt:
    index: int
    leaf_hash: str  # hex

    def as_dict(self) -> LedgerPlace:
        return {"ledger_index": self.index, "leaf_hash": self.leaf_hash}


# Built once: building a statement costs more than running it on an indexed column.
_MAX_INDEX = select(func.max(t.ledger_entries.c.idx))
_INSERT_ENTRIES = t.ledger_entries.insert()
_INSERT_NODES = t.ledger_nodes.insert()
_INSERT_CONTENTS = t.ledger_contents.insert()


def size(conn: Connection) -> int:
    """The number of entries in the ledger as this transaction sees it."""
    n = conn.execute(_MAX_INDEX).scalar()
    return 0 if n is None else int(n) + 1


def nodes(conn: Connection, wanted: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The stored hashes of these complete aligned subtrees ``(level, pos)``, in one query.

    Raises IntegrityError (``ledger.node_missing``) if one is not stored: the
    tree tables were damaged, since every complete subtree is written with the
    leaf that completes it.
    """
    if not wanted:
        return {}
    keys = sorted(set(wanted))
    params = {}
    for i, (level, pos) in enumerate(keys):
        params[f"l{i}"], params[f"p{i}"] = level, pos
    rows = conn.execute(_nodes_query(len(keys)), params).all()
    found = {(int(r.level), int(r.pos)): bytes(r.hash) for r in rows}
    missing = [w for w in wanted if w not in found]
    if missing:
        raise IntegrityError(
            code="ledger.node_missing",
            message=f"the ledger is missing stored subtree hashes {missing[:5]}; restore it from a backup",
        )
    return found


@cache
def _nodes_query(count: int) -> TextClause:
    # An OR of primary-key lookups, as fixed text so its compiled form is cached: SQLite
    # scans the whole table for a row-value IN, and building expressions costs more than the query.
    where = " OR ".join(f"(level = :l{i} AND pos = :p{i})" for i in range(count))
    return text(f"SELECT level, pos, hash FROM ledger_nodes WHERE {where}")


def append(conn: Connection, entry: NewEntry) -> Receipt:
    """Append ``entry`` as the next leaf, in the caller's transaction."""
    return append_many(conn, [entry])[0]


def append_many(conn: Connection, entries: Sequence[NewEntry]) -> list[Receipt]:
    """Append each entry, in order, as the next leaves, in the caller's transaction.

    Only the committed form is hashed and published; a plain dict is refused, since
    it would publish whatever it holds.
    """
    if not entries:
        return []
    for entry in entries:
        if not isinstance(entry, NewEntry):
            raise TypeError(
                f"a ledger entry must be built by xuncha_core.ledger_entries, not given as {type(entry).__name__}"
            )
    if not is_sqlite(conn):
        # SQLite writers already hold the database lock (BEGIN IMMEDIATE).
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LEDGER_LOCK})")
    start = size(conn)
    edge_keys = aligned_nodes(0, start)
    stored = nodes(conn, edge_keys)
    edge = [(level, stored[(level, pos)]) for level, pos in edge_keys]
    now = clock.timestamp()
    entry_rows: list[dict[str, Any]] = []
    content_rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    receipts: list[Receipt] = []
    for index, entry in enumerate(entries, start):
        text = canonical_text(entry.committed)
        leaf = leaf_hash(text.encode("utf-8"))
        entry_rows.append({"idx": index, "entry": text, "leaf_hash": leaf, "created_at": now})
        content_rows.append(
            {
                "idx": index,
                "type": entry.type,
                "record_id": entry.record_id,
                "content": entry.content_text,
                "salt": entry.salt,
                "legacy": False,
            }
        )
        node_rows.append({"level": 0, "pos": index, "hash": leaf})
        level, current = 0, leaf
        while (index >> level) & 1:  # this leaf completes the subtree (level + 1, index >> (level + 1))
            _, left = edge.pop()
            current = node_hash(left, current)
            level += 1
            node_rows.append({"level": level, "pos": index >> level, "hash": current})
        edge.append((level, current))
        receipts.append(Receipt(index=index, leaf_hash=leaf.hex()))
    conn.execute(_INSERT_ENTRIES, entry_rows)
    conn.execute(_INSERT_CONTENTS, content_rows)
    conn.execute(_INSERT_NODES, node_rows)
    return receipts
