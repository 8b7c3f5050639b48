"""Her own records arriving from the server, and calendar years arriving as settings (issue 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from field_app.store import LocalStore
from tests.support.store_writer import envelope
from xuncha_core.rectification import deadline_for
from xuncha_core.scoring import DeadlineRule

R1 = "11111111-1111-4111-8111-111111111111"
R2 = "22222222-2222-4222-8222-222222222222"
O1 = "99999999-9999-4999-8999-999999999999"
SCHEDULE_2027 = {"year": 2027, "holidays": ["2027-01-01..2027-01-03"], "makeup_workdays": []}


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(None if request.param == "memory" else tmp_path / "store")
    s.sign_in(server_url="http://127.0.0.1:1", user={"username": "zhang.wei"}, device_id="phone-1", device_token="t")
    yield s
    s.close()


def served(rid: str, rev: int = 1, month: str = "2026-05", reviews: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    env = envelope(rid, rev, {"village_id": "v1", "month": month, "note": "村口垃圾"})
    receipt = {"record_id": rid, "revision": rev, "digest": "d" * 64, "received_at": f"{month}-14T02:00:00Z",
               "ledger_index": 5, "leaf_hash": "e" * 64}  # fmt: skip
    return {"record_id": rid, "kind": env["kind"], "envelope": env, "receipt": receipt, "reviews": reviews or []}


def sent_back(rid: str, rev: int = 1) -> dict[str, Any]:
    return {"review_id": 3, "revision": rev, "action": "send_back", "reason": "照片不清楚", "reviewer": "zhou.hb",
            "at": "2026-05-15T01:00:00Z", "ledger_index": 9, "review_state": "sent_back"}  # fmt: skip


def test_her_records_from_the_server_show_in_history_with_their_review_and_reason(store: LocalStore) -> None:
    assert store.apply_own_records([served(R1, reviews=[sent_back(R1)]), served(R2, month="2026-04")], 40) == 2
    assert store.own_records_cursor() == 40
    rows = {r["record_id"]: r for r in store.history()}
    assert rows[R1]["state"] == "sent_back" and rows[R1]["review"]["reason"] == "照片不清楚"
    assert rows[R2]["state"] == "synced"
    assert store.photos_pending() == []  # her old photos are the server's already
    draft = store.edit_record(R1)  # she can fix what was sent back
    assert (draft["revision"], draft["base_revision"]) == (2, 1)


def test_a_page_stored_twice_changes_nothing_and_a_review_from_the_feed_is_not_doubled(store: LocalStore) -> None:
    review = sent_back(R1)
    store.apply_changes([{"seq": 7, "topic": "review", "key": R1, "payload": {**review, "record_id": R1}}], 7)
    store.apply_own_records([served(R1, reviews=[review])], 40)
    store.apply_own_records([served(R1, reviews=[review])], 40)
    [record] = store.history()
    assert record["state"] == "sent_back"
    assert len(store.accepted_revisions(R1)) == 1
    assert len(record["reviews"]) == 1


def test_a_record_with_a_revision_waiting_in_the_outbox_is_left_to_the_push(store: LocalStore) -> None:
    mine = envelope(R1, 1, {"village_id": "v1", "month": "2026-05", "note": "我的版本"})
    store.submit(mine)
    store.apply_own_records([served(R1)], 41)
    assert [i["envelope"] for i in store.outbox()] == [mine]
    assert store.accepted_revisions(R1) == {}


def test_her_records_stay_in_her_partition(store: LocalStore) -> None:
    store.apply_own_records([served(R1)], 40)
    store.sign_out()
    store.sign_in(server_url="http://127.0.0.1:1", user={"username": "ran.dm"}, device_id="phone-2", device_token="u")
    assert store.history() == [] and store.own_records_cursor() == 0


def estimated_draft() -> dict[str, Any]:
    order = {"order_id": O1, "title": "整改", "description": "", "deduction_ids": [R2], "responsible": "村委会",
             **deadline_for(deadline_day(), DeadlineRule(5, "working")).order_fields()}  # fmt: skip
    return {"record_id": R1, "kind": "remediation_check", "revision": 1, "base_revision": None,
            "content": {"inspected_at": "2026-12-28T09:00:00+08:00", "orders": [order]}, "photos": []}  # fmt: skip


def deadline_day() -> Any:
    from datetime import date

    return date(2026, 12, 28)


def test_a_2027_deadline_is_an_estimate_until_the_office_adds_2027_then_exact_with_the_change_noted(
    store: LocalStore,
) -> None:
    store.save_draft(estimated_draft())
    [order] = store.get_draft(R1)["content"]["orders"]
    assert order["deadline"] == "2027-01-04" and order["deadline_estimate"] == {"working_days": 5}
    assert 2027 not in store.work_calendar().years

    store.apply_changes([{"seq": 8, "topic": "setting", "key": "workdays-2027", "payload": SCHEDULE_2027}], 8)
    assert 2027 in store.work_calendar().years
    draft = store.get_draft(R1)
    [order] = draft["content"]["orders"]
    assert order["deadline"] == "2027-01-05" and "deadline_estimate" not in order
    assert draft["deadline_changes"] == [{"order_id": O1, "was": "2027-01-04", "now": "2027-01-05"}]
