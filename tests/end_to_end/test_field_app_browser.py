"""The real field app in headless Chromium, against a real server: sign in, record a check
with a deduction and a photo, kill the app with SIGKILL, start it again, and find the
draft intact; then submit it and find it in the outbox or on the server.

Screenshots of every step are kept in test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import FieldApp, chromium, field_text, open_page, shot, type_into
from tests.support.live_server import LiveServer
from tests.support.photos import PHOTOS
from tests.support.sheets import publish_reference

pytestmark = pytest.mark.browser

VILLAGE_ID = "fengjia"
VILLAGE = "冯家村"
CLEANER = "张堃"  # 堃 is outside GB2312: the bundled font must still draw it
PHOTO = PHOTOS / "gps_DSCN0010.jpg"


def publish_sample_town(server: LiveServer) -> dict:
    """The sample sheet, one village and one of its cleaners, as the office publishes them."""
    return publish_reference(server, (VILLAGE_ID, VILLAGE, "Fengjia"), cleaners=[("c1", CLEANER, VILLAGE_ID)])


def test_supervisor_signs_in_records_a_deduction_with_a_photo_and_the_draft_survives_a_killed_app(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    phone = tmp_path / "phone"
    app = FieldApp(phone, server_url=sqlite_server.url).launch()
    sheet = publish_sample_town(sqlite_server)
    sqlite_server.add_user("wang", "supervisor", display_name="王秀英")
    app.wait_ready()
    try:
        with chromium() as browser:
            page = open_page(browser, app.url)
            page.get_by_role("button", name="登录", exact=True).wait_for()
            shot(page, "01_sign_in")
            type_into(page, page.get_by_role("textbox", name="用户名"), "wang")
            type_into(page, page.get_by_role("textbox", name="密码"), "password-123")
            page.get_by_role("button", name="登录", exact=True).click()

            # home: the reference data arrives by the first sync
            try:
                page.get_by_text("已登录：王秀英").wait_for()
            except Exception:
                shot(page, "01_sign_in_failed")
                raise
            new_check = page.get_by_role("button", name="新建检查")
            new_check.first.wait_for(timeout=30_000)
            assert page.get_by_text(VILLAGE).count() > 0
            shot(page, "02_home")
            page.get_by_role("button", name="English").click()
            page.get_by_role("button", name="Sync now").wait_for()
            shot(page, "02_home_english")
            page.get_by_role("button", name="中文").click()
            new_check.first.click()

            # the check: one deduction with a note and a photo from the gallery
            page.get_by_text(f"村/社区：{VILLAGE}").wait_for()
            page.get_by_role("button", name="扣分", exact=True).first.click()
            type_into(page, page.get_by_role("textbox", name="说明").first, "路边有垃圾堆放")
            with page.expect_file_chooser() as chooser:
                page.get_by_role("button", name="相册", exact=True).first.click()
            chooser.value.set_files(str(PHOTO))
            page.get_by_text("照片 1 张").wait_for(timeout=60_000)
            shot(page, "03_check_with_deduction_and_photo")
            page.get_by_role("button", name="保存草稿").click()
            page.get_by_text("草稿已保存", exact=False).first.wait_for()
            page.context.close()

        app.kill()
        app.start()
        with chromium() as browser:
            page = open_page(browser, app.url)
            # the app reopens the form that was being edited, with its note and photo
            page.get_by_text(f"村/社区：{VILLAGE}").wait_for()
            page.get_by_text("照片 1 张").wait_for()
            shot(page, "04_after_kill_draft_reopened")
            assert field_text(page, page.get_by_role("textbox", name="说明").first) == "路边有垃圾堆放"

            page.get_by_role("button", name="提交", exact=True).click()
            page.get_by_text("已登录：王秀英").wait_for()
            shot(page, "05_home_after_submit")
            page.context.close()
    finally:
        app.stop()

    from field_app.store import LocalStore

    store = LocalStore(phone)
    try:
        records = [r for r in store.history() if r["kind"] == "remediation_check"]
        assert len(records) == 1
        record = records[0]
        assert record["state"] in ("waiting", "sending", "synced")
        content = record["content"]
        assert content["village_id"] == VILLAGE_ID and content["sheet_id"] == sheet["id"]
        [deduction] = content["deductions"]
        assert deduction["note"] == "路边有垃圾堆放"
        [sha] = deduction["photos"]
        assert (phone / "photos").rglob(f"{sha}*")
        assert store.photo(sha) is not None
        assert store.list_drafts() == []
    finally:
        store.close()
