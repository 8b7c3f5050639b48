"""Rectification orders (整改通知): drafted from a check's findings, given a deadline, closed by a re-check.

An order lives inside the ``remediation_check`` that raised it (``orders`` in
its content, see ``content``); a ``recheck`` record names the order it
re-checks. An order's state on a given day:

    closed    a re-check of it has ``resolved`` true and at least one "after" photo
    overdue   not closed, and today is after its deadline
    open      otherwise

``today`` is always a parameter, so the same answer comes out on the phone,
on the server and in a test. Deadlines count calendar days after the check
by default; a sheet may ask for working days per rule, item or sheet (see
``sheet.DeadlineRule``), counted with the Chinese calendar in ``workdays``.

A working-day deadline that reaches a year the calendar has no schedule for is
never refused: ``deadline_for`` counts that year Monday to Friday and marks the
answer an estimate (预计). Such an order carries ``deadline_estimate``
(``{"working_days": n}``, how many working days after the check it stands for);
``settle_estimates`` makes it exact once the calendar knows every year it reaches,
and answers what changed so that the phone can say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from xuncha_core.scoring import DeadlineRule, ScoringSheet
from xuncha_core.workdays import CHINA, WorkCalendar

OPEN, OVERDUE, CLOSED = "open", "overdue", "closed"


def deadline_after(check_date: date, rule: DeadlineRule, calendar: WorkCalendar = CHINA) -> date:
    """The last day to fix a finding made on ``check_date`` under ``rule``.

    Working-day deadlines raise ValidationError (``calendar.year_unknown``) when
    the calendar lacks a year they reach.
    """
    if rule.basis == "working":
        return calendar.add_working_days(check_date, rule.days)
    return check_date + timedelta(days=rule.days)


ESTIMATE = "deadline_estimate"


@dataclass(frozen=True)
class Deadline:
    """A deadline, and whether it is an estimate (a year it reaches had no schedule)."""

    day: date
    estimated: bool = False
    working_days: int | None = None  # for a working-day rule: how many it counts

    def order_fields(self) -> dict[str, Any]:
        """What an order records of it: the deadline, and ``deadline_estimate`` when estimated."""
        fields: dict[str, Any] = {"deadline": self.day.isoformat()}
        if self.estimated:
            fields[ESTIMATE] = {"working_days": self.working_days}
        return fields


def deadline_for(check_date: date, rule: DeadlineRule, calendar: WorkCalendar = CHINA) -> Deadline:
    """``deadline_after`` that never refuses: an unknown year is counted Monday to Friday
    and the answer is marked an estimate."""
    if rule.basis != "working":
        return Deadline(check_date + timedelta(days=rule.days))
    day, guessed = calendar.estimate_working_days(check_date, rule.days)
    return Deadline(day, guessed, rule.days)


@dataclass(frozen=True)
class DeadlineChange:
    """An estimated deadline made exact: the order, the day it was and the day it is now."""

    order_id: str
    was: date
    now: date

    def as_dict(self) -> dict[str, str]:
        return {"order_id": self.order_id, "was": self.was.isoformat(), "now": self.now.isoformat()}


def settle_estimates(
    orders: Iterable[dict[str, Any]], *, check_date: date, calendar: WorkCalendar
) -> list[DeadlineChange]:
    """Make exact, in place, each estimated deadline the calendar can now count exactly
    (dropping its ``deadline_estimate``); answer the orders whose day changed. An order
    whose estimate is malformed, or still reaches an unknown year, is left as it is."""
    changes = []
    for order in orders:
        estimate = order.get(ESTIMATE)
        days = estimate.get("working_days") if isinstance(estimate, dict) else None
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            continue
        day, guessed = calendar.estimate_working_days(check_date, days)
        if guessed:
            continue
        was = str(order.get("deadline") or "")
        del order[ESTIMATE]
        order["deadline"] = day.isoformat()
        if was != order["deadline"]:
            changes.append(DeadlineChange(str(order.get("order_id")), _parse_day(was) or day, day))
    return changes


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def draft_orders(
    sheet: ScoringSheet,
    deductions: Iterable[Mapping[str, Any]],
    *,
    check_date: date,
    responsible: str,
    calendar: WorkCalendar = CHINA,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[dict[str, Any]]:
    """Orders for a check's deductions, one per scoring item, in the sheet's item order.

    Each order lists its deductions and takes the earliest deadline among their
    rules (an estimate, with ``deadline_estimate``, when it reaches an unknown year). The result has the ``orders`` shape of remediation_check content;
    the supervisor may edit titles, descriptions and deadlines before saving.
    """
    by_item: dict[str, list[Mapping[str, Any]]] = {}
    for d in deductions:
        by_item.setdefault(str(d.get("item_id")), []).append(d)
    orders = []
    for item in sheet.items:
        found = by_item.get(item.id)
        if not found:
            continue
        lines: list[str] = []
        deadline: Deadline | None = None
        for d in found:
            rule = item.rule(str(d.get("rule_id")))
            if rule is None:
                continue
            count = d.get("count", 1)
            note = str(d.get("note") or "").strip()
            lines.append(f"{rule.name} {count} {rule.unit}" + (f"：{note}" if note else ""))
            due = deadline_for(check_date, sheet.deadline_for(item.id, rule.id), calendar)
            deadline = due if deadline is None or due.day < deadline.day else deadline
        if deadline is None:
            continue
        orders.append(
            {
                "order_id": new_id(),
                "title": f"{item.name}整改",
                "description": "；".join(lines),
                "deduction_ids": [str(d.get("deduction_id")) for d in found],
                **deadline.order_fields(),
                "responsible": responsible,
            }
        )
    return orders


@dataclass(frozen=True)
class OrderStatus:
    """Where one order stands on ``today``; ``days_left`` is negative once overdue."""

    order_id: str
    check_record_id: str
    village_id: str
    month: str
    title: str
    responsible: str
    deadline: date
    state: str
    days_left: int
    closed_on: date | None = None
    closed_by: str | None = None  # the record_id of the closing re-check

    @property
    def closed_late(self) -> bool:
        return self.closed_on is not None and self.closed_on > self.deadline


def order_state(deadline: date, *, closed: bool, today: date) -> str:
    """``closed`` wins; otherwise ``overdue`` strictly after the deadline day, else ``open``."""
    if closed:
        return CLOSED
    return OVERDUE if today > deadline else OPEN


def closes_order(recheck: Mapping[str, Any]) -> bool:
    """Whether re-check content closes its order: resolved, with at least one "after" photo."""
    photos = recheck.get("after_photos")
    return recheck.get("resolved") is True and isinstance(photos, list) and len(photos) > 0


def order_statuses(
    checks: Iterable[tuple[str, Mapping[str, Any]]],
    rechecks: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    today: date,
) -> list[OrderStatus]:
    """Every order of ``checks`` (``(record_id, content)`` pairs) with its state on ``today``.

    ``rechecks`` are ``(record_id, content)`` pairs of recheck records; the first
    closing re-check of an order (by its own date, then record id) closes it.
    A re-check names the check it belongs to, so an order id reused in another
    check is not closed by mistake.
    """
    closing: dict[tuple[str, str], tuple[date, str]] = {}
    for record_id, r in rechecks:
        if not closes_order(r):
            continue
        key = (str(r.get("check_record_id")), str(r.get("order_id")))
        when = (day_of(r.get("rechecked_at")) or date.max, record_id)
        if key not in closing or when < closing[key]:
            closing[key] = when
    statuses = []
    for record_id, check in checks:
        for o in check.get("orders") or []:
            deadline = date.fromisoformat(o["deadline"])
            closed = closing.get((record_id, o["order_id"]))
            statuses.append(
                OrderStatus(
                    order_id=o["order_id"],
                    check_record_id=record_id,
                    village_id=str(check.get("village_id", "")),
                    month=str(check.get("month", "")),
                    title=str(o.get("title", "")),
                    responsible=str(o.get("responsible", "")),
                    deadline=deadline,
                    state=order_state(deadline, closed=closed is not None, today=today),
                    days_left=(deadline - today).days,
                    closed_on=None if closed is None or closed[0] == date.max else closed[0],
                    closed_by=None if closed is None else closed[1],
                )
            )
    return statuses


def open_orders(
    checks: Iterable[tuple[str, Mapping[str, Any]]],
    rechecks: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    today: date,
) -> list[OrderStatus]:
    """The orders not yet closed (open or overdue), soonest deadline first, then village and order id."""
    pending = [s for s in order_statuses(checks, rechecks, today=today) if s.state != CLOSED]
    return sorted(pending, key=lambda s: (s.deadline, s.village_id, s.order_id))


def day_of(value: Any) -> date | None:
    """The local date of an ISO time as recorded (the clock of the place where it was taken)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None
