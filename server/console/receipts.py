"""Ledger receipts checked by the server before a page shows them.

For each revision's receipt the server reads the entry's leaf, proves its inclusion in
the ledger as it stands now (RFC 9162) and checks the proof against the root it computes
from the stored tree; the page shows the result, not only the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from server.ledger import proofs, store
from xuncha_core import merkle
from xuncha_core.errors import IntegrityError


@dataclass(frozen=True)
class CheckedReceipt:
    revision: int
    index: int
    size: int
    root: str
    leaf_hash: str
    ok: bool


def verified_receipts(conn: Connection, receipts: list[dict[str, Any]]) -> list[CheckedReceipt]:
    size = store.size(conn)
    root = proofs.root_at(conn, size)
    out = []
    for r in receipts:
        index = int(r["ledger_index"])
        found = proofs.entry(conn, index)
        ok = found is not None and found.leaf_hash.hex() == r["leaf_hash"]
        if ok and found is not None:
            try:
                merkle.verify_inclusion(found.leaf_hash, index, size, proofs.inclusion_proof(conn, index, size), root)
            except IntegrityError:
                ok = False
        out.append(CheckedReceipt(int(r["revision"]), index, size, root.hex(), r["leaf_hash"], ok))
    return out
