"""Her own record, as the server holds it, on every phone she signs in to; and the calendar.

**Her records.** Each sync pulls, page by page, the records she made in the last 12
months (and older checks whose rectification orders are still open), each as its head
revision with its receipt and its review decisions (``GET /api/v1/sync/own-records``).
They go into her history as accepted revisions (``source: "server"``), so home and
history show on a new phone what they showed on the old one. A revision this phone
already holds is not touched; a record with a revision in the outbox is left to the
push (the server judges which version stands); only the reviews are added. The page is
stored before its cursor, so a kill in between re-fetches one page, and storing a page
twice changes nothing. Photos do not come with them: thumbnails and full-size photos
are fetched when a screen shows them (``field_app.sync.photo_fetch``).

**The working-day calendar.** The office adds a year's schedule as the reference setting
``workdays-YYYY`` (``xuncha_core.workday_settings``); ``work_calendar`` folds the ones this
phone holds into the built-in calendar. When one arrives, each draft's estimated deadlines
(``deadline_estimate``, counted Monday to Friday) are made exact, and what changed is noted
on the draft as ``deadline_changes`` (``[{order_id, was, now}]``) for the form to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from field_app.store.partition import Partition
from xuncha_core import rectification, workday_settings
from xuncha_core.workdays import WorkCalendar

CURSOR = "own_records_cursor"
SETTINGS = "settings"
PENDING = "pending"
DEADLINE_CHANGES = "deadline_changes"


def review_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A review decision as the phone keeps it (the feed's payload without the record id)."""
    detail = {k: v for k, v in payload.items() if k not in ("record_id", "revision", "action", "reason")}
    return {**detail, "revision": payload.get("revision"), "action": payload.get("action"), "reason": payload.get("reason")}


def store_own_records(p: Partition, records: Iterable[Mapping[str, Any]], next_cursor: int) -> int:
    """Store one page of her records, then the cursor after it; answers how many revisions were new."""
    in_outbox = {item["record_id"] for item in p.work.raw_outbox()}
    pairs: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    reviews: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        envelope, receipt = record.get("envelope"), record.get("receipt")
        if not isinstance(envelope, dict) or not isinstance(envelope.get("record_id"), str):
            continue
        record_id, revision = envelope["record_id"], int(envelope.get("revision") or 0)
        if record_id not in in_outbox and not p.history.has_revision(record_id, revision):
            pairs.append((envelope, receipt if isinstance(receipt, dict) else None))
        held = p.reviews.get(PENDING, record_id) or []
        reviews[record_id] = [*held, *(review_of({**r, "record_id": record_id}) for r in record.get("reviews") or [])]
    if pairs:
        p.history.store_revisions(pairs, source="server")
    found = p.history.add_reviews_many({rid: rs for rid, rs in reviews.items() if rs})
    for record_id in found:
        if p.reviews.get(PENDING, record_id) is not None:
            p.reviews.delete(PENDING, record_id)
    p.settings.put(SETTINGS, CURSOR, int(next_cursor))
    return len(pairs)


def own_records_cursor(p: Partition) -> int:
    return int(p.settings.get(SETTINGS, CURSOR, 0) or 0)


def work_calendar(p: Partition) -> WorkCalendar:
    """The built-in calendar with every year the office added that this phone holds."""
    settings = p.reference.topic("setting")
    return workday_settings.calendar_with(
        v for k, v in settings.items() if k.startswith(workday_settings.KEY_PREFIX) and isinstance(v, dict)
    )


def brings_calendar(changes: Iterable[Mapping[str, Any]]) -> bool:
    return any(c.get("topic") == "setting" and str(c.get("key", "")).startswith(workday_settings.KEY_PREFIX) for c in changes)


def settle_draft_deadlines(p: Partition, calendar: WorkCalendar) -> list[str]:
    """Make exact the estimated deadlines of every draft the calendar can now count; answers
    the record ids of the drafts whose deadlines changed (noted on each draft)."""
    changed = []
    for record_id, raw in p.work.raw_drafts():
        orders = ((raw.get("content") or {}) if isinstance(raw, dict) else {}).get("orders") or []
        if not any(isinstance(o, dict) and rectification.ESTIMATE in o for o in orders):
            continue
        draft = p.work.get_draft(record_id)
        if draft is None:
            continue
        check_day = rectification.day_of(draft["content"].get("inspected_at"))
        if check_day is None:
            continue
        before = [dict(o) for o in draft["content"]["orders"]]
        found = rectification.settle_estimates(draft["content"]["orders"], check_date=check_day, calendar=calendar)
        if draft["content"]["orders"] == before:
            continue
        draft[DEADLINE_CHANGES] = [*(draft.get(DEADLINE_CHANGES) or []), *(c.as_dict() for c in found)]
        p.work.save_draft(draft)
        if found:
            changed.append(record_id)
    return changed

