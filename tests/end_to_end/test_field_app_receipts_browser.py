"""The real field app in headless Chromium, against a real server: a supervisor submits a
check, syncs, opens the record in her history and verifies the server's receipt (inclusion
proof against the signed checkpoint), in Chinese and in English.

Screenshots of every step are kept in test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from field_app.store import LocalStore
from tests.end_to_end.test_field_app_browser import VILLAGE, publish_sample_town
from tests.support.browser import FieldApp, chromium, open_page, shot
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser


def signed_in_phone(server: LiveServer, folder: Path) -> None:
    """A phone that signed in earlier (the sign-in screen has its own test)."""
    server.add_user("wang", "supervisor", display_name="王秀英")
    enrolled = server.enroll("wang")
    store = LocalStore(folder)
    try:
        for key, value in (("server_url", server.url), ("device_token", enrolled["token"]),
                           ("device_id", enrolled["device_id"]), ("user", enrolled["user"])):
            store.set_setting(key, value)
    finally:
        store.close()


def test_supervisor_submits_a_check_syncs_and_verifies_the_servers_receipt_in_both_languages(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    phone = tmp_path / "phone"
    publish_sample_town(sqlite_server)
    signed_in_phone(sqlite_server, phone)
    app = FieldApp(phone, server_url=sqlite_server.url).start()
    try:
        with chromium() as browser:
            page = open_page(browser, app.url)
            new_check = page.get_by_role("button", name="新建检查")
            new_check.first.wait_for(timeout=30_000)  # reference data came with the first sync
            new_check.first.click()
            page.get_by_text(f"村/社区：{VILLAGE}").wait_for()
            page.get_by_role("button", name="提交", exact=True).click()
            page.get_by_role("button", name="立即同步").click()
            page.get_by_text("待发送 0 条").wait_for(timeout=30_000)
            # one tap, as the sync pass ends: home changes in place, so the tap is never lost
            page.get_by_role("button", name="历史记录").first.click()
            page.get_by_role("textbox", name="搜索").wait_for(timeout=10_000)

            try:
                page.get_by_text("已同步").wait_for(timeout=30_000)
            except Exception:
                shot(page, "receipt_01_history_not_synced")
                raise
            page.get_by_text("台账 #", exact=False).first.wait_for()
            shot(page, "receipt_01_history_synced")
            page.get_by_role("button", name="详情").first.click()

            page.get_by_text("服务器回执").wait_for()
            page.get_by_text("台账序号 #", exact=False).wait_for()
            shot(page, "receipt_02_record_with_receipt")
            page.get_by_role("button", name="核验存证").click()
            verified = page.get_by_text("已核验：服务器已接收并记入台账 #", exact=False)
            verified.wait_for(timeout=30_000)
            line = verified.text_content() or verified.get_attribute("aria-label") or ""
            shot(page, "receipt_03_verified_zh")

            page.get_by_role("button", name="English").click()
            verified_en = page.get_by_text("Verified: the server received this record", exact=False)
            verified_en.wait_for()  # the verdict was kept: no need to ask the server again
            page.get_by_role("button", name="Verify receipt").wait_for()
            shot(page, "receipt_04_verified_en")
            page.get_by_role("button", name="中文").click()
            page.context.close()
    finally:
        app.stop()

    store = LocalStore(phone)
    try:
        [record] = [r for r in store.history() if r["kind"] == "remediation_check"]
        assert record["state"] == "synced"
        index = record["receipt"]["ledger_index"]
        kept = store.get_setting("receipt_checks")[record["record_id"]]
        assert kept["outcome"] == "verified" and kept["ledger_index"] == index
        assert kept["tree_size"] > index
    finally:
        store.close()
    assert f"#{index}" in line or line == "", line
