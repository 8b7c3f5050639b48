"""Her own record, for the phone she signs in to: ``GET /api/v1/sync/own-records?after=N``.

A field user's phone keeps her records in its history; a new phone (or one she signs in to
again) gets them from here, with their review state and reasons, so it shows the same home
and history as the old one. What is sent: each record she made whose month, or last change,
falls in the last 12 months, and any older check of hers that still has an open
rectification order; each as its head revision (envelope and receipt) with every review
decision on it. Photos are not: the phone asks for a thumbnail when it shows one.

Paging is by ledger index: every accepted revision and every review decision has one, in
commit order, so a record's last change is the largest index among its revisions and
reviews. A page holds the records whose last change is after ``after``, oldest change first;
``next`` is the last change the page looked at (send it back as ``after``), ``more`` says
whether more follow. A record that changes again comes again, at its new place. Only the
caller's own records are ever looked at (the author is the query's first condition).

``mine_since=M`` (optional) leaves out the revisions the calling device itself sent at
ledger index M or later: a phone that has just pushed them holds them already (issue 12:
a thousand pushed records were downloaded again, twenty pages, on a 2G link; the phone's
side is ``field_app.sync.engine``). They are left out only of what decides which records a
page holds and their order, never a review nor another device's revision: a record still
comes when anything else about it changed after ``after``, as its head, exactly as without
the parameter, and ``next``/``more`` page over the changes that count.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, func, or_, select, tuple_, union_all

from server.infra import tables as t
from server.records.queries import receipt_of, review_dict
from xuncha_core import rectification, review_flow

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
WINDOW_DAYS = 366


def own_records(
    conn: Connection,
    *,
    username: str,
    after: int,
    limit: int,
    today: date,
    device_id: str | None = None,
    mine_since: int | None = None,
) -> dict[str, Any]:
    """The next page of ``username``'s records (see the module doc): ``{records, next, more}``;
    with ``mine_since``, ``device_id``'s own revisions from that ledger index on do not count."""
    limit = max(1, min(limit, MAX_LIMIT))
    r, rv, rw = t.records, t.record_revisions, t.reviews
    revisions = (
        select(rv.c.record_id, rv.c.ledger_index.label("idx"))
        .join(r, r.c.record_id == rv.c.record_id)
        .where(r.c.author == username)
    )
    if mine_since is not None and device_id is not None:
        since = bindparam("mine_since", mine_since, type_=BigInteger)
        revisions = revisions.where(or_(rv.c.device_id != device_id, rv.c.ledger_index < since))
    touched = union_all(
        revisions,
        select(rw.c.record_id, rw.c.ledger_index.label("idx")).join(r, r.c.record_id == rw.c.record_id).where(r.c.author == username),
    ).subquery()
    last = func.max(touched.c.idx)
    rows = conn.execute(
        select(touched.c.record_id, last.label("idx"))
        .group_by(touched.c.record_id)
        .having(last > bindparam("after", after, type_=BigInteger))
        .order_by(last, touched.c.record_id)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [row.record_id for row in rows]
    return {
        "records": _records(conn, ids, username=username, today=today),
        "next": int(rows[-1].idx) if rows else after,
        "more": more,
    }


def _records(conn: Connection, ids: list[str], *, username: str, today: date) -> list[dict[str, Any]]:
    if not ids:
        return []
    r, rv = t.records, t.record_revisions
    heads = {row.record_id: row for row in conn.execute(select(r).where(r.c.record_id.in_(ids), r.c.author == username))}
    keys = [(rid, head.head_revision) for rid, head in heads.items()]
    revisions = {row.record_id: row for row in conn.execute(select(rv).where(tuple_(rv.c.record_id, rv.c.revision).in_(keys)))}
    reviews: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(select(t.reviews).where(t.reviews.c.record_id.in_(ids)).order_by(t.reviews.c.id)):
        reviews.setdefault(row.record_id, []).append(review_dict(row))
    cutoff = today - timedelta(days=WINDOW_DAYS)
    out = []
    rechecks: list[tuple[str, dict[str, Any]]] | None = None
    for rid in ids:
        head, revision = heads.get(rid), revisions.get(rid)
        if head is None or revision is None:
            continue
        envelope = json.loads(revision.envelope)
        if not _recent(head, cutoff):
            if head.kind != "remediation_check":
                continue
            rechecks = _rechecks(conn, username) if rechecks is None else rechecks
            if not rectification.open_orders([(rid, envelope["content"])], rechecks, today=today):
                continue
        out.append({
            "record_id": rid,
            "kind": head.kind,
            "review_state": head.review_state,
            "envelope": envelope,
            "receipt": dict(receipt_of(revision, [], replayed=False)),
            "reviews": with_states(reviews.get(rid, []), head),
        })  # fmt: skip
    return out


def with_states(reviews: list[dict[str, Any]], head: Any) -> list[dict[str, Any]]:
    """Each review with the ``review_state`` it left the record in (None for a comment): the
    record's own state for the last decision on its head revision; ``legal_review`` for an
    approval that another decision on the same revision followed (only the office's approval
    of a major decision is ever followed); else what the action decides. Issue 10: the phone
    showed a major decision approved before the legal reviewer had signed it off."""
    decisions = [r for r in reviews if r["action"] in review_flow.DECIDED]
    out = []
    for review in reviews:
        state = None
        if review in decisions:
            later = decisions[decisions.index(review) + 1:]
            followed = any(x["revision"] == review["revision"] for x in later)
            if review["revision"] == head.head_revision and not followed:
                state = head.review_state
            elif review["action"] == "approve" and followed:
                state = review_flow.LEGAL_REVIEW
            else:
                state = review_flow.DECIDED[review["action"]]
        out.append({**review, "review_state": state})
    return out


def _recent(head: Any, cutoff: date) -> bool:
    month = head.month if isinstance(head.month, str) else ""
    return month >= cutoff.isoformat()[:7] or str(head.updated_at)[:10] >= cutoff.isoformat()


def _rechecks(conn: Connection, username: str) -> list[tuple[str, dict[str, Any]]]:
    """Her re-checks' contents (their head revisions), to tell which old orders are still open."""
    r, rv = t.records, t.record_revisions
    rows = conn.execute(
        select(rv.c.record_id, rv.c.envelope)
        .join(r, (r.c.record_id == rv.c.record_id) & (r.c.head_revision == rv.c.revision))
        .where(r.c.author == username, r.c.kind == "recheck")
    )
    return [(row.record_id, json.loads(row.envelope)["content"]) for row in rows]
