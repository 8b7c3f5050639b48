"""双随机、一公开 end to end with real server and phone code (issue 11): the office plans, commits and draws;
both officers' phones receive the inspection on sync; the second officer's PIN, set on her own phone, reaches
the first one's; he records the inspection offline and she confirms with her PIN on his phone; it syncs with
its photo, receipt and ledger entry; the office approves; the public page in headless Chromium shows the
result and the draw, and nothing private.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from field_app.paths import photos_dir
from field_app.store import LocalStore
from field_app.sync.engine import SyncPass
from field_app.sync.errors import Offline
from field_app.sync.receipt_check import receipt_facts
from field_app.sync.transport import ServerApi, build_client
from field_app.ui.models.inspection_form import InspectionForm, assigned_inspections, new_pin_hash
from field_app.ui.views.inspection_pin import send_pin_hash
from server.demo import town as demo
from tests.support.app_server import AppServer, free_port
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    FieldApp,
    chromium,
    open_page,
    shot,
    type_into,
)
from tests.support.inspections import client, demo_town, enroll, run_draw, tasks_of
from tests.support.phone import small_jpeg
from tests.support.waits import wait_until
from xuncha_core.inspections.verify import verify

pytestmark = pytest.mark.browser

FINDING = "灭火器已过期三个月，负责人电话13800002222"
RECORDING = "DSJ-0042-20260309-0930"
PIN = "275319"


class OfficerPhone:
    """A phone's real store and sync code, enrolled as ``username`` on the town."""

    def __init__(self, srv: AppServer, folder: Path, username: str) -> None:
        enrolled = enroll(srv, username)
        self.folder, self.username, self.url = folder, username, srv.url
        self.store = LocalStore(folder)
        for key, value in (("server_url", srv.url), ("device_token", enrolled["token"]),
                           ("device_id", enrolled["device_id"]), ("user", enrolled["user"])):
            self.store.set_setting(key, value)

    def sync(self, url: str | None = None) -> Any:
        api = ServerApi(build_client(url or self.url, self.store.get_setting("device_token"), timeout=10))
        try:
            return SyncPass(self.store, api, self.folder).run()
        finally:
            api.close()

    def keep_photo(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        (photos_dir(self.folder) / f"{sha}.jpg").write_bytes(data)
        self.store.add_photo({"sha256": sha, "size": len(data), "mime": "image/jpeg"})
        return sha

    def tasks(self, draw_id: str) -> dict[str, dict[str, Any]]:
        return {k: t for k, t in self.store.reference("task").items() if t["draw_id"] == draw_id}


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with demo_town("sqlite", tmp_path_factory.mktemp("e2e-inspection")) as srv:
        yield srv


def test_a_drawn_inspection_is_recorded_on_site_by_two_officers_approved_and_published(
    town: AppServer, tmp_path: Path
) -> None:
    office = client(town, "zhou.hb")
    file = run_draw(town, office)
    draw_id = file["id"]

    xiang = OfficerPhone(town, tmp_path / "xiang", "xiang.j")
    xiang.sync()
    task = next(t for t in xiang.tasks(draw_id).values() if all(m["username"] for m in t["inspectors"]))
    partner_name = next(m["username"] for m in task["inspectors"] if m["username"] != "xiang.j")
    partner = OfficerPhone(town, tmp_path / "partner", partner_name)
    partner.sync()
    assert task["task_id"] in partner.tasks(draw_id)  # both officers' phones have it

    # home lists it first for him, with what he needs on site
    listed = assigned_inspections(xiang.store.reference("task"), [], [], "xiang.j")
    mine = next(i for i in listed if i.task_id == task["task_id"])
    assert mine.entity == task["entity"]["name"] and mine.address == task["entity"]["address"]
    assert mine.deadline == "2026-03-31" and len(mine.co_inspectors) == 1

    # she sets her PIN on her own phone (only the hash leaves it); his phone gets the hash on sync
    keys, pin_hash = new_pin_hash(partner_name, PIN, PIN)
    assert keys == [] and pin_hash is not None
    send_pin_hash(partner.store, pin_hash)
    xiang.sync()
    assert xiang.store.reference("pin")[partner_name]["pin_hash"] == pin_hash

    # on site, offline: the form, a photo, her PIN on his phone, into the outbox
    form = InspectionForm.start(task=task, username="xiang.j", recorder="向军")
    for matter_id, _, _ in form.matters():
        form.toggle_matter(matter_id, True)
    form.set_result("problem_corrected")
    form.set_findings(FINDING)
    form.add_recording(RECORDING)
    form.add_photo(xiang.keep_photo(small_jpeg(11)))
    xiang.store.save_draft(form.draft)
    assert form.confirm(partner_name, "000000", xiang.store.reference("pin")) == "wrong"
    assert form.confirm(partner_name, PIN, xiang.store.reference("pin")) == "confirmed"
    assert form.problems() == []
    envelope = form.envelope(author="xiang.j", device_id=xiang.store.get_setting("device_id"))
    xiang.store.submit(envelope)
    with pytest.raises(Offline):
        xiang.sync(url=f"http://127.0.0.1:{free_port()}")  # no network on site
    assert len(xiang.store.outbox()) == 1

    # back in signal: the record and its photo go, with a receipt from the ledger
    xiang.sync()
    assert xiang.store.outbox() == [] and xiang.store.photos_pending() == []
    held = xiang.store.get_record(envelope["record_id"])
    assert held is not None and held["state"] == "synced", held
    assert receipt_facts(held)["ledger_index"] >= 0
    assert task["task_id"] not in {i.task_id for i in assigned_inspections(
        xiang.store.reference("task"), xiang.store.history(kind="random_inspection"), [], "xiang.j")}

    # the office approves it; a result with findings is a major decision, so the legal reviewer
    # signs off next (法制审核) and only then is it published; the public page shows it and the
    # draw, and nothing private
    def publication() -> str:
        results = office.get("/api/v1/inspections/publication").json()["results"]
        return str(next(r["status"] for r in results if r["record_id"] == envelope["record_id"]))

    assert publication() == "due"
    approved = office.post(f"/api/v1/records/{envelope['record_id']}/reviews", json={"revision": 1, "action": "approve"})
    assert (approved.status_code, approved.json()["review_state"]) == (201, "legal_review"), approved.text
    assert publication() == "due"  # not public before the legal reviewer's sign-off
    legal = client(town, "tan.lj")
    signed = legal.post(f"/api/v1/records/{envelope['record_id']}/reviews", json={"revision": 1, "action": "approve"})
    assert (signed.status_code, signed.json()["review_state"]) == (201, "approved"), signed.text
    assert publication() == "published"
    public_page_shows_it(town, task, draw_id, day=envelope["content"]["started_at"][:10], private=(FINDING, "13800002222", RECORDING, "xiang.j", partner_name,
                                                       pin_hash["hash"], pin_hash["salt"], envelope["record_id"]))


def public_page_shows_it(
    town: AppServer, task: dict[str, Any], draw_id: str, *, day: str, private: tuple[str, ...]
) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=PHONE)
            page.goto(f"{town.url}/public/")
            rows = page.locator("li.result").filter(has_text=task["entity"]["name"])
            assert rows.count() == 1
            text = rows.first.inner_text()
            assert "发现问题已责令改正" in text and "双随机抽查" in text
            assert day in text  # the day of the inspection
            for url in (f"{town.url}/public/", f"{town.url}/public/draws/{draw_id}"):
                page.goto(url)
                html = page.content()
                assert [s for s in private if s in html] == [], url
            assert "xuncha-server draw verify" in page.locator("main").inner_text()
            downloaded = page.request.get(f"{town.url}/api/v1/public/draws/{draw_id}").json()
            assert verify(downloaded).ok
        finally:
            browser.close()



