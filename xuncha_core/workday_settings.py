"""A year's working-day schedule set by the office, as reference data both sides read.

The built-in calendar (``workdays.CHINA``) knows the years whose State Council notice was
out when this version shipped. The office adds the next year when its notice appears: a
``setting`` reference item keyed ``workdays-YYYY``, reaching every phone on its next sync::

    {"year": 2027, "holidays": ["2027-01-01", "2027-02-05..2027-02-11", …],
     "makeup_workdays": ["2027-02-14", …]}

A holiday entry is a date or an inclusive span ``first..last``; a make-up workday
(调休) is a weekend day that is worked. ``parse_schedule`` names every problem;
``calendar_with`` folds the settings into a calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from xuncha_core.errors import Problem, ValidationError
from xuncha_core.workdays import CHINA, WorkCalendar

KEY_PREFIX = "workdays-"


@dataclass(frozen=True)
class YearSetting:
    year: int
    holidays: tuple[date, ...]
    makeup_workdays: tuple[date, ...]

    def payload(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "holidays": [d.isoformat() for d in self.holidays],
            "makeup_workdays": [d.isoformat() for d in self.makeup_workdays],
        }


def key_for(year: int) -> str:
    return f"{KEY_PREFIX}{year}"


def parse_schedule(payload: Mapping[str, Any]) -> YearSetting:
    """The schedule in ``payload``, or ValidationError (``calendar.bad_schedule``) naming each problem."""
    problems: list[Problem] = []
    year = payload.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        problems.append(Problem("year", "calendar.bad_year", "year must be a year such as 2027", "年份须为如 2027 的年份"))
        raise ValidationError.of(problems, code="calendar.bad_schedule")
    holidays = _days(payload.get("holidays"), "holidays", year, problems, spans=True)
    makeup = _days(payload.get("makeup_workdays"), "makeup_workdays", year, problems, spans=False)
    for d in makeup:
        if d.weekday() < 5:
            problems.append(
                Problem(
                    "makeup_workdays",
                    "calendar.weekday_makeup",
                    f"{d} is a weekday already; a make-up workday is a Saturday or Sunday that is worked",
                    f"{d} 本来就是工作日；调休上班日应为周六或周日",
                )
            )
    both = sorted(set(holidays) & set(makeup))
    if both:
        problems.append(
            Problem("makeup_workdays", "calendar.overlap", f"{both[0]} is both a holiday and a workday", f"{both[0]} 既是假日又是调休上班日")
        )
    if problems:
        raise ValidationError.of(problems, code="calendar.bad_schedule")
    return YearSetting(year, tuple(sorted(set(holidays))), tuple(sorted(set(makeup))))


def calendar_with(settings: Iterable[Mapping[str, Any]], base: WorkCalendar = CHINA) -> WorkCalendar:
    """``base`` with every valid year schedule of ``settings`` added (an invalid one is left out)."""
    calendar = base
    for payload in settings:
        try:
            s = parse_schedule(payload)
        except ValidationError:
            continue
        calendar = calendar.with_year(s.year, s.holidays, s.makeup_workdays)
    return calendar


def _days(value: Any, path: str, year: int, problems: list[Problem], *, spans: bool) -> list[date]:
    if not isinstance(value, list) or len(value) > 366:
        problems.append(Problem(path, "calendar.bad_days", f"{path} must be a list of dates", f"{path} 须为日期列表"))
        return []
    out: list[date] = []
    for i, item in enumerate(value):
        first, _, last = str(item).partition("..") if spans else (str(item), "", "")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            problems.append(Problem(f"{path}.{i}", "calendar.bad_date", f"{item!r} is not a date YYYY-MM-DD", f"{item} 不是 YYYY-MM-DD 格式的日期"))
            continue
        if start.year != year or end.year != year or end < start:
            problems.append(Problem(f"{path}.{i}", "calendar.other_year", f"{item} is not within {year}", f"{item} 不在 {year} 年内"))
            continue
        while start <= end:
            out.append(start)
            start += timedelta(days=1)
    return out
