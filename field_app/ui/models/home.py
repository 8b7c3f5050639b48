"""What home shows, from the store's plain dicts: no Flet here.

- ``todos``: the records the office sent back to her, newest first, with the reason: the
  first thing on home, each with a 去修改 button;
- ``village_statuses``: this month's check of each village in its exact state
  (草稿 / 待发送 / 已发送 / 法制审核中 / 已通过 / 被退回 / 已驳回, or not started);
- ``existing_check``: the check of a village and month she already has, so a second
  新建检查 opens it instead of starting a second draft (and a check is not moved onto it);
- ``sent_summary``: what the sync pass that just ended sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SENT_BACK = "sent_back"
# a state the record has on the phone -> the state shown (a pass pushing shows "sending")
HOME_STATES = ("draft", "waiting", "sending", "synced", "legal_review", "approved", "sent_back", "rejected", "error",
               "conflict")


@dataclass(frozen=True)
class Todo:
    """A record the office sent back: what she must fix, and whether she already began."""

    record_id: str
    kind: str
    village_id: str
    month: str
    reason: str
    started: bool  # she is editing it (a draft of the next revision exists)


def _sent_back_review(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    review = record.get("review") or {}
    if record.get("state") == SENT_BACK:
        return review
    # a draft of the next revision carries the review of the revision it fixes
    if (record.get("state") == "draft" and review.get("action") == "send_back"
            and review.get("revision") == record.get("synced_revision")):
        return review
    return None


def todos(records: Iterable[Mapping[str, Any]]) -> list[Todo]:
    """Her sent-back records (and the ones she is fixing), in the order given (newest first)."""
    out: list[Todo] = []
    seen: set[str] = set()
    for r in records:
        review = _sent_back_review(r)
        if review is None or r["record_id"] in seen:
            continue
        seen.add(r["record_id"])
        content = r.get("content") or {}
        out.append(Todo(record_id=str(r["record_id"]), kind=str(r.get("kind") or ""),
                        village_id=str(content.get("village_id") or r.get("village_id") or ""),
                        month=str(content.get("month") or r.get("month") or ""),
                        reason=str(review.get("reason") or ""), started=r.get("state") == "draft"))
    return out


def village_statuses(
    village_ids: Iterable[str], records: Iterable[Mapping[str, Any]], month: str
) -> list[tuple[str, str, str | None]]:
    """(village id, state, record id) for each village's check of ``month``; state is the
    record's own ("draft", "waiting", … "rejected") or "not_started". A draft wins over the
    revision it edits; otherwise the first record given (the newest) counts."""
    found: dict[str, tuple[str, str]] = {}
    for r in records:
        content = r.get("content") or {}
        if r.get("kind") != "remediation_check" or content.get("month") != month:
            continue
        vid = str(content.get("village_id") or "")
        state = str(r.get("state") or "draft")
        if vid not in found or (state == "draft" and found[vid][0] != "draft"):
            found[vid] = (state, str(r["record_id"]))
    out: list[tuple[str, str, str | None]] = []
    for vid in village_ids:
        state, rid = found.get(vid, ("not_started", ""))
        out.append((vid, state, rid or None))
    return out


def existing_check(records: Iterable[Mapping[str, Any]], village_id: str, month: str, *,
                   other_than: str | None = None) -> Mapping[str, Any] | None:
    """Her check of this village and month if she has one (a draft first), else None;
    ``other_than``: a record that does not count (the check being moved)."""
    mine = [r for r in records if r.get("kind") == "remediation_check" and r.get("record_id") != other_than
            and (r.get("content") or {}).get("village_id") == village_id
            and (r.get("content") or {}).get("month") == month]
    drafts = [r for r in mine if r.get("state") == "draft"]
    return (drafts or mine)[0] if mine else None


def sent_summary(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                 outbox_before: int, outbox_after: int) -> tuple[int, int] | None:
    """(records, photos) the pass that just ended sent, when a pass has just ended; else None."""
    if not before or not after or before.get("state") != "running" or after.get("state") == "running":
        return None
    progress = before.get("progress") or {}
    records = max(outbox_before - outbox_after, int(progress.get("records_done") or 0))
    return records, int(progress.get("photos_done") or 0)