def test_the_officer_records_the_inspection_on_the_phone_screens_with_the_second_officers_pin(
    town: AppServer, tmp_path: Path
) -> None:
    """The same journey through the app's own screens in headless Chromium (issue 11, part 4)."""
    office = client(town, "zhou.hb")
    draw_id = run_draw(town, office)["id"]
    feed = client(town, "xiang.j").get("/api/v1/sync/changes", params={"after": 0}).json()["changes"]
    tasks = {t["task_id"]: t for t in tasks_of(feed)}
    task = next(t for t in tasks.values() if t["draw_id"] == draw_id and all(m["username"] for m in t["inspectors"]))
    partner_member = next(m for m in task["inspectors"] if m["username"] != "xiang.j")
    partner = OfficerPhone(town, tmp_path / "partner", partner_member["username"])
    send_pin_hash(partner.store, new_pin_hash(partner.username, PIN, PIN)[1] or {})
    # what the phone's home lists: her inspections not yet recorded (an earlier test may have recorded one)
    own = client(town, "xiang.j").get("/api/v1/sync/own-records", params={"after": 0, "limit": 200}).json()["records"]
    recorded = [{"kind": r["kind"], "state": "synced", "content": r["envelope"]["content"]} for r in own]
    order = [i.task_id for i in assigned_inspections(tasks, recorded, [], "xiang.j")]

    app = FieldApp(tmp_path / "xiang", server_url=town.url).launch().wait_ready()
    try:
        with chromium() as browser:
            page = open_page(browser, app.url)
            type_into(page, page.get_by_role("textbox", name="用户名"), "xiang.j")
            type_into(page, page.get_by_role("textbox", name="密码"), demo.DEMO_PASSWORD)
            page.get_by_role("button", name="登录", exact=True).click()
            page.get_by_text("分派给我的双随机检查").wait_for()
            page.get_by_text(task["entity"]["name"]).first.wait_for(timeout=60_000)  # arrives with the first sync
            shot(page, "inspection_01_home")
            page.get_by_role("button", name="开始检查").nth(order.index(task["task_id"])).click()

            page.get_by_text(task["entity"]["address"]).first.wait_for()
            for matter in task["matters"]:
                page.get_by_role("checkbox", name=matter["name"]).click()
            for matter in task["matters"]:
                expect(page.get_by_role("checkbox", name=matter["name"])).to_be_checked()
            page.get_by_role("button", name="发现问题已责令改正").click()
            expect(page.get_by_text("检查结果必须是配置的结果类别之一", exact=False)).to_have_count(0, timeout=30_000)  # redrawn
            type_into(page, page.get_by_role("textbox", name="发现的问题"), "灭火器过期")
            type_into(page, page.get_by_role("textbox", name="文件编号"), RECORDING)
            page.get_by_role("button", name="添加编号").click()
            try:
                page.get_by_text(RECORDING).wait_for()
            except Exception:
                shot(page, "inspection_02_no_recording")
                raise
            pin_box = page.get_by_role("textbox", name=f"{partner_member['name']} 的个人密码")
            # The form grew when the recording was added: type_into taps until the field has the focus.
            type_into(page, pin_box, PIN)
            page.get_by_role("button", name="确认", exact=True).click()
            try:
                page.get_by_text("已确认在场", exact=False).wait_for()
            except Exception:
                shot(page, "inspection_03_not_confirmed")
                raise
            shot(page, "inspection_02_confirmed")
            page.get_by_role("button", name="提交检查记录").click()
            try:
                page.get_by_text("分派给我的双随机检查").wait_for()
            except Exception:
                shot(page, "inspection_03_not_submitted")
                raise
    finally:
        app.stop()

    def on_server() -> list[dict[str, Any]]:
        due = office.get("/api/v1/inspections/publication").json()["results"]
        return [r for r in due if r["entity_credit_code"] == task["entity"]["credit_code"]]

    assert wait_until(on_server, "the inspection recorded on the phone to reach the server")
