"""Reviews reach the author by pull; reference data flows down the feed, with tombstones and pages."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.records import Member, member, remediation_content


def _ledger_types(server: LiveServer) -> list[str]:
    return [json.loads(r.entry)["type"] for r in server.rows("SELECT entry FROM ledger_entries ORDER BY idx")]

def _pull_all(c: httpx.Client, after: int = 0, limit: int = 500) -> tuple[list[dict[str, Any]], int]:
    got: list[dict[str, Any]] = []
    while True:
        page = c.get("/api/v1/sync/changes", params={"after": after, "limit": limit}).json()
        got += page["changes"]
        after = page["next"]
        if not page["more"]:
            return got, after


def _submitted(author: Member) -> dict[str, Any]:
    env = author.envelope()
    with author.client() as c:
        assert c.post("/api/v1/records", json=env).status_code == 201
    return env


def test_a_sent_back_record_reaches_its_author_with_the_reason_and_no_one_else(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    li = member(server, "li", "supervisor")
    clerk = member(server, "zhao", "office_reviewer")
    env = _submitted(wang)
    with clerk.client() as c:
        r = c.post(f"/api/v1/records/{env['record_id']}/reviews",
                   json={"revision": 1, "action": "send_back", "reason": "垃圾桶照片看不清，请重拍"})
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["review_state"] == "sent_back" and review["reviewer"] == "zhao"
    with wang.client() as c:
        changes, _ = _pull_all(c)
        record = c.get(f"/api/v1/records/{env['record_id']}").json()
    reviews = [x for x in changes if x["topic"] == "review"]
    assert len(reviews) == 1 and reviews[0]["key"] == env["record_id"]
    assert reviews[0]["payload"]["reason"] == "垃圾桶照片看不清，请重拍"
    assert reviews[0]["payload"]["review_state"] == "sent_back"
    assert record["review_state"] == "sent_back" and record["reviews"][0]["action"] == "send_back"
    with li.client() as c:
        assert [x for x in _pull_all(c)[0] if x["topic"] == "review"] == []
    assert _ledger_types(server).count("review.recorded") == 1


def test_sending_back_or_rejecting_needs_a_reason(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    legal = member(server, "qian", "legal_reviewer")
    env = _submitted(wang)
    with legal.client() as c:
        for action in ("send_back", "reject"):
            r = c.post(f"/api/v1/records/{env['record_id']}/reviews",
                       json={"revision": 1, "action": action, "reason": "  "})
            assert r.status_code == 422 and r.json()["error"]["code"] == "review.reason_required"
        ok = c.post(f"/api/v1/records/{env['record_id']}/reviews", json={"revision": 1, "action": "approve"})
    assert ok.status_code == 201 and ok.json()["review_state"] == "approved"
    assert _ledger_types(server).count("review.recorded") == 1


def test_a_review_of_an_older_revision_is_refused_as_stale(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    clerk = member(server, "zhao", "office_reviewer")
    env = _submitted(wang)
    with wang.client() as c:
        fix = wang.envelope(base=env, content=remediation_content(note="补充"))
        assert c.post("/api/v1/records", json=fix).status_code == 201
    with clerk.client() as c:
        r = c.post(f"/api/v1/records/{env['record_id']}/reviews", json={"revision": 1, "action": "approve"})
        missing = c.post(f"/api/v1/records/{'0' * 8}-0000-4000-8000-{'0' * 12}/reviews",
                         json={"revision": 1, "action": "approve"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "review.stale_revision" and r.json()["error"]["detail"]["head_revision"] == 2
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "record.not_found"


def test_a_retried_review_is_recorded_once(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    clerk = member(server, "zhao", "office_reviewer")
    env = _submitted(wang)
    body = {"revision": 1, "action": "reject", "reason": "不属于本月检查"}
    with clerk.client() as c:
        first = c.post(f"/api/v1/records/{env['record_id']}/reviews", json=body)
        again = c.post(f"/api/v1/records/{env['record_id']}/reviews", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert {**again.json(), "replayed": False} == first.json()
    assert _ledger_types(server).count("review.recorded") == 1
    with wang.client() as c:
        assert len([x for x in _pull_all(c)[0] if x["topic"] == "review"]) == 1


def test_reference_data_set_by_the_admin_comes_down_by_pull_and_a_deletion_as_a_tombstone(server: LiveServer) -> None:
    admin = member(server, "boss", "admin")
    wang = member(server, "wang", "supervisor")
    village = {"name": "联合村", "kind": "village", "population": 2100}
    with admin.client() as c:
        created = c.put("/api/v1/reference/village/v-lianhe", json=village)
        same = c.put("/api/v1/reference/village/v-lianhe", json=village)
        c.put("/api/v1/reference/village/v-xinjian", json={"name": "新建村"})
        gone = c.delete("/api/v1/reference/village/v-xinjian")
        gone_again = c.delete("/api/v1/reference/village/v-xinjian")
        never = c.delete("/api/v1/reference/village/v-nowhere")
    assert (created.status_code, same.status_code) == (201, 200) and same.json()["changed"] is False
    assert gone.status_code == gone_again.status_code == 200 and gone_again.json()["changed"] is False
    assert never.status_code == 404 and never.json()["error"]["code"] == "reference.not_found"
    with wang.client() as c:
        changes, cursor = _pull_all(c)
        state = c.get("/api/v1/reference/village").json()
        nothing_new, _ = _pull_all(c, after=cursor)
    assert [(x["key"], x["deleted"]) for x in changes] == [("v-lianhe", False), ("v-xinjian", False), ("v-xinjian", True)]
    assert changes[0]["payload"] == village and changes[2]["payload"] is None
    assert [x["key"] for x in state["items"]] == ["v-lianhe"] and state["items"][0]["payload"] == village
    assert nothing_new == []
    assert _ledger_types(server).count("reference.changed") == 3


def test_the_feed_comes_in_pages_in_order_with_nothing_skipped(server: LiveServer) -> None:
    admin = member(server, "boss", "admin")
    with admin.client() as c:
        for i in range(23):
            assert c.put(f"/api/v1/reference/cleaner/c{i:02d}", json={"name": f"保洁员{i}"}).status_code == 201
        changes, cursor = _pull_all(c, limit=5)
        first = c.get("/api/v1/sync/changes", params={"limit": 5}).json()
    assert [x["key"] for x in changes] == [f"c{i:02d}" for i in range(23)]
    seqs = [x["seq"] for x in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == 23 and cursor == seqs[-1]
    assert first["more"] is True and first["next"] == seqs[4]


def test_reference_writes_refuse_unknown_topics_and_bad_payloads(server: LiveServer) -> None:
    admin = member(server, "boss", "admin")
    with admin.client() as c:
        topic = c.put("/api/v1/reference/review/x", json={"a": 1})
        not_object = c.put("/api/v1/reference/village/v1", json=[1, 2])
        huge_int = c.put("/api/v1/reference/village/v1", json={"population": 2**60})
        bad_key = c.put("/api/v1/reference/village/%20v1", json={"a": 1})
    assert topic.status_code == 404 and topic.json()["error"]["code"] == "reference.unknown_topic"
    assert not_object.status_code == huge_int.status_code == 422
    assert not_object.json()["error"]["code"] == "reference.bad_payload"
    assert bad_key.status_code == 422 and bad_key.json()["error"]["code"] == "reference.bad_key"
    with admin.client() as c:
        assert _pull_all(c)[0] == []
