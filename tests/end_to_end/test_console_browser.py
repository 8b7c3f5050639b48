"""The office console in headless Chromium, against a record the real field-app client synced (issue 10).

A reviewer signs in, finds the phone's re-check in the queue, opens its photo full size,
sends it back with a reason; the phone's next sync brings the reason into its local store;
the supervisor corrects it and syncs again, and the reviewer approves the resubmission.
Screenshots of the dashboard, a record, the ranking and the printed report are kept in
``test-artifacts/`` (ignored by git, kept by CI).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from field_app import VERSION
from tests.support.browser import ARTIFACTS, chromium
from tests.support.live_server import LiveServer
from tests.support.phone import Phone, iter_real_photos
from tests.support.records import member, remediation_content

pytestmark = pytest.mark.browser
REASON = "照片里看不清整改后的垃圾池，请补拍一张全景"
MONTH = "2026-11"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("console-browser")
    srv = LiveServer(tmp / "data", f"sqlite:///{tmp / 'data' / 'xuncha.sqlite3'}").start()
    srv.add_user("zhou.hb", "office_reviewer", display_name="周海滨")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1024, "height": 1366}, locale="zh-CN")  # a tablet, upright
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{server.url}/console/")
    page.fill("input[name=username]", "zhou.hb")
    page.fill("input[name=password]", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/console/")
    yield page
    context.close()


def _shot(page: Any, name: str, *, full: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / f"console_{name}.png"), full_page=full)


def _decide(page: Any, button: str, reason: str = "") -> None:
    if reason:
        page.locator("form:has(button[value=send_back]) textarea[name=reason]").fill(reason)
    page.click(f"button[value={button}]")
    page.wait_for_load_state("load")


def test_a_reviewer_sends_back_a_synced_record_the_phone_learns_why_and_the_resubmission_is_approved(
    page: Any, server: LiveServer, tmp_path: Path
) -> None:
    server.add_user("wang.dz", "supervisor", display_name="王队长")
    phone = Phone(server, tmp_path / "phone", "wang.dz")
    photo = next(iter_real_photos("gps_*.jpg"))
    envelope = phone.save_recheck([photo], note="垃圾池已清理")
    phone.sync()
    sha = envelope["photos"][0]

    page.goto(f"{server.url}/console/")  # the phone's health: heard from, with its app version
    assert VERSION in page.locator("tr", has_text="王队长（wang.dz）").inner_text()

    page.goto(f"{server.url}/console/records?author=wang.dz")
    page.click(f"a[href='/console/records/{envelope['record_id']}']")
    page.wait_for_selector(f"img[src='/console/photos/{sha}']")
    assert page.locator(f"img[src='/console/photos/{sha}']").evaluate("img => img.naturalWidth") > 0
    with page.context.expect_page() as opened:
        page.click(f"a[href='/console/photos/{sha}']")
    full = opened.value
    full.wait_for_load_state()
    assert full.evaluate("document.images[0].naturalWidth") == Image.open(io.BytesIO(photo)).width  # full size
    full.close()
    _shot(page, "record_detail")

    _decide(page, "send_back", REASON)
    assert page.locator(".badge.state-sent_back").first.is_visible()

    phone.sync()
    view = phone.store.get_record(envelope["record_id"])
    assert view is not None and view["state"] == "sent_back" and view["review"]["reason"] == REASON

    phone.edit(envelope, "已补拍全景照片")
    phone.sync()
    page.reload()
    assert page.locator(".badge.state-submitted").first.is_visible()
    assert page.get_by_text("已补拍全景照片").first.is_visible()  # the diff between revisions
    _decide(page, "approve")
    assert page.locator(".badge.state-approved").first.is_visible()
    phone.sync()
    assert phone.store.get_record(envelope["record_id"])["state"] == "approved"
    page.goto(f"{server.url}/console/")  # nothing left in the phone's outbox
    assert page.locator("tr", has_text="王队长（wang.dz）").locator("td.num").first.inner_text() == "0"
    phone.close()


def test_dashboard_ranking_and_printed_report_render_for_the_office(page: Any, server: LiveServer) -> None:
    supervisor = member(server, "li.dz", "supervisor")
    reviewer = member(server, "zhao.bgs", "office_reviewer")
    for village, score in (("v-shimen", 96), ("v-puhua", 78.5), ("v-shawan", 88)):
        env = supervisor.envelope(content=remediation_content(village, MONTH, total_score=score))
        with supervisor.client() as c:
            c.post("/api/v1/records", json=env).raise_for_status()
        with reviewer.client() as c:
            c.post(f"/api/v1/records/{env['record_id']}/reviews", json={"revision": 1, "action": "approve"}).raise_for_status()

    page.goto(f"{server.url}/console/")
    assert page.locator(".card").count() >= 6
    _shot(page, "dashboard")

    page.goto(f"{server.url}/console/ranking?month={MONTH}")
    rows = page.locator("table tbody tr")
    assert rows.count() == 3 and "v-shimen" in rows.nth(0).inner_text()
    assert page.locator("tr.black").count() == 1
    _shot(page, "ranking")

    page.goto(f"{server.url}/console/report?month={MONTH}")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()  # the print stylesheet hides the menu
    _shot(page, "report_printed")
    page.pdf(path=str(ARTIFACTS / "console_report.pdf"), format="A4")


def test_the_api_docs_render_offline_from_assets_the_server_ships(browser: Any, server: LiveServer) -> None:
    context = browser.new_context()
    outside: list[str] = []
    context.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
                  if not route.request.url.startswith(server.url) else route.continue_())
    page = context.new_page()
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    page.wait_for_selector(".swagger-ui .auth-wrapper .authorize")  # the bearer scheme: "Authorize" is there
    page.goto(f"{server.url}/redoc")
    page.wait_for_selector("redoc h1, .api-content h1")
    assert outside == []
    context.close()
