"""The server holds the calendar years and warns the office from November when next year is missing (issue 9)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from server.infra.writer import write
from server.reference import calendar

SCHEDULE_2027 = {"holidays": ["2027-01-01"], "makeup_workdays": []}


def test_from_november_the_office_is_warned_until_next_year_is_added(engine: Engine) -> None:
    with engine.connect() as conn:
        october = calendar.calendar_years(conn, today=date(2026, 10, 31))
        november = calendar.calendar_years(conn, today=date(2026, 11, 1))
    assert not october["next_year_missing"] and october["warning"] is None
    assert november["next_year_missing"] and november["warning"]["code"] == "calendar.next_year_missing"
    assert "2027" in november["warning"]["message_zh"]
    assert {y["year"]: y["source"] for y in november["years"]}[2026] == "built_in"

    status, _row = write(engine, lambda conn: calendar.add_year(conn, year=2027, schedule=SCHEDULE_2027, by=None))
    assert status == 201
    with engine.connect() as conn:
        after = calendar.calendar_years(conn, today=date(2026, 11, 1))
    assert not after["next_year_missing"]
    assert {y["year"]: y["source"] for y in after["years"]}[2027] == "office"


def test_a_schedule_file_is_json_or_csv_with_chinese_or_english_kinds() -> None:
    csv_text = "date,kind\n2027-01-01,休\n2027-02-14,班\n# a comment\n"
    assert calendar.parse_schedule_file(csv_text.encode()) == {"holidays": ["2027-01-01"], "makeup_workdays": ["2027-02-14"]}
    assert calendar.parse_schedule_file(b'{"holidays": ["2027-01-01"]}', name="y.json") == {"holidays": ["2027-01-01"]}
