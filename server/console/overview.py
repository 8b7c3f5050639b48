"""The dashboard's figures, from what the queries read: pure, so a test states them exactly.

Publication (一公开): an inspection result is published within 20 working days of being
produced (``xuncha_core.inspections.publication``); the dashboard counts the results not
published yet, still inside those days (``due``) or past them (``overdue``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from xuncha_core.rectification import CLOSED, OVERDUE, OrderStatus


@dataclass(frozen=True)
class Overview:
    submitted: int
    legal_review: int
    sent_back: int
    orders_open: int
    orders_overdue: int
    publication_due: int
    publication_overdue: int
    calendar_missing: int | None  # next year, when the calendar lacks it


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
    """The figures from record counts by review state, order statuses and publication statuses."""
    order_states = [o.state for o in orders]
    publication = list(publications)
    return Overview(
        submitted=states.get("submitted", 0),
        legal_review=states.get("legal_review", 0),
        sent_back=states.get("sent_back", 0),
        orders_open=sum(1 for s in order_states if s != CLOSED),
        orders_overdue=sum(1 for s in order_states if s == OVERDUE),
        publication_due=publication.count("due"),
        publication_overdue=publication.count("overdue"),
        calendar_missing=missing_calendar_year(today, known_years),
    )
