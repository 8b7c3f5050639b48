"""The working-day calendar as reference data: the years the office adds, on every phone.

The State Council publishes each year's holiday schedule late in the year before, and the
built-in calendar (``xuncha_core.workdays.CHINA``: the encoded years, the seed) stops where
this version was shipped. The office adds a year (``PUT /api/v1/calendar/{year}``, or
``xuncha-server calendar add --year 2027 FILE``): the schedule is checked
(``xuncha_core.workday_settings.parse_schedule``, every problem named, nothing written), then
kept as the reference setting ``workdays-YYYY``: one ``reference.changed`` ledger entry and
one row of the pull feed, so every phone receives it on its next sync and makes its
estimated deadlines exact. From November on, ``calendar_years`` warns when next year is
missing. ``work_calendar`` is the calendar every deadline the server counts is counted with.

A schedule file is JSON (``{"holidays": [...], "makeup_workdays": [...]}``, a holiday
being a date or a span ``first..last``) or CSV with one date per line and its kind::

    date,kind
    2027-01-01,holiday
    2027-02-14,workday

(``holiday``/``休`` for a day off, ``workday``/``班`` for a make-up workday).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from sqlalchemy import Connection

from server.accounts.accounts import Actor
from server.reference import feed
from server.reference.shapes import CalendarWarning, CalendarYears, ItemWritten
from xuncha_core import workday_settings
from xuncha_core.errors import Problem, ValidationError
from xuncha_core.workdays import CHINA, WorkCalendar

HOLIDAY_WORDS = {"holiday", "休", "假", "off"}
WORKDAY_WORDS = {"workday", "makeup", "make-up", "班", "work"}
WARN_FROM_MONTH = 11


def add_year(conn: Connection, *, year: int, schedule: dict[str, Any], by: Actor | None) -> tuple[int, ItemWritten]:
    """Check and keep one year's schedule: (201, feed row) when it changed, (200, row) when it
    already was so. ValidationError (``calendar.bad_schedule``) names every problem."""
    setting = workday_settings.parse_schedule({**schedule, "year": year})
    return feed.set_reference(
        conn, topic="setting", key=workday_settings.key_for(setting.year), payload=setting.payload(), by=by
    )


def _added_years(conn: Connection) -> dict[int, dict[str, Any]]:
    """The schedules the office added, by year."""
    return {
        int(item["payload"]["year"]): item["payload"]
        for item in feed.current(conn, topic="setting")
        if item["key"].startswith(workday_settings.KEY_PREFIX) and isinstance(item["payload"].get("year"), int)
    }


def work_calendar(conn: Connection) -> WorkCalendar:
    """The built-in calendar with every year the office has added."""
    return workday_settings.calendar_with(_added_years(conn).values())


def calendar_years(conn: Connection, *, today: date) -> CalendarYears:
    """The years the calendar knows (built in, or added by the office) and, from November on,
    a warning when next year is not among them."""
    added = _added_years(conn)
    years = sorted({*CHINA.years, *added})
    missing = today.month >= WARN_FROM_MONTH and today.year + 1 not in years
    return {
        "years": [{"year": y, "source": "office" if y in added else "built_in"} for y in years],
        "next_year_missing": missing,
        "warning": _warning(today.year + 1) if missing else None,
    }


def _warning(year: int) -> CalendarWarning:
    return {
        "code": "calendar.next_year_missing",
        "message": f"The working-day calendar has no schedule for {year}: add the State Council's holiday "
        f"notice for {year}, or deadlines reaching {year} stay estimates.",
        "message_zh": f"工作日日历还没有 {year} 年的节假日安排：请录入国务院 {year} 年节假日通知，否则跨入 {year} 年的整改期限只能预计。",
    }


def parse_schedule_file(data: bytes, *, name: str = "") -> dict[str, Any]:
    """``{holidays, makeup_workdays}`` from a JSON or CSV schedule file; ValidationError if it is neither."""
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    stripped = text.lstrip()
    if name.lower().endswith(".json") or stripped.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise _bad_file("the JSON does not parse") from None
        if not isinstance(parsed, dict):
            raise _bad_file("the JSON must be an object with holidays and makeup_workdays")
        return parsed
    return _from_csv(text)


def _from_csv(text: str) -> dict[str, Any]:
    holidays: list[str] = []
    makeup: list[str] = []
    problems = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].lower() == "date" or cells[0].startswith("#"):
            continue
        kind = cells[1].lower() if len(cells) > 1 else ""
        if kind in HOLIDAY_WORDS:
            holidays.append(cells[0])
        elif kind in WORKDAY_WORDS:
            makeup.append(cells[0])
        else:
            problems.append(Problem(f"line {n}", "calendar.bad_line", f"line {n}: give a date and holiday or workday",
                                    f"第 {n} 行：请写日期和 holiday（休）或 workday（班）"))  # fmt: skip
    if problems:
        raise ValidationError.of(problems, code="calendar.bad_schedule")
    return {"holidays": holidays, "makeup_workdays": makeup}


def _bad_file(why: str) -> ValidationError:
    return ValidationError(
        "calendar.bad_file",
        f"The schedule file cannot be read: {why}. Give JSON or CSV (date,kind per line).",
        "无法读取节假日安排文件：请提供 JSON，或每行“日期,类型”的 CSV。",
    )
