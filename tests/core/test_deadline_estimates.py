"""A working-day deadline in a year with no schedule is an estimate, never refused (issue 9)."""

from __future__ import annotations

from datetime import date

from xuncha_core.rectification import deadline_for, settle_estimates
from xuncha_core.scoring import DeadlineRule
from xuncha_core.workday_settings import calendar_with
from xuncha_core.workdays import CHINA

# The office's 2027 schedule as it might be published: 1-3 January off, Sunday 3 January
# is not a make-up day, Saturday 9 January is one (made up for the test, in the format).
SCHEDULE_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01..2027-01-03", "2027-02-06..2027-02-12"],
    "makeup_workdays": ["2027-01-09"],
}


def test_a_deadline_across_new_year_with_no_2027_schedule_is_counted_monday_to_friday_and_marked():
    # Monday 28 December 2026 + 5 working days: 29, 30, 31 Dec (2026 is known), then
    # Friday 1 Jan and Monday 4 Jan 2027 counted Monday to Friday.
    deadline = deadline_for(date(2026, 12, 28), DeadlineRule(5, "working"))
    assert deadline.day == date(2027, 1, 4)
    assert deadline.estimated
    assert deadline.order_fields() == {"deadline": "2027-01-04", "deadline_estimate": {"working_days": 5}}


def test_a_deadline_inside_known_years_is_exact():
    deadline = deadline_for(date(2026, 9, 28), DeadlineRule(5, "working"))
    assert not deadline.estimated
    assert deadline.day == CHINA.add_working_days(date(2026, 9, 28), 5)
    assert deadline.order_fields() == {"deadline": deadline.day.isoformat()}


def test_calendar_days_are_never_an_estimate():
    deadline = deadline_for(date(2026, 12, 28), DeadlineRule(7, "calendar"))
    assert (deadline.day, deadline.estimated) == (date(2027, 1, 4), False)


def test_once_the_office_adds_2027_the_estimate_becomes_exact_and_the_change_is_named():
    order = {"order_id": "o1", **deadline_for(date(2026, 12, 28), DeadlineRule(5, "working")).order_fields()}
    assert settle_estimates([order], check_date=date(2026, 12, 28), calendar=CHINA) == []  # still unknown
    assert order["deadline_estimate"] == {"working_days": 5}

    calendar = calendar_with([SCHEDULE_2027])
    [change] = settle_estimates([order], check_date=date(2026, 12, 28), calendar=calendar)
    # 29, 30, 31 Dec; 1-3 Jan off; Monday 4 and Tuesday 5 January.
    assert order == {"order_id": "o1", "deadline": "2027-01-05"}
    assert change.as_dict() == {"order_id": "o1", "was": "2027-01-04", "now": "2027-01-05"}
    assert settle_estimates([order], check_date=date(2026, 12, 28), calendar=calendar) == []


def test_an_estimate_that_lands_on_the_same_day_is_made_exact_without_a_change_to_report():
    order = {"order_id": "o2", "deadline": "2027-01-04", "deadline_estimate": {"working_days": 5}}
    same = calendar_with([{"year": 2027, "holidays": [], "makeup_workdays": []}])
    assert settle_estimates([order], check_date=date(2026, 12, 28), calendar=same) == []
    assert "deadline_estimate" not in order
