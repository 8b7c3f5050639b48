"""Legal review (法制审核) of major enforcement decisions comes after the office's approval, and only
then, through the API as through the console (issue 10: "today a legal reviewer can reject a record
the moment after the office approved it, with nothing between")."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.records import Member, member, remediation_content


def _inspection(officer: Member, result: str) -> dict[str, Any]:
    content = {
        "task_id": "t-1", "plan_id": "p-2026", "entity_id": "e-01", "entity_credit_code": "92500114L3K8P2Q137",
        "inspectors": ["insp-xiang-j", "insp-tian-x"], "matter_ids": ["m-env-01"], "result": result,
        "findings": "垃圾未分类堆放" if result != "no_problem" else "", "photos": [],
        "inspected_at": "2026-11-03T10:00:00+08:00", "recorder": "向军", "location": None,
    }
    envelope = officer.envelope(kind="inspection_result", content=content)
    with officer.client() as c:
        c.post("/api/v1/records", json=envelope).raise_for_status()
    return envelope


def _review(who: Member, envelope: dict[str, Any], action: str, reason: str | None = None) -> httpx.Response:
    with who.client() as c:
        return c.post(f"/api/v1/records/{envelope['record_id']}/reviews",
                      json={"revision": envelope["revision"], "action": action, "reason": reason})


def _state(who: Member, envelope: dict[str, Any]) -> str:
    with who.client() as c:
        return str(c.get(f"/api/v1/records/{envelope['record_id']}").json()["review_state"])


def test_issue_10_a_legal_reviewer_cannot_reject_what_the_office_already_approved(server: LiveServer) -> None:
    supervisor = member(server, "wang", "supervisor")
    office = member(server, "zhou", "office_reviewer")
    legal = member(server, "li", "legal_reviewer")
    check = supervisor.envelope(content=remediation_content())
    with supervisor.client() as c:
        c.post("/api/v1/records", json=check).raise_for_status()
    assert _review(office, check, "approve").status_code == 201
    refused = _review(legal, check, "reject", "不同意")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "review.not_open"
    assert _state(office, check) == "approved"


def test_a_major_decision_takes_effect_only_with_the_legal_sign_off_after_the_office(server: LiveServer) -> None:
    officer = member(server, "xiang", "officer")
    office = member(server, "zhou", "office_reviewer")
    legal = member(server, "li", "legal_reviewer")
    major = _inspection(officer, "problem_pending")
    early = _review(legal, major, "approve")
    assert early.status_code == 403 and early.json()["error"]["code"] == "review.not_your_step"
    assert _review(office, major, "approve").status_code == 201
    assert _state(office, major) == "legal_review"
    with officer.client() as c:  # the phone hears nothing until the decision takes effect
        pulled = c.get("/api/v1/sync/changes").json()["changes"]
    assert not [x for x in pulled if x["topic"] == "review"]
    again = _review(office, major, "reject", "改主意")
    assert again.status_code == 403
    assert _review(legal, major, "approve").status_code == 201
    assert _state(office, major) == "approved"
    with officer.client() as c:
        reviews = [x for x in c.get("/api/v1/sync/changes").json()["changes"] if x["topic"] == "review"]
    assert [r["payload"]["review_state"] for r in reviews] == ["approved"]


def test_an_inspection_that_found_nothing_needs_no_legal_review(server: LiveServer) -> None:
    officer = member(server, "xiang", "officer")
    office = member(server, "zhou", "office_reviewer")
    plain = _inspection(officer, "no_problem")
    assert _review(office, plain, "approve").status_code == 201
    assert _state(office, plain) == "approved"


def test_a_comment_is_kept_on_record_and_changes_nothing(server: LiveServer) -> None:
    officer = member(server, "xiang", "officer")
    legal = member(server, "li", "legal_reviewer")
    major = _inspection(officer, "refused_inspection")
    r = _review(legal, major, "comment", "请补充当事人陈述")
    assert r.status_code == 201 and r.json()["review_state"] == "submitted"
    with legal.client() as c:
        record = c.get(f"/api/v1/records/{major['record_id']}").json()
    assert record["reviews"][-1]["action"] == "comment" and record["review_state"] == "submitted"


def test_issue_10_her_phone_hears_a_major_decision_awaits_legal_review_not_that_it_was_approved(server: LiveServer) -> None:
    officer = member(server, "xiang", "officer")
    office = member(server, "zhou", "office_reviewer")
    legal = member(server, "li", "legal_reviewer")
    major = _inspection(officer, "problem_pending")

    def own() -> tuple[str, list[str | None]]:
        with officer.client() as c:
            [record] = c.get("/api/v1/sync/own-records", params={"after": 0}).json()["records"]
        return record["review_state"], [r["review_state"] for r in record["reviews"]]

    assert _review(office, major, "approve").status_code == 201
    assert own() == ("legal_review", ["legal_review"])
    assert _review(legal, major, "comment", "请补充当事人陈述").status_code == 201
    assert own() == ("legal_review", ["legal_review", None])
    assert _review(legal, major, "approve").status_code == 201
    assert own() == ("approved", ["legal_review", None, "approved"])
