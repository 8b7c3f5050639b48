"""Rectification orders: deadlines in calendar and Chinese working days, and open/overdue/closed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ROOT
from xuncha_core.content import validate_content
from xuncha_core.errors import ValidationError
from xuncha_core.points import points_json
from xuncha_core.rectification import (
    CLOSED,
    OPEN,
    OVERDUE,
    closes_order,
    deadline_after,
    draft_orders,
    open_orders,
    order_state,
    order_statuses,
)
from xuncha_core.scoring import DeadlineRule, Deduction, deduction_points, parse_sheet, score_check
from xuncha_core.workdays import CHINA

SHEET = parse_sheet(
    json.loads((ROOT / "assets/config/scoring_sheet.sample.json").read_text(encoding="utf-8"))
)
SHA = "ab" * 32


def days(n: int, basis: str = "calendar") -> DeadlineRule:
    return DeadlineRule(days=n, basis=basis)


# --- calendar-day deadlines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check_day", "n", "due"),
    [
        ("2025-01-28", 7, "2025-02-04"),  # across a month end
        ("2025-12-28", 7, "2026-01-04"),  # across a year end
        ("2024-02-26", 5, "2024-03-02"),  # through 29 February
        ("2025-02-26", 5, "2025-03-03"),
        ("2031-06-01", 0, "2031-06-01"),  # same-day order, in a year no calendar knows
    ],
)
def test_calendar_day_deadlines_cross_month_and_year_ends(check_day, n, due):
    assert deadline_after(date.fromisoformat(check_day), days(n)) == date.fromisoformat(due)


# --- working-day deadlines (调休) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("check_day", "n", "due"),
    [
        ("2025-01-24", 1, "2025-01-26"),  # Sunday 26 January 2025 was a make-up workday
        (
            "2025-01-24",
            3,
            "2025-02-05",
        ),  # then 27 Jan, then nothing until after the Spring Festival
        ("2025-02-07", 1, "2025-02-08"),  # Saturday 8 February 2025 was worked
        ("2025-09-26", 5, "2025-10-10"),  # 28 Sep (Sun) worked; 1–8 October off
        ("2025-10-08", 2, "2025-10-10"),
        ("2025-10-10", 1, "2025-10-11"),  # Saturday 11 October 2025 was worked
        ("2025-12-29", 5, "2026-01-06"),  # across the year: 1–3 Jan 2026 off, Sunday 4 Jan worked
        ("2024-12-30", 3, "2025-01-03"),  # 1 Jan 2025 (a Wednesday) off, no make-up day
        ("2026-02-13", 1, "2026-02-14"),  # Saturday 14 February 2026 worked
        ("2026-02-13", 2, "2026-02-24"),  # 15–23 February 2026 off
        ("2024-05-10", 1, "2024-05-11"),  # Saturday 11 May 2024 worked
        ("2025-04-03", 1, "2025-04-07"),  # Qingming, 4–6 April 2025
        ("2025-03-14", 5, "2025-03-21"),  # an ordinary week: Monday to Friday
    ],
)
def test_working_day_deadlines_follow_the_official_schedule(check_day, n, due):
    assert deadline_after(date.fromisoformat(check_day), days(n, "working")) == date.fromisoformat(
        due
    )


@pytest.mark.parametrize(("year", "working_days"), [(2024, 251), (2025, 248), (2026, 248)])
def test_each_encoded_year_has_its_published_number_of_working_days(year, working_days):
    assert CHINA.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == working_days


def test_a_working_day_deadline_in_a_year_with_no_schedule_is_refused_not_guessed():
    with pytest.raises(ValidationError) as err:
        deadline_after(date(2026, 12, 28), days(5, "working"))
    assert err.value.code == "calendar.year_unknown"
    [problem] = err.value.problems
    assert "2027" in problem.message and "2027" in problem.message_zh


def test_a_deployment_can_add_next_years_schedule():
    cal = CHINA.with_year(2027, holidays=[date(2027, 1, 1)], makeup_workdays=[date(2027, 1, 2)])
    assert deadline_after(date(2026, 12, 31), days(1, "working"), cal) == date(2027, 1, 2)
    with pytest.raises(ValueError):
        CHINA.with_year(
            2027, holidays=[], makeup_workdays=[date(2027, 1, 4)]
        )  # a Monday is no make-up day


@given(st.dates(date(2024, 1, 1), date(2026, 9, 30)), st.integers(1, 60))
def test_the_nth_working_day_is_a_working_day_and_exactly_n_working_days_away(start, n):
    due = CHINA.add_working_days(start, n)
    assert CHINA.is_working_day(due)
    assert CHINA.working_days_between(start, due) == n
    assert CHINA.working_days_between(start, due - timedelta(days=1)) == n - 1
    assert due - start >= timedelta(days=n)


# --- drafting orders from findings ------------------------------------------------------------


def finding(n: int, item_id: str, rule_id: str, count: int = 1) -> dict[str, Any]:
    return {
        "deduction_id": f"00000000-0000-0000-0000-{n:012d}",
        "item_id": item_id,
        "rule_id": rule_id,
        "count": count,
        "points": points_json(
            deduction_points(SHEET.item(item_id), SHEET.rule(item_id, rule_id), count)
        ),
        "note": "",
        "photos": [SHA],
        "location": None,
    }


def test_findings_become_one_order_per_item_due_by_the_strictest_rule():
    findings = [
        finding(1, "bins", "dirty_collection_point"),  # sheet default: 7 calendar days
        finding(2, "roads", "roadside_litter", 2),
        finding(3, "bins", "overflowing_bin", 3),  # 2 calendar days
        finding(4, "illegal_dumping", "construction_waste"),  # 5 working days
    ]
    ids = iter(f"00000000-0000-0000-0001-{n:012d}" for n in range(10))
    orders = draft_orders(
        SHEET,
        findings,
        check_date=date(2025, 9, 26),
        responsible="冯家村村委会",
        new_id=lambda: next(ids),
    )
    assert [(o["title"], o["deduction_ids"], o["deadline"]) for o in orders] == [
        (
            "垃圾桶（箱）及收集点整改",
            [findings[0]["deduction_id"], findings[2]["deduction_id"]],
            "2025-09-28",
        ),
        ("道路清扫保洁整改", [findings[1]["deduction_id"]], "2025-10-03"),
        ("乱堆乱放整改", [findings[3]["deduction_id"]], "2025-10-10"),  # 28 Sep worked, 1–8 Oct off
    ]
    assert "垃圾桶满溢 3 个" in orders[0]["description"]
    content = {
        "village_id": "v1",
        "month": "2025-09",
        "sheet_id": SHEET.id,
        "sheet_version": SHEET.version,
        "inspected_at": "2025-09-26T10:00:00+08:00",
        "recorder": "冉红梅",
        "location": None,
        "deductions": findings,
        "cleaner_ratings": [],
        "total_score": points_json(
            score_check(
                SHEET, [Deduction(f["item_id"], f["rule_id"], f["count"]) for f in findings]
            ).total
        ),
        "orders": orders,
    }
    assert validate_content("remediation_check", content, sheet=SHEET) == []


# --- open, overdue, closed --------------------------------------------------------------------


def test_an_order_is_open_through_its_deadline_day_and_overdue_the_day_after():
    deadline = date(2025, 3, 21)
    assert order_state(deadline, closed=False, today=date(2025, 3, 21)) == OPEN
    assert order_state(deadline, closed=False, today=date(2025, 3, 22)) == OVERDUE
    assert order_state(deadline, closed=True, today=date(2025, 4, 30)) == CLOSED


CHECK_A = "11111111-1111-4111-8111-111111111111"
CHECK_B = "22222222-2222-4222-8222-222222222222"
ORDER_1 = "aaaaaaaa-0000-4000-8000-000000000001"
ORDER_2 = "aaaaaaaa-0000-4000-8000-000000000002"
ORDER_3 = "aaaaaaaa-0000-4000-8000-000000000003"


def check_with(village: str, *orders: tuple[str, str]) -> dict[str, Any]:
    return {
        "village_id": village,
        "month": "2025-03",
        "orders": [
            {
                "order_id": oid,
                "title": f"order {oid[-1]}",
                "description": "",
                "deduction_ids": [],
                "deadline": due,
                "responsible": "村委会",
            }
            for oid, due in orders
        ],
    }


def recheck_of(
    check_id: str,
    order_id: str,
    *,
    resolved: bool = True,
    photos: int = 1,
    at: str = "2025-03-20T15:00:00+08:00",
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "check_record_id": check_id,
        "resolved": resolved,
        "after_photos": [SHA] * photos,
        "rechecked_at": at,
    }


CHECKS = [
    (CHECK_A, check_with("village-b", (ORDER_1, "2025-03-21"), (ORDER_2, "2025-03-18"))),
    (CHECK_B, check_with("village-a", (ORDER_3, "2025-03-25"), (ORDER_1, "2025-03-18"))),
]


def test_a_resolved_recheck_with_an_after_photo_closes_the_order_even_when_late():
    statuses = order_statuses(
        CHECKS,
        [("r1", recheck_of(CHECK_A, ORDER_2, at="2025-03-19T08:00:00+08:00"))],
        today=date(2025, 3, 22),
    )
    closed = next(s for s in statuses if s.order_id == ORDER_2)
    assert (closed.state, closed.closed_by, closed.closed_on, closed.closed_late) == (
        CLOSED,
        "r1",
        date(2025, 3, 19),
        True,
    )


@pytest.mark.parametrize(
    "recheck",
    [recheck_of(CHECK_A, ORDER_2, resolved=False), recheck_of(CHECK_A, ORDER_2, photos=0)],
)
def test_a_recheck_without_resolution_or_without_an_after_photo_does_not_close(recheck):
    assert not closes_order(recheck)
    statuses = order_statuses(CHECKS, [("r1", recheck)], today=date(2025, 3, 22))
    assert next(s for s in statuses if s.order_id == ORDER_2).state == OVERDUE


def test_a_recheck_closes_only_the_order_of_its_own_check():
    # ORDER_1 appears in both checks; the re-check names check B
    statuses = order_statuses(
        CHECKS, [("r1", recheck_of(CHECK_B, ORDER_1))], today=date(2025, 3, 20)
    )
    states = {(s.check_record_id, s.order_id): s.state for s in statuses}
    assert states[(CHECK_B, ORDER_1)] == CLOSED
    assert states[(CHECK_A, ORDER_1)] == OPEN


def test_open_orders_are_listed_soonest_deadline_first_with_days_left():
    pending = open_orders(CHECKS, [("r1", recheck_of(CHECK_A, ORDER_2))], today=date(2025, 3, 20))
    assert [(s.check_record_id, s.order_id, s.state, s.days_left) for s in pending] == [
        (CHECK_B, ORDER_1, OVERDUE, -2),
        (CHECK_A, ORDER_1, OPEN, 1),
        (CHECK_B, ORDER_3, OPEN, 5),
    ]


@given(st.dates(date(2025, 1, 1), date(2025, 12, 31)))
def test_the_same_orders_on_any_day_are_either_closed_or_due_relative_to_that_day(today):
    for s in order_statuses(CHECKS, [], today=today):
        assert s.days_left == (s.deadline - today).days
        assert s.state == (OVERDUE if s.days_left < 0 else OPEN)
