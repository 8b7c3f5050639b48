"""Random inspections on a running demo town: signed-in clients, a finished draw, a recorded inspection."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from server.demo import town as demo
from server.demo.town import DEMO_PASSWORD
from tests.support.app_server import AppServer, ManualClock
from tests.support.databases import fresh_database

PLAN = {
    "title": "2026年第一季度邻鄂镇双随机抽查",
    "matters": ["m-env-01", "m-fire-01"],
    "strata": [
        {"id": "high", "name": "高风险", "filter": {"risks": ["high"]}, "percent": "100"},
        {"id": "others", "name": "其他", "count": 4},
    ],
    "inspectors_per_entity": 2,
    "deadline": "2026-03-31",
}
VALUES = [[2, 7, 11, 19, 26, 30], [9]]


@contextmanager
def demo_town(backend: str, tmp: Path) -> Iterator[AppServer]:
    """The demo town without records, served on ``backend`` with a clock the test moves by hand."""
    with fresh_database(backend, tmp) as url, AppServer(tmp / "data", url, ManualClock()) as srv:
        demo.fill(srv.app.state.engine, srv.settings, records=0, today=srv.clock.now.date())
        yield srv


def enroll(srv: AppServer, username: str) -> dict[str, Any]:
    """A new phone for ``username`` (demo password): the enrollment answer (token, device_id, user)."""
    r = httpx.post(f"{srv.url}/api/v1/auth/enroll", timeout=30, json={
        "username": username, "password": DEMO_PASSWORD, "device_name": "test", "kind": "phone"})
    r.raise_for_status()
    answer: dict[str, Any] = r.json()
    return answer


def client(srv: AppServer, username: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {enroll(srv, username)['token']}"} if username else {}
    return httpx.Client(base_url=srv.url, headers=headers, timeout=30)


def source(clock: ManualClock, days_ahead: int = 2) -> dict[str, Any]:
    """A lottery draw ``days_ahead`` days after the server's today."""
    day = (clock.now + timedelta(days=days_ahead)).date().isoformat()
    return {"description": f"中国福利彩票双色球 {day} 开奖号码：红球一组、蓝球一组", "published_on": day, "value_sets": 2}


def run_draw(srv: AppServer, office: httpx.Client, plan: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plan, commit, wait for the lottery (the server's clock moves 3 days), enter its values: the published file."""
    draw_id = office.post("/api/v1/inspections/draws", json=plan or PLAN).json()["id"]
    office.post(f"/api/v1/inspections/draws/{draw_id}/commitment", json={"randomness": source(srv.clock)}).raise_for_status()
    srv.clock.now += timedelta(days=3)
    office.post(f"/api/v1/inspections/draws/{draw_id}/random-values", json={"random_values": VALUES}).raise_for_status()
    published: dict[str, Any] = httpx.get(f"{srv.url}/api/v1/public/draws/{draw_id}").json()
    return published


def tasks_of(feed: list[dict[str, Any]], draw_id: str | None = None) -> list[dict[str, Any]]:
    return [c["payload"] for c in feed if c["topic"] == "task" and not c["deleted"]
            and (draw_id is None or c["payload"]["draw_id"] == draw_id)]


def inspection_content(task: dict[str, Any], *, co_username: str, at: str = "2026-03-09T09:30:00+08:00",
                       **changes: Any) -> dict[str, Any]:
    """A complete random_inspection content for ``task``, confirmed by ``co_username``."""
    ids = {m["username"]: m["id"] for m in task["inspectors"]}
    content = {
        "task_id": task["task_id"],
        "draw_id": task["draw_id"],
        "entity_id": task["entity"]["id"],
        "entity_credit_code": task["entity"]["credit_code"],
        "inspectors": [m["id"] for m in task["inspectors"]],
        "matter_ids": [m["id"] for m in task["matters"]],
        "result": "problem_corrected",
        "findings": "后厨排污口未加盖，已责令当场改正",
        "photos": [],
        "started_at": at,
        "ended_at": at.replace("09:30", "10:20"),
        "location": None,
        "recordings": ["DSJ-0042-0930"],
        "recorder": "向军",
        "co_inspector": {"inspector_id": ids.get(co_username, "insp-nobody"), "username": co_username,
                         "confirmed_at": at.replace("09:30", "10:15"), "method": "pin"},
    }
    content.update(changes)
    return content


def envelope(content: dict[str, Any], *, author: str, device_id: str) -> dict[str, Any]:
    return {
        "record_id": str(uuid.uuid4()), "kind": "random_inspection", "revision": 1, "base_revision": None,
        "author": author, "device_id": device_id, "device_time": content["ended_at"], "gps_time": None,
        "content": content, "photos": content["photos"],
    }
