"""Chinese working days: Monday to Friday, minus public holidays, plus make-up workdays (调休).

Each year's schedule is set by the State Council's notice on public holidays
(国务院办公厅关于 20XX 年部分节假日安排的通知), published late in the year
before. A plain Monday-to-Friday count is wrong around every holiday: in 2025
Sunday 26 January and Saturday 8 February were working days, and the eight
days from 28 January were not. So only a year whose schedule is encoded here
(or supplied by the deployment through ``WorkCalendar.with_year``) can be
counted exactly; ``is_working_day`` and ``add_working_days`` raise ``ValidationError``
with code ``calendar.year_unknown`` for any other year rather than silently counting
Monday to Friday. ``estimate_working_days`` is the one that never refuses: it counts an
unknown year Monday to Friday and says so (an estimate, 预计), for a deadline that must
be given today and made exact when the year's schedule arrives.

Encoded from the notices: 2024 (published 2023-10-25), 2025 (国办发明电〔2024〕12号,
2024-11-12) and 2026 (2025-11-04).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from xuncha_core.errors import Problem, ValidationError

# year: (holiday spans as (first, last) inclusive, make-up workdays)
_SCHEDULES: dict[int, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    2024: (
        (
            ("2024-01-01", "2024-01-01"),  # 元旦
            ("2024-02-10", "2024-02-17"),  # 春节
            ("2024-04-04", "2024-04-06"),  # 清明节
            ("2024-05-01", "2024-05-05"),  # 劳动节
            ("2024-06-10", "2024-06-10"),  # 端午节
            ("2024-09-15", "2024-09-17"),  # 中秋节
            ("2024-10-01", "2024-10-07"),  # 国庆节
        ),
        (
            "2024-02-04",
            "2024-02-18",
            "2024-04-07",
            "2024-04-28",
            "2024-05-11",
            "2024-09-14",
            "2024-09-29",
            "2024-10-12",
        ),
    ),
    2025: (
        (
            ("2025-01-01", "2025-01-01"),  # 元旦
            ("2025-01-28", "2025-02-04"),  # 春节
            ("2025-04-04", "2025-04-06"),  # 清明节
            ("2025-05-01", "2025-05-05"),  # 劳动节
            ("2025-05-31", "2025-06-02"),  # 端午节
            ("2025-10-01", "2025-10-08"),  # 国庆节、中秋节
        ),
        ("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"),
    ),
    2026: (
        (
            ("2026-01-01", "2026-01-03"),  # 元旦
            ("2026-02-15", "2026-02-23"),  # 春节
            ("2026-04-04", "2026-04-06"),  # 清明节
            ("2026-05-01", "2026-05-05"),  # 劳动节
            ("2026-06-19", "2026-06-21"),  # 端午节
            ("2026-09-25", "2026-09-27"),  # 中秋节
            ("2026-10-01", "2026-10-07"),  # 国庆节
        ),
        ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"),
    ),
}

MAX_SPAN_DAYS = 3660


@dataclass(frozen=True)
class YearSchedule:
    """One year's days off that would otherwise be workdays, and weekend days that are workdays."""

    year: int
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]


class WorkCalendar:
    """Answers "is this a working day" for the years it has a schedule for, and counts working days."""

    def __init__(self, schedules: Mapping[int, YearSchedule]) -> None:
        self._schedules = dict(schedules)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._schedules))

    def with_year(
        self, year: int, holidays: Iterable[date], makeup_workdays: Iterable[date]
    ) -> WorkCalendar:
        """A calendar that also knows ``year`` (a deployment adding next year's notice)."""
        schedule = _schedule(year, holidays, makeup_workdays)
        return WorkCalendar({**self._schedules, year: schedule})

    def is_working_day(self, day: date) -> bool:
        schedule = self._schedules.get(day.year)
        if schedule is None:
            raise _year_unknown(day.year, self.years)
        if day in schedule.makeup_workdays:
            return True
        if day in schedule.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself is not counted; 0 gives ``start``)."""
        if days < 0:
            raise ValueError("days must be ≥ 0")
        current, left = start, days
        while left:
            current += timedelta(days=1)
            if current - start > timedelta(days=MAX_SPAN_DAYS):
                raise ValueError("no working days found in ten years")
            if self.is_working_day(current):
                left -= 1
        return current

    def knows(self, year: int) -> bool:
        return year in self._schedules

    def estimate_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """``add_working_days``, counting the days of a year with no schedule Monday to Friday:
        (the day, True if any day counted was such a guess). Never refuses a year."""
        if days < 0:
            raise ValueError("days must be ≥ 0")
        current, left, guessed = start, days, False
        while left:
            current += timedelta(days=1)
            if current - start > timedelta(days=MAX_SPAN_DAYS):
                raise ValueError("no working days found in ten years")
            if current.year in self._schedules:
                working = self.is_working_day(current)
            else:
                working, guessed = current.weekday() < 5, True
            if working:
                left -= 1
        return current, guessed

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days fall after ``start`` up to and including ``end`` (0 if ``end ≤ start``)."""
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


def _schedule(year: int, holidays: Iterable[date], makeup_workdays: Iterable[date]) -> YearSchedule:
    off, on = frozenset(holidays), frozenset(makeup_workdays)
    wrong = sorted(d for d in off | on if d.year != year) + sorted(d for d in on if d.weekday() < 5)
    if wrong or off & on:
        raise ValueError(
            f"schedule for {year} has days outside the year, weekday make-up days or overlaps: {wrong}"
        )
    return YearSchedule(year, off, on)


def _from_table(year: int) -> YearSchedule:
    spans, makeup = _SCHEDULES[year]
    off: set[date] = set()
    for first, last in spans:
        d, end = date.fromisoformat(first), date.fromisoformat(last)
        while d <= end:
            off.add(d)
            d += timedelta(days=1)
    return _schedule(year, off, (date.fromisoformat(s) for s in makeup))


def _year_unknown(year: int, known: tuple[int, ...]) -> ValidationError:
    listed = ", ".join(str(y) for y in known) or "none"
    return ValidationError.of(
        [
            Problem(
                "deadline",
                "calendar.year_unknown",
                f"the working-day calendar has no holiday schedule for {year} (it knows {listed}); "
                "add that year's State Council holiday notice, or count the deadline in calendar days",
                f"工作日日历中没有 {year} 年的节假日安排（已有：{listed}），"
                "请补充该年国务院节假日安排，或按自然日计算期限",
            )
        ],
        code="calendar.year_unknown",
    )


CHINA = WorkCalendar({year: _from_table(year) for year in _SCHEDULES})
