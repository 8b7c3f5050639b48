"""Results are due on the public page within 20 working days, counted with holidays and make-up days."""

from __future__ import annotations

from datetime import date

from xuncha_core.inspections.publication import publication_due
from xuncha_core.workdays import CHINA


def test_twenty_working_days_across_national_day_count_the_make_up_weekend_days():
    # Friday 26 September 2025: Sunday 28 September and Saturday 11 October are working
    # days, 1-8 October are not. A plain Monday-to-Friday count would give 24 October.
    due = publication_due(date(2025, 9, 26))
    assert due.due == date(2025, 10, 30) and not due.estimated


def test_the_count_matches_the_working_day_calendar():
    assert CHINA.working_days_between(date(2025, 9, 26), date(2025, 10, 30)) == 20


def test_a_year_without_a_holiday_schedule_gives_an_estimate_that_says_so():
    due = publication_due(date(2026, 12, 20))
    assert due.estimated and due.due == date(2027, 1, 15)


def test_the_office_sees_what_is_due_overdue_and_late():
    due = publication_due(date(2025, 9, 26))
    assert due.status(date(2025, 10, 30)) == "due"
    assert due.status(date(2025, 10, 31)) == "overdue"
    assert due.status(date(2025, 11, 5), published_on=date(2025, 10, 29)) == "published"
    assert due.status(date(2025, 11, 5), published_on=date(2025, 10, 31)) == "published_late"
