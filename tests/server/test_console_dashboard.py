"""The console's dashboard counts what waits for publication (一公开), as the public page sees it
(issue 10 review: every approved inspection result was counted as due, though approving a result
is what publishes it on the public page, and nothing awaiting review was counted at all)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from server.console import catalogue
from tests.support.console import signed_in
from tests.support.live_server import LiveServer
from tests.support.records import Member, member

BEIJING = timezone(timedelta(hours=8))


def _result(officer: Member, days_ago: int, result: str = "no_problem") -> dict[str, object]:
    inspected = datetime.now(BEIJING).date() - timedelta(days=days_ago)
    content = {
        "task_id": "t-1", "plan_id": "p-1", "entity_id": "e-01", "entity_credit_code": "92500114L3K8P2Q137",
        "inspectors": ["insp-xiang-j", "insp-tian-x"], "matter_ids": ["m-env-01"], "result": result,
        "findings": "" if result == "no_problem" else "垃圾未分类堆放", "photos": [],
        "inspected_at": f"{inspected.isoformat()}T10:00:00+08:00", "recorder": "向军", "location": None,
    }
    envelope = officer.envelope(kind="inspection_result", content=content)
    with officer.client() as c:
        c.post("/api/v1/records", json=envelope).raise_for_status()
    return envelope


def _review(who: Member, envelope: dict[str, object], action: str) -> None:
    with who.client() as c:
        c.post(f"/api/v1/records/{envelope['record_id']}/reviews",
               json={"revision": 1, "action": action, "reason": "不予通过" if action == "reject" else None}).raise_for_status()


def _figures(html: str) -> dict[str, int]:
    """Each dashboard card's figure by its words."""
    return {label.strip(): int(n) for n, label in re.findall(r'<span class="figure">(\d+)</span>([^<]+)<', html)}


def test_issue_10_publication_due_and_overdue_count_only_results_not_yet_published(server: LiveServer) -> None:
    officer = member(server, "xiang", "officer")
    office = member(server, "zhou", "office_reviewer")
    published = _result(officer, days_ago=40)
    _review(office, published, "approve")  # approved late: on the public page, so published, not overdue
    _result(officer, days_ago=2)  # awaiting the office, inside its 20 working days
    waiting_legal = _result(officer, days_ago=3, result="problem_pending")
    _review(office, waiting_legal, "approve")  # a major decision: awaiting the legal reviewer, not published yet
    _result(officer, days_ago=120)  # awaiting the office, far past its 20 working days
    _review(office, _result(officer, days_ago=120), "reject")  # rejected: never published, never due

    figures = _figures(signed_in(server.url, "zhou").get("/console/").text)
    due, overdue = (catalogue.text(f"dash.publication_{k}", "zh") for k in ("due", "overdue"))
    assert (figures[due], figures[overdue]) == (2, 1), figures
