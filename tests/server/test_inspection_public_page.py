"""The public page /public/ in headless Chromium: an approved result and a draw, nothing private (issue 11)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from server.demo import town as demo
from tests.support.app_server import AppServer
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.support.inspections import demo_town
from xuncha_core.inspections.verify import verify

PLAN = {
    "title": "2026年第一季度邻鄂镇双随机抽查",
    "matters": ["m-food-01"],
    "strata": [{"id": "high", "name": "高风险", "filter": {"risks": ["high"]}, "count": 2},
               {"id": "others", "name": "其他", "count": 2}],
    "inspectors_per_entity": 2,
    "deadline": "2026-03-31",
}
PRIVATE_NOTE = "配偶在该公司任职"
PRIVATE_FINDING = "后厨排水沟堵塞，负责人电话13800001111"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with demo_town("sqlite", tmp_path_factory.mktemp("public")) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def signed_in(srv: AppServer, username: str) -> tuple[httpx.Client, str]:
    r = httpx.post(f"{srv.url}/api/v1/auth/enroll", timeout=30, json={
        "username": username, "password": demo.DEMO_PASSWORD, "device_name": "test", "kind": "phone"})
    r.raise_for_status()
    body = r.json()
    return httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {body['token']}"}, timeout=30), body[
        "device_id"]


@pytest.fixture(scope="module")
def published(town: AppServer) -> dict:
    """A published draw, a private conflict of interest, and one approved inspection result of it."""
    office, _ = signed_in(town, "zhou.hb")
    conflict = f"执法证号,统一社会信用代码,回避事由,说明\n50011420210042,92500114L3K8P2Q137,近亲属关系,{PRIVATE_NOTE}\n"
    imported = office.post("/api/v1/inspections/directories/conflicts", content=conflict.encode(),
                           headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200 and imported.json()["changed"] == 1, imported.text
    draw_id = office.post("/api/v1/inspections/draws", json=PLAN).json()["id"]
    day = (town.clock.now + timedelta(days=2)).date().isoformat()
    office.post(f"/api/v1/inspections/draws/{draw_id}/commitment", json={"randomness": {
        "description": f"中国体育彩票超级大乐透 {day} 开奖号码", "published_on": day, "value_sets": 2}}).raise_for_status()
    town.clock.now += timedelta(days=3)
    office.post(f"/api/v1/inspections/draws/{draw_id}/random-values",
                json={"random_values": [[3, 8, 17, 21, 33], [5, 11]]}).raise_for_status()

    officer, device = signed_in(town, "xiang.j")
    task = next(c["payload"] for c in officer.get("/api/v1/sync/changes").json()["changes"] if c["topic"] == "task")
    envelope = {
        "record_id": str(uuid.uuid4()), "kind": "inspection_result", "revision": 1, "base_revision": None,
        "author": "xiang.j", "device_id": device, "device_time": "2026-03-06T10:00:00+08:00", "gps_time": None,
        "content": {
            "task_id": task["task_id"], "plan_id": task["plan_id"], "entity_id": task["entity"]["id"],
            "entity_credit_code": task["entity"]["credit_code"],
            "inspectors": [i["id"] for i in task["inspectors"]], "matter_ids": ["m-food-01"],
            "result": "problem_corrected", "findings": PRIVATE_FINDING, "photos": [],
            "inspected_at": "2026-03-06T10:00:00+08:00", "recorder": "向军", "location": None,
        },
        "photos": [],
    }
    pushed = officer.post("/api/v1/records", json=envelope)
    assert pushed.status_code == 201, pushed.text
    # 法制审核: the office approves first; a major decision then waits for the legal reviewer
    for name in ("zhou.hb", "tan.lj"):
        reviewer, _ = signed_in(town, name)
        approved = reviewer.post(f"/api/v1/records/{envelope['record_id']}/reviews", json={"revision": 1, "action": "approve"})
        assert approved.status_code == 201, approved.text
        if approved.json()["review_state"] == "approved":
            break
    return {"draw_id": draw_id, "task": task}


def test_the_public_page_shows_the_approved_result_and_the_draw_and_nothing_private(
    town: AppServer, browser: Browser, published: dict, tmp_path: Path
):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{town.url}/public/")
    result = page.locator("li.result").first
    assert published["task"]["entity"]["name"] in result.inner_text()
    assert "发现问题已责令改正" in result.inner_text() and "双随机抽查" in result.inner_text()
    assert "2026-03-06" in result.inner_text()
    page.get_by_role("link", name="查看输入与核验方法").first.click()
    page.wait_for_url(f"**/public/draws/{published['draw_id']}**")
    text = page.locator("main").inner_text()
    assert "xuncha-server draw verify" in text and "台账序号" in text and "3.8.17.21.33./5.11./" in text
    assert "向军（50011420190031）" in text or "向军" not in text  # name with certificate, never alone

    for url in (f"{town.url}/public/", page.url):
        page.goto(url)
        html = page.content()
        for private in (PRIVATE_NOTE, PRIVATE_FINDING, "13800001111", "xiang.j", "近亲属关系", "梨园村三组"):
            assert private not in html, (private, url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits a phone

    with page.expect_download() as download:
        page.get_by_role("link", name="下载抽取文件（JSON）").click()
    saved = tmp_path / "draw.json"
    download.value.save_as(saved)
    assert verify(json.loads(saved.read_text(encoding="utf-8"))).ok


def test_the_public_page_reads_in_english_and_loads_nothing_from_elsewhere(town: AppServer, browser: Browser,
                                                                            published: dict):
    page = browser.new_page(viewport=PHONE)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{town.url}/public/?lang=en")
    assert "Random inspection" in page.locator("main").inner_text()
    assert requests and all(u.startswith(town.url) for u in requests)
