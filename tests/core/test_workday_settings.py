"""The office adds next year's working-day schedule as a setting; both sides fold it in (issue 10)."""

from __future__ import annotations

from datetime import date

import pytest

from xuncha_core.errors import ValidationError
from xuncha_core.workday_settings import calendar_with, parse_schedule

SCHEDULE_2027 = {"year": 2027, "holidays": ["2027-01-01", "2027-02-06..2027-02-12"], "makeup_workdays": ["2027-02-14"]}


def test_a_year_added_by_the_office_counts_its_holidays_and_make_up_days() -> None:
    calendar = calendar_with([SCHEDULE_2027])
    assert 2027 in calendar.years
    assert not calendar.is_working_day(date(2027, 2, 8))  # a Monday inside the spring festival span
    assert calendar.is_working_day(date(2027, 2, 14))  # a Sunday worked


def test_a_schedule_with_mistakes_names_each_one() -> None:
    with pytest.raises(ValidationError) as bad:
        parse_schedule({"year": 2027, "holidays": ["2027-13-01", "2026-05-01"], "makeup_workdays": ["2027-02-15"]})
    codes = {p.code for p in bad.value.problems}
    assert codes == {"calendar.bad_date", "calendar.other_year", "calendar.weekday_makeup"}


def test_an_invalid_setting_leaves_the_calendar_as_it_was() -> None:
    assert 2027 not in calendar_with([{"year": 2027, "holidays": "x", "makeup_workdays": []}]).years
