"""Inspections recorded on the phone, on a real server (issue 11, part 4): PIN hashes reach the right
phones and no others; a random_inspection record comes only from its assigned inspectors, as assigned.

One demo town per backend for the module, as in test_inspection_draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import httpx
import pytest

from tests.support.app_server import AppServer
from tests.support.databases import backends
from tests.support.inspections import (
    client,
    demo_town,
    enroll,
    envelope,
    inspection_content,
    run_draw,
    tasks_of,
)
from xuncha_core.inspections.pin import hash_pin

OFFICERS = ("xiang.j", "tian.x", "peng.gq")


@pytest.fixture(scope="module", params=backends())
def town(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with demo_town(request.param, tmp_path_factory.mktemp("town")) as srv:
        yield srv


@pytest.fixture(scope="module")
def team_task(town: AppServer) -> dict[str, Any]:
    """An inspection of a fresh draw whose two inspectors both have phones."""
    file = run_draw(town, client(town, "zhou.hb"))
    feed = client(town, "xiang.j").get("/api/v1/sync/changes", params={"after": 0}).json()["changes"]
    teams = [t for t in tasks_of(feed, file["id"]) if all(m["username"] for m in t["inspectors"])]
    assert teams, "the draw gives xiang.j an inspection with another officer who has a phone"
    return teams[0]


def feed_of(town: AppServer, username: str) -> list[dict[str, Any]]:
    return client(town, username).get("/api/v1/sync/changes", params={"after": 0}).json()["changes"]


def pins_in(feed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c["payload"]["pin_hash"] for c in feed if c["topic"] == "pin"}


def test_a_pin_hash_reaches_the_colleagues_phones_only_and_a_retry_changes_nothing(
    town: AppServer, team_task: dict[str, Any]
) -> None:
    partner = next(m["username"] for m in team_task["inspectors"] if m["username"] != "xiang.j")
    stranger = next(o for o in OFFICERS if o not in {"xiang.j", partner})
    pin_hash = hash_pin(partner, "275319")
    phone = client(town, partner)
    size = httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"]
    assert phone.put("/api/v1/inspections/pin", json={"pin_hash": pin_hash}).status_code == 200
    assert httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"] == size + 1  # pin.changed
    assert phone.put("/api/v1/inspections/pin", json={"pin_hash": pin_hash}).status_code == 200
    assert httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"] == size + 1  # the retry wrote nothing

    xiang = feed_of(town, "xiang.j")
    assert pins_in(xiang)[partner] == pin_hash
    assert len([c for c in xiang if c["topic"] == "pin" and c["key"] == partner]) == 1
    assert partner not in pins_in(feed_of(town, "wang.cy"))  # a supervisor works with nobody here
    shared = {m["username"] for t in tasks_of(feed_of(town, stranger)) for m in t["inspectors"]}
    assert (partner in pins_in(feed_of(town, stranger))) == (partner in shared)
    assert "275319" not in str(feed_of(town, "xiang.j"))


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [(None, {"pin_hash": {}}, 401), ("zhou.hb", {"pin_hash": {}}, 403),
     ("xiang.j", {"pin_hash": {"kdf": "scrypt", "n": 2**24}}, 422), ("xiang.j", {"pin": "275319"}, 422)],
)
def test_only_field_staff_set_a_pin_and_only_a_well_formed_cheap_hash(
    town: AppServer, who: str | None, body: dict[str, Any], status: int
) -> None:
    answer = client(town, who).put("/api/v1/inspections/pin", json=body)
    assert answer.status_code == status, answer.text


def stranger_confirms(task: dict[str, Any], stranger: str) -> dict[str, Any]:
    """Valid on its face: the stranger listed as an inspector and confirming, but not the one assigned."""
    stranger_id = "insp-" + stranger.replace(".", "-")
    content = inspection_content(task, co_username=stranger, inspectors=["insp-xiang-j", stranger_id])
    content["co_inspector"]["inspector_id"] = stranger_id
    return content


def test_an_inspection_is_accepted_only_from_its_inspectors_as_assigned(
    town: AppServer, team_task: dict[str, Any]
) -> None:
    partner = next(m["username"] for m in team_task["inspectors"] if m["username"] != "xiang.j")
    stranger = next(o for o in OFFICERS if o not in {"xiang.j", partner})
    for username, content, status, code in [
        (stranger, inspection_content(team_task, co_username=partner), 403, "inspection.not_assigned"),
        ("xiang.j", inspection_content(team_task, co_username=stranger), 422, "record.invalid"),  # the core: not listed
        ("xiang.j", stranger_confirms(team_task, stranger), 422, "inspection.not_as_assigned"),
        ("xiang.j", inspection_content(team_task, co_username="xiang.j"), 422, "inspection.not_as_assigned"),
        ("xiang.j", inspection_content(team_task, co_username=partner, matter_ids=["m-other"]), 422,
         "inspection.not_as_assigned"),
    ]:
        phone = enroll(town, username)
        answer = httpx.post(f"{town.url}/api/v1/records", timeout=30,
                            headers={"Authorization": f"Bearer {phone['token']}"},
                            json=envelope(content, author=username, device_id=phone["device_id"]))
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
        assert stranger not in answer.text or username == stranger  # says nothing about whose it is

    phone = enroll(town, "xiang.j")
    good = envelope(inspection_content(team_task, co_username=partner), author="xiang.j", device_id=phone["device_id"])
    answer = httpx.post(f"{town.url}/api/v1/records", json=good, timeout=30,
                        headers={"Authorization": f"Bearer {phone['token']}"})
    assert answer.status_code == 201, answer.text
    due = client(town, "zhou.hb").get("/api/v1/inspections/publication").json()["results"]
    mine = [r for r in due if r["record_id"] == good["record_id"]]
    assert mine and mine[0]["inspected_on"] == "2026-03-09" and mine[0]["status"] == "due"


def test_an_inspection_on_site_that_found_a_problem_waits_for_legal_review_after_the_office(
    town: AppServer, team_task: dict[str, Any]
) -> None:
    """Issue 10: a major decision takes effect only with the legal reviewer's sign-off; a
    random_inspection recorded on the phones skipped it (only inspection_result was judged major)."""
    partner = next(m["username"] for m in team_task["inspectors"] if m["username"] != "xiang.j")
    phone = enroll(town, "xiang.j")
    found = envelope(inspection_content(team_task, co_username=partner, result="problem_pending",
                                        findings="堆放垃圾未清运"), author="xiang.j", device_id=phone["device_id"])
    answer = httpx.post(f"{town.url}/api/v1/records", json=found, timeout=30,
                        headers={"Authorization": f"Bearer {phone['token']}"})
    assert answer.status_code in (200, 201), answer.text
    rid = found["record_id"]
    decided = client(town, "zhou.hb").post(f"/api/v1/records/{rid}/reviews", json={"revision": 1, "action": "approve"})
    assert decided.status_code == 201 and decided.json()["review_state"] == "legal_review", decided.text



def submit(town: AppServer, task: dict[str, Any], **content: Any) -> str:
    """A random_inspection recorded on xiang.j's phone with its partner: the record id."""
    partner = next(m["username"] for m in task["inspectors"] if m["username"] != "xiang.j")
    phone = enroll(town, "xiang.j")
    record = envelope(inspection_content(task, co_username=partner, **content), author="xiang.j",
                      device_id=phone["device_id"])
    answer = httpx.post(f"{town.url}/api/v1/records", json=record, timeout=30,
                        headers={"Authorization": f"Bearer {phone['token']}"})
    assert answer.status_code == 201, answer.text
    return str(record["record_id"])


