"""The dashboard's figures, from what the queries read: pure, so a test states them exactly.

Publication (一公开): an inspection result is published within 20 working days of being
produced (企业信息公示暂行条例 art. 6), counted with the Chinese working-day calendar, so
a deadline in a year the calendar does not know is itself a warning, not a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from xuncha_core.errors import ValidationError
from xuncha_core.rectification import CLOSED, OVERDUE, OrderStatus
from xuncha_core.workdays import WorkCalendar

PUBLICATION_WORKING_DAYS = 20
DUE_SOON_WORKING_DAYS = 5
DUE, OVERDUE_PUB, LATER, UNKNOWN = "due", "overdue", "later", "unknown"


@dataclass(frozen=True)
class Overview:
    submitted: int
    legal_review: int
    sent_back: int
    orders_open: int
    orders_overdue: int
    publication_due: int
    publication_overdue: int
    publication_unknown: int
    calendar_missing: int | None  # next year, when the calendar lacks it


def publication_deadline(produced: date, calendar: WorkCalendar, days: int = PUBLICATION_WORKING_DAYS) -> date | None:
    """The last day to publish a result produced on ``produced``; None when the calendar lacks a year it reaches."""
    try:
        return calendar.add_working_days(produced, days)
    except ValidationError:
        return None


def publication_standing(
    deadline: date | None, today: date, calendar: WorkCalendar, soon: int = DUE_SOON_WORKING_DAYS
) -> str:
    """``overdue`` past the deadline, ``due`` within ``soon`` working days of it, else ``later``
    (``unknown`` when the deadline cannot be counted)."""
    if deadline is None:
        return UNKNOWN
    if today > deadline:
        return OVERDUE_PUB
    try:
        left = calendar.working_days_between(today, deadline)
    except ValidationError:
        return UNKNOWN
    return DUE if left <= soon else LATER


def missing_calendar_year(today: date, known_years: Iterable[int]) -> int | None:
    """Next year, if the working-day calendar does not know it yet (deadlines in December reach it)."""
    return None if today.year + 1 in set(known_years) else today.year + 1


def overview(
    states: Mapping[str, int],
    orders: Iterable[OrderStatus],
    publications: Iterable[str],
    *,
    today: date,
    known_years: Iterable[int],
) -> Overview:
    """The figures from record counts by review state, order statuses and publication standings."""
    order_states = [o.state for o in orders]
    standings = list(publications)
    return Overview(
        submitted=states.get("submitted", 0),
        legal_review=states.get("legal_review", 0),
        sent_back=states.get("sent_back", 0),
        orders_open=sum(1 for s in order_states if s != CLOSED),
        orders_overdue=sum(1 for s in order_states if s == OVERDUE),
        publication_due=standings.count(DUE),
        publication_overdue=standings.count(OVERDUE_PUB),
        publication_unknown=standings.count(UNKNOWN),
        calendar_missing=missing_calendar_year(today, known_years),
    )
