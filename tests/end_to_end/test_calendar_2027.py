"""The working-day calendar outlives 2026: a deadline into a year with no schedule is an estimate,
exact once the office adds the year and the phone syncs (issue 9)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from field_app.store import LocalStore
from field_app.sync import session
from tests.end_to_end.test_shared_phone import sync_once
from tests.support.live_server import LiveServer
from tests.support.records import member
from xuncha_core.rectification import deadline_for
from xuncha_core.scoring import DeadlineRule

R1 = "11111111-1111-4111-8111-111111111111"
O1 = "99999999-9999-4999-8999-999999999999"
SCHEDULE_2027 = {"holidays": ["2027-01-01..2027-01-03", "2027-02-06..2027-02-12"], "makeup_workdays": ["2027-02-14"]}


def _draft_across_new_year() -> dict:
    due = deadline_for(date(2026, 12, 28), DeadlineRule(5, "working"))
    order = {"order_id": O1, "title": "整改", "description": "", "deduction_ids": [R1], "responsible": "村委会",
             **due.order_fields()}  # fmt: skip
    return {"record_id": R1, "kind": "remediation_check", "revision": 1, "base_revision": None,
            "content": {"inspected_at": "2026-12-28T09:00:00+08:00", "orders": [order]}, "photos": []}  # fmt: skip


def test_a_deadline_across_new_year_is_an_estimate_then_exact_after_the_office_adds_2027(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    sqlite_server.add_user("wang", "supervisor")
    folder = tmp_path / "phone"
    phone = LocalStore(folder)
    session.sign_in(phone, sqlite_server.url, username="wang", password="password-123")
    phone.save_draft(_draft_across_new_year())
    sync_once(phone, folder)
    [order] = phone.get_draft(R1)["content"]["orders"]
    assert (order["deadline"], order["deadline_estimate"]) == ("2027-01-04", {"working_days": 5})  # 预计

    office = member(sqlite_server, "zhou", "office_reviewer")
    with office.client() as c:
        assert c.put("/api/v1/calendar/2027", json=SCHEDULE_2027).status_code == 201
        assert c.put("/api/v1/calendar/2027", json=SCHEDULE_2027).status_code == 200  # a retry changes nothing
        years = {y["year"]: y["source"] for y in c.get("/api/v1/calendar").json()["years"]}
    assert years[2026] == "built_in" and years[2027] == "office"

    sync_once(phone, folder)
    draft = phone.get_draft(R1)
    [order] = draft["content"]["orders"]
    assert order["deadline"] == "2027-01-05" and "deadline_estimate" not in order  # exact
    assert draft["deadline_changes"] == [{"order_id": O1, "was": "2027-01-04", "now": "2027-01-05"}]
    [entry] = sqlite_server.rows("SELECT type FROM ledger_contents WHERE content LIKE '%workdays-2027%'")
    assert entry.type == "reference.changed"  # the year is in the ledger


def test_only_the_office_adds_a_year_and_a_wrong_schedule_is_refused_naming_each_mistake(
    sqlite_server: LiveServer,
) -> None:
    field = member(sqlite_server, "wang", "supervisor")
    office = member(sqlite_server, "zhou", "office_reviewer")
    with field.client() as c:
        assert c.put("/api/v1/calendar/2027", json=SCHEDULE_2027).status_code == 403
    with office.client() as c:
        bad = c.put("/api/v1/calendar/2027", json={"holidays": ["2027-13-01", "2026-05-01"], "makeup_workdays": ["2027-02-15"]})
    assert bad.status_code == 422
    codes = {p["code"] for p in bad.json()["error"]["detail"]["problems"]}
    assert codes == {"calendar.bad_date", "calendar.other_year", "calendar.weekday_makeup"}
    assert sqlite_server.rows("SELECT seq FROM changes WHERE key = 'workdays-2027'") == []


def test_the_cli_adds_a_year_from_a_csv_file_and_refuses_a_bad_one_changing_nothing(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    good = tmp_path / "2027.csv"
    good.write_text("date,kind\n2027-01-01,holiday\n2027-02-08,休\n2027-02-14,班\n", encoding="utf-8")
    done = sqlite_server.cli("calendar", "add", "--year", "2027", str(good))
    assert done.returncode == 0, done.stderr
    assert "2 holidays, 1 make-up workdays" in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("2027-02-15,workday\n2027-02-30,holiday\n", encoding="utf-8")
    refused = sqlite_server.cli("calendar", "add", "--year", "2027", str(bad))
    assert refused.returncode == 1 and "calendar.weekday_makeup" not in refused.stdout
    assert "2027-02-15" in refused.stderr
    [row] = sqlite_server.rows("SELECT payload FROM changes WHERE key = 'workdays-2027'")
    assert json.loads(row.payload)["makeup_workdays"] == ["2027-02-14"]
    js = tmp_path / "2027.json"
    js.write_text(json.dumps(SCHEDULE_2027), encoding="utf-8")
    assert sqlite_server.cli("calendar", "add", "--year", "2027", str(js)).returncode == 0
    assert len(sqlite_server.rows("SELECT seq FROM changes WHERE key = 'workdays-2027'")) == 2