def publication_of(town: AppServer, record_id: str) -> dict[str, Any]:
    results = client(town, "zhou.hb").get("/api/v1/inspections/publication").json()["results"]
    return next(r for r in results if r["record_id"] == record_id)


def test_the_publication_deadline_counts_the_years_the_office_added(town: AppServer, team_task: dict[str, Any]) -> None:
    """Issue 11: the API counted with the built-in calendar only, as an estimate, although the office had
    added the year; the console dashboard counted with it. From 2026-12-18 (a Friday), 20 working days
    reach into 2027; with 1 January to 7 January off the due date is 2027-01-22, and no estimate."""
    office = client(town, "zhou.hb")
    added = office.put("/api/v1/calendar/2027", json={"holidays": ["2027-01-01..2027-01-07"], "makeup_workdays": []})
    assert added.status_code in (200, 201), added.text
    rid = submit(town, team_task, at="2026-12-18T09:30:00+08:00")
    assert publication_of(town, rid) | {"record_id": None} == {
        "record_id": None, "entity_credit_code": team_task["entity"]["credit_code"],
        "inspected_on": "2026-12-18", "due": "2027-01-22", "estimated": False, "status": "due"}


def test_a_result_is_overdue_from_the_day_after_its_due_date_in_the_town(
    town: AppServer, team_task: dict[str, Any]
) -> None:
    """Issue 11: the API took the UTC date; from 16:00 UTC it is already the next day in the town (UTC+8)."""
    rid = submit(town, team_task, at="2026-03-10T09:30:00+08:00")
    due = date.fromisoformat(publication_of(town, rid)["due"])
    before = town.clock.now
    try:
        town.clock.now = datetime.combine(due, time(15, 59), tzinfo=UTC)  # 23:59 on the due date in the town
        assert publication_of(town, rid)["status"] == "due"
        town.clock.now = datetime.combine(due, time(16, 1), tzinfo=UTC)  # 00:01 the day after, in the town
        assert publication_of(town, rid)["status"] == "overdue"
    finally:
        town.clock.now = before


def test_the_calendar_warning_starts_on_the_first_of_november_in_the_town(town: AppServer) -> None:
    """The warning that next year's schedule is missing took the UTC date: from 16:00 UTC on
    31 October it is already 1 November in the town (UTC+8), and the office is warned then."""
    before = town.clock.now
    office = client(town, "zhou.hb")
    try:
        town.clock.now = datetime(2027, 10, 31, 15, 59, tzinfo=UTC)  # 23:59 on 31 October in the town
        assert office.get("/api/v1/calendar").json()["next_year_missing"] is False
        town.clock.now = datetime(2027, 10, 31, 16, 1, tzinfo=UTC)  # 00:01 on 1 November in the town
        answer = office.get("/api/v1/calendar").json()
        assert answer["next_year_missing"] is True and "2028" in answer["warning"]["message_zh"]
    finally:
        town.clock.now = before
