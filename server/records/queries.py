"""Reading records: heads, revisions with their receipts, reviews, and the photos still missing.

``photos_missing`` is computed on every read by joining a revision's photo references
with the photos kept, so there is no counter to drift. Who may read which record is
``server.accounts.access``'s to say; these functions answer what the caller may see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Row, and_, select

from server.accounts import access
from server.accounts.accounts import Actor
from server.infra import tables as t
from xuncha_core.errors import NotFoundError
from xuncha_core.receipts import RecordReceipt, record_receipt


def missing_photos(conn: Connection, *, record_id: str, revision: int) -> list[str]:
    """The photos this revision refers to that the server does not hold yet, sorted."""
    return missing_photos_of(conn, [(record_id, revision)]).get((record_id, revision), [])


def missing_photos_of(conn: Connection, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    """For many revisions at once: (record_id, revision) → missing photo hashes (absent if none)."""
    keys = list(keys)
    out: dict[tuple[str, int], list[str]] = {}
    if not keys:
        return out
    rp, ph = t.record_photos, t.photos
    ids = sorted({k[0] for k in keys})
    wanted = set(keys)
    rows = conn.execute(
        select(rp.c.record_id, rp.c.revision, rp.c.sha256)
        .select_from(rp.outerjoin(ph, ph.c.sha256 == rp.c.sha256))
        .where(rp.c.record_id.in_(ids), ph.c.sha256.is_(None))
        .order_by(rp.c.sha256)
    ).all()
    for r in rows:
        if (r.record_id, r.revision) in wanted:
            out.setdefault((r.record_id, r.revision), []).append(r.sha256)
    return out


def get_record(conn: Connection, *, record_id: str, actor: Actor) -> dict[str, Any]:
    """The record's head, every revision (envelope and receipt), its reviews and missing photos."""
    head = conn.execute(select(t.records).where(t.records.c.record_id == record_id)).first()
    if head is None:
        raise NotFoundError("record.not_found", f"No record {record_id} on the server.", "服务器上没有该记录。")
    if not access.may_read_record(actor, author=head.author):
        raise access.record_forbidden()
    revisions = conn.execute(
        select(t.record_revisions)
        .where(t.record_revisions.c.record_id == record_id)
        .order_by(t.record_revisions.c.revision)
    ).all()
    missing = missing_photos_of(conn, [(record_id, r.revision) for r in revisions])
    reviews = conn.execute(
        select(t.reviews).where(t.reviews.c.record_id == record_id).order_by(t.reviews.c.id)
    ).all()
    return {
        **head_dict(head),
        "photos_missing": missing.get((record_id, head.head_revision), []),
        "revisions": [
            {
                "envelope": json.loads(r.envelope),
                "receipt": receipt_of(r, missing.get((record_id, r.revision), []), replayed=False),
            }
            for r in revisions
        ],
        "reviews": [review_dict(r) for r in reviews],
    }


def list_records(
    conn: Connection,
    *,
    author: str | None = None,
    village_id: str | None = None,
    month: str | None = None,
    kind: str | None = None,
    review_state: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    """Record heads, newest change first, with their head envelope and missing photos.

    ``after`` is the ``next`` cursor of the previous page.
    """
    r, rv = t.records, t.record_revisions
    q = select(r, rv.c.envelope).join(
        rv, and_(rv.c.record_id == r.c.record_id, rv.c.revision == r.c.head_revision)
    )
    for column, value in ((r.c.author, author), (r.c.village_id, village_id), (r.c.month, month),
                          (r.c.kind, kind), (r.c.review_state, review_state)):
        if value is not None:
            q = q.where(column == value)
    if after:
        updated_at, _, record_id = after.partition("|")
        q = q.where((r.c.updated_at < updated_at) | ((r.c.updated_at == updated_at) & (r.c.record_id < record_id)))
    rows = conn.execute(q.order_by(r.c.updated_at.desc(), r.c.record_id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    missing = missing_photos_of(conn, [(x.record_id, x.head_revision) for x in rows])
    return {
        "records": [
            {
                **head_dict(x),
                "envelope": json.loads(x.envelope),
                "photos_missing": missing.get((x.record_id, x.head_revision), []),
            }
            for x in rows
        ],
        "next": f"{rows[-1].updated_at}|{rows[-1].record_id}" if more else None,
    }


def head_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "record_id": row.record_id,
        "kind": row.kind,
        "head_revision": row.head_revision,
        "author": row.author,
        "village_id": row.village_id,
        "month": row.month,
        "first_received_at": row.first_received_at,
        "updated_at": row.updated_at,
        "review_state": row.review_state,
    }


def review_dict(row: Row[Any]) -> dict[str, Any]:
    return {
        "review_id": row.id,
        "record_id": row.record_id,
        "revision": row.revision,
        "action": row.action,
        "reason": row.reason,
        "reviewer": row.reviewer,
        "at": row.created_at,
        "ledger_index": row.ledger_index,
    }


def receipt_of(row: Row[Any], missing: list[str], *, replayed: bool) -> RecordReceipt:
    return record_receipt(
        record_id=row.record_id,
        revision=row.revision,
        digest=row.digest,
        received_at=row.received_at,
        place={"ledger_index": row.ledger_index, "leaf_hash": row.leaf_hash},
        photos_missing=missing,
        replayed=replayed,
    )
