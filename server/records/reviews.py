"""Review decisions on records: approve, send back (with a reason), reject (with a reason), comment.

Who takes which step, in which order, is ``xuncha_core.review_flow``: the office decides
first; a major enforcement decision the office approved waits in ``legal_review`` for a
legal reviewer's sign-off before it takes effect; a comment changes nothing (issue 10).

A decision names the revision it judged, which must be the record's head: a
reviewer who looked at an older revision gets 409 ``review.stale_revision`` and
looks again. Each decision is a ``review.recorded`` ledger entry, updates the
record's ``review_state``, and, once it takes effect (approved, sent back, rejected),
becomes a ``review`` row in the pull feed that only the record's author receives, so her
phone learns it on its next sync.

Sending the same decision twice (a retried request) records it once.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from server import ledger
from server.accounts.accounts import Actor
from server.infra import clock
from server.infra import tables as t
from server.infra.db import inserted_id
from server.records.queries import review_dict
from server.reference import feed as changes
from xuncha_core import ledger_entries, review_flow
from xuncha_core.errors import ConflictError, NotFoundError, ValidationError

ACTIONS_ZH = {"approve": "通过", "send_back": "退回", "reject": "不予通过", "comment": "备注"}
ACTIONS = tuple(ACTIONS_ZH)
EFFECTIVE = frozenset({review_flow.APPROVED, review_flow.SENT_BACK, review_flow.REJECTED})
MAX_REASON = 2000


def record_review(
    conn: Connection,
    *,
    record_id: str,
    revision: int,
    action: str,
    reason: str | None,
    reviewer: Actor,
    at: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Record a decision on the head revision; answer (201, review) or (200, the same earlier review).

    ``at`` is the server's time of the decision; only seeded history (demo data) passes one.
    """
    reason = _checked_reason(action, reason)
    head = conn.execute(select(t.records).where(t.records.c.record_id == record_id)).first()
    if head is None:
        raise NotFoundError("record.not_found", f"No record {record_id} on the server.", "服务器上没有该记录。")
    if revision != head.head_revision:
        raise ConflictError(
            "review.stale_revision",
            f"You reviewed revision {revision}, but the record is now at revision {head.head_revision}. "
            "Open it again and review the latest revision.",
            f"您审核的是第 {revision} 版，但该记录已更新到第 {head.head_revision} 版，请重新打开并审核最新版本。",
            {"head_revision": head.head_revision},
        )
    last = conn.execute(
        select(t.reviews).where(t.reviews.c.record_id == record_id).order_by(t.reviews.c.id.desc()).limit(1)
    ).first()
    if last is not None and (last.revision, last.action, last.reason, last.reviewer) == (
        revision, action, reason, reviewer.username
    ):
        leaf = conn.execute(
            select(t.ledger_entries.c.leaf_hash).where(t.ledger_entries.c.idx == last.ledger_index)
        ).scalar_one()
        return 200, {**review_dict(last), "leaf_hash": bytes(leaf).hex(), "review_state": head.review_state, "replayed": True}
    state = review_flow.next_state(state=head.review_state, action=action, role=reviewer.role, major=_major(conn, head))
    decision, leaf_hash = _record(conn, record_id, revision, action, reason, reviewer, at or clock.timestamp(), state)
    if action != review_flow.COMMENT and state in EFFECTIVE:
        changes.publish(conn, topic="review", key=record_id, payload={**decision, "review_state": state}, audience=head.author)
    return 201, {**decision, "leaf_hash": leaf_hash, "review_state": state, "replayed": False}


def _checked_reason(action: str, reason: str | None) -> str | None:
    """The reason, trimmed (None if empty); refuses an unknown action or a reason that is missing or unfit."""
    if action not in ACTIONS:
        raise ValidationError(
            "review.bad_action",
            f"action must be one of {', '.join(ACTIONS)}",
            "审核操作必须是：通过、退回、不予通过或备注。",
        )
    reason = (reason or "").strip() or None
    if reason is None and action != "approve":
        raise ValidationError(
            "review.reason_required",
            f"Say why: a reason is required to {action.replace('_', ' ')} a record.",
            f"请填写理由：{ACTIONS_ZH[action]}记录时必须说明理由。",
        )
    if reason is not None and ("\x00" in reason or len(reason) > MAX_REASON):
        raise ValidationError(
            "review.bad_reason",
            f"The reason must be plain text of at most {MAX_REASON} characters.",
            f"理由须为不超过 {MAX_REASON} 字的文字。",
        )
    return reason


def _major(conn: Connection, head: Any) -> bool:
    """Whether the record is a major enforcement decision (``review_flow.is_major``), from its head."""
    if head.kind not in review_flow.DECISION_KINDS:
        return False
    rv = t.record_revisions
    envelope = conn.execute(
        select(rv.c.envelope).where(rv.c.record_id == head.record_id, rv.c.revision == head.head_revision)
    ).scalar_one()
    return review_flow.is_major(head.kind, json.loads(envelope).get("content") or {})


def _record(
    conn: Connection, record_id: str, revision: int, action: str, reason: str | None, reviewer: Actor, at: str, state: str
) -> tuple[dict[str, Any], str]:
    """Append the review's ledger entry, its row and the record's new state; the decision and its leaf hash."""
    entry = ledger_entries.review_recorded(
        record_id=record_id, revision=revision, action=action, reason=reason, reviewer=reviewer.username, at=at
    )
    receipt = ledger.append(conn, entry)
    review_id = inserted_id(
        conn.execute(
            t.reviews.insert().values(
                record_id=record_id,
                revision=revision,
                action=action,
                reason=reason,
                reviewer=reviewer.username,
                created_at=at,
                ledger_index=receipt.index,
            )
        )
    )
    conn.execute(
        t.records.update().where(t.records.c.record_id == record_id).values(review_state=state, updated_at=at)
    )
    decision = {
        "review_id": int(review_id),
        "record_id": record_id,
        "revision": revision,
        "action": action,
        "reason": reason,
        "reviewer": reviewer.username,
        "at": at,
        "ledger_index": receipt.index,
    }
    return decision, receipt.leaf_hash
