"""The field app as the demo's cleaning-team captain finds it on a new phone (issue 9), in
headless Chromium at phone size against a real server filled with the demo town:

- a check she submitted and the office sent back comes first on home with the office's
  reason; she opens it, sees the reason on top, fixes it and submits it again;
- the record's details show its photos, which open full size, and the review history;
- every screen in Chinese holds no stray English (ASCII words outside a short allow-list);
- on a fresh phone (an empty data folder) her own records arrive with her sign-in: the demo's
  sent-back check of 蒲花村 comes first on home with the office's reason, she fixes and
  resubmits it; history shows her past months; details show the photos taken on her other
  phone, which open full size.

One server and one browser for the module; screenshots in test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import chromium, phone_page, shot, type_into
from tests.support.live_server import LiveServer
from tests.support.photos import PHOTOS

pytestmark = pytest.mark.browser

CAPTAIN, PASSWORD = "wang.cy", "xuncha-demo-2025"
REASON = "照片看不清垃圾堆放点，请补拍"
PHOTO = PHOTOS / "gps_DSCN0010.jpg"
# ASCII a Chinese screen may hold: units and formats, what she typed, the app's name in English
# on the language switch, and machine values (hashes, ledger numbers)
ALLOWED = {"English", "KB", "MB", "km", "http", "https", "wang", "cy", "GPS"}
HEX = re.compile(r"^[0-9a-f]{16,}$")
TODO_TITLE = "被退回的检查，请修改后重新提交"
DEMO_SENT_BACK = "蒲花村"  # the demo's sent-back check of hers that waits for her fix
MONTH = re.compile(r"\b(20\d\d-[01]\d)\b")
ORDERS_TITLE = "未完成整改通知"  # home's last section: drawn after its top (field_app.ui.fold)
HISTORY_TOP = 4  # history's cards drawn with its filters; the fifth and on come after


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("demo-server")
    server = LiveServer(folder, f"sqlite:///{folder / 'xuncha.db'}")
    done = server.cli("demo")
    assert done.returncode == 0, done.stderr
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def screen_words(page: Any) -> set[str]:
    """The ASCII words on the screen as the accessibility tree reads them out."""
    text = page.evaluate("""() => Array.from(document.querySelectorAll('flt-semantics'))
        .map(e => (e.getAttribute('aria-label') || '') + ' ' + (e.innerText || '')).join(' ')""")
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_.-]*", text))


def stray_english(page: Any) -> set[str]:
    return {w for w in screen_words(page) if w not in ALLOWED and not HEX.match(w.lower())}


def sign_in(page: Any) -> None:
    page.get_by_role("button", name="登录", exact=True).wait_for()
    type_into(page, page.get_by_role("textbox", name="用户名"), CAPTAIN)
    type_into(page, page.get_by_role("textbox", name="密码"), PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()


def send_back_her_latest(server: LiveServer, reason: str) -> None:
    """The office (the demo's reviewer) sends back the captain's newest check made today."""
    office = server.enroll("zhou.hb", PASSWORD, kind="browser")
    with server.client(office["token"]) as c:
        heads = c.get("/api/v1/records", params={"author": CAPTAIN, "kind": "remediation_check", "limit": 1}).json()
        head = (heads.get("records") or heads.get("items"))[0]
        c.post(f"/api/v1/records/{head['record_id']}/reviews",
               json={"revision": head["envelope"]["revision"], "action": "send_back", "reason": reason}).raise_for_status()


def test_captain_fixes_a_sent_back_check_from_home_and_sees_its_photos_full_size(
    demo_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    with phone_page(browser, tmp_path / "phone", demo_server.url) as page:
        page.get_by_text("在线").first.wait_for()  # the sign-in screen knows the server is up
        assert not stray_english(page), stray_english(page)
        shot(page, "walk_01_sign_in")
        sign_in(page)

        # a check with a deduction and a gallery photo, submitted and sent
        page.get_by_role("button", name="新建检查").first.click(timeout=60_000)
        page.get_by_text("村/社区：", exact=False).wait_for()
        page.get_by_role("button", name="提交", exact=True).wait_for()  # the form whole, down to its end
        assert not stray_english(page), stray_english(page)
        page.get_by_role("button", name="扣分", exact=True).first.click()
        page.get_by_label("增加数量", exact=True).click()  # the stepper says what it steps
        page.get_by_text("扣 1 分", exact=True).wait_for()
        with page.expect_file_chooser() as chooser:
            page.get_by_role("button", name="相册", exact=True).first.click()
        chooser.value.set_files(str(PHOTO))
        page.get_by_text("照片 1 张").wait_for(timeout=60_000)
        shot(page, "walk_02_check")
        assert not stray_english(page), stray_english(page)
        page.get_by_role("button", name="提交", exact=True).click()
        page.get_by_text("已发送").first.wait_for(timeout=60_000)
        page.get_by_text(ORDERS_TITLE).wait_for()  # home whole, its orders below the villages
        shot(page, "walk_03_home_sent")
        assert not stray_english(page), stray_english(page)

        # the office sends it back: it comes first on home, with the reason
        send_back_her_latest(demo_server, REASON)
        page.get_by_role("button", name="立即同步").click()
        page.get_by_text("被退回的检查，请修改后重新提交").wait_for(timeout=60_000)
        page.get_by_text(f"退回原因：{REASON}").first.wait_for()
        shot(page, "walk_04_home_sent_back_first")
        page.get_by_role("button", name="去修改").first.click()
        page.get_by_text(f"办公室退回原因：{REASON}").wait_for()
        shot(page, "walk_05_edit_shows_reason")
        type_into(page, page.get_by_role("textbox", name="说明").first, "已按要求补拍并说明")
        page.get_by_role("button", name="提交", exact=True).click()
        # home without her card (the demo's older sent-back check stays), then the fix sent
        page.get_by_role("button", name="立即同步").wait_for(timeout=60_000)
        page.get_by_text(f"退回原因：{REASON}").wait_for(state="hidden", timeout=60_000)
        page.get_by_text("待发送 0 条", exact=True).wait_for(timeout=60_000)

        # details: photos, which open full size
        page.get_by_role("button", name="历史记录").first.click()
        page.get_by_role("button", name="详情").first.click()
        page.get_by_text("审核记录").wait_for()
        page.get_by_text(f"（{REASON}）", exact=False).first.wait_for()
        shot(page, "walk_06_details")
        assert not stray_english(page), stray_english(page)
        page.get_by_label("照片 1", exact=True).first.click()
        page.get_by_label("放大", exact=True).click()
        shot(page, "walk_07_photo_full_size")
        page.get_by_role("button", name="关闭").click()
        page.get_by_label("放大", exact=True).wait_for(state="hidden")

        # back twice, each once the screen before it has gone (a second tap while the first is
        # still being handled lands on the same back arrow)
        page.get_by_label("返回", exact=True).click()
        page.get_by_text("审核记录").wait_for(state="hidden")
        page.get_by_label("返回", exact=True).click()
        page.get_by_label("退出登录", exact=True).click()
        page.get_by_text("退出登录？").wait_for()
        shot(page, "walk_08_sign_out_dialog")
        assert not stray_english(page), stray_english(page)
        page.context.close()


def texts_on_screen(page: Any) -> list[str]:
    """The screen's texts, top to bottom, as the accessibility tree reads them out (its leaves)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('flt-semantics'))
        .filter(e => !e.querySelector('flt-semantics'))
        .map(e => ((e.getAttribute('aria-label') || '') + ' ' + (e.innerText || '')).trim())
        .filter(t => t)""")


def test_on_a_fresh_phone_her_sent_back_check_comes_first_her_past_months_and_photos_arrive(
    demo_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    with phone_page(browser, tmp_path / "fresh-phone", demo_server.url) as page:
        sign_in(page)

        # home: the office's sent-back check first, with its reason, from her first sync
        page.get_by_text(TODO_TITLE).wait_for(timeout=90_000)
        page.get_by_text(f"{DEMO_SENT_BACK} · ", exact=False).first.wait_for()
        shown = texts_on_screen(page)
        todos = [t for t in shown if re.search(r" · 20\d\d-[01]\d", t)]
        assert todos and todos[0].startswith(DEMO_SENT_BACK), todos
        reasons = [t for t in shown if t.startswith("退回原因：")]
        assert reasons and reasons[0] != "退回原因：—", reasons
        reason = reasons[0].removeprefix("退回原因：")
        shot(page, "fresh_01_home_sent_back_first")
        page.get_by_text(ORDERS_TITLE).wait_for()  # home whole, its orders below the villages
        assert not stray_english(page), stray_english(page)

        # she opens it: the reason on top; she fixes and resubmits it
        page.get_by_role("button", name="去修改").first.click()
        page.get_by_text(f"办公室退回原因：{reason}").wait_for()
        shot(page, "fresh_02_edit_shows_reason")
        type_into(page, page.get_by_role("textbox", name="说明").first, "已按要求补拍全景照片")
        page.get_by_role("button", name="提交", exact=True).click()
        page.get_by_text(f"{DEMO_SENT_BACK} · ", exact=False).first.wait_for(state="hidden", timeout=60_000)

        # history: her past months, from the server
        page.get_by_role("button", name="历史记录").first.click()
        page.get_by_role("button", name="详情").nth(HISTORY_TOP).wait_for()  # the cards below the first screenful
        this_month = date.today().strftime("%Y-%m")
        months = {m for t in texts_on_screen(page) for m in MONTH.findall(t) if m < this_month}
        assert len(months) >= 3, months
        shot(page, "fresh_03_history_past_months")

        # details of a past check of hers: its photos, one opened full size
        page.get_by_role("button", name="详情").nth(1).click()
        page.get_by_text("审核记录").wait_for()
        page.get_by_label("照片 1", exact=True).first.click()
        page.get_by_label("放大", exact=True).wait_for(timeout=60_000)
        page.get_by_label("放大", exact=True).click()
        shot(page, "fresh_04_photo_full_size")
        page.get_by_role("button", name="关闭").click()
        page.context.close()


def test_a_long_screen_draws_its_top_then_the_rest_and_the_address_bar_and_back_follow(
    demo_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    """The parts below a screen's first screenful come by themselves once its top is drawn
    (field_app.ui.fold): the check form's submit button, home's open orders after going back;
    the address bar follows the screen and the browser's back goes to the screen below."""
    with phone_page(browser, tmp_path / "phone", demo_server.url) as page:
        sign_in(page)
        page.get_by_text(ORDERS_TITLE).wait_for(timeout=60_000)  # home's orders: below its villages
        page.get_by_role("button", name="新建检查").first.click(timeout=60_000)
        page.get_by_text("村/社区：", exact=False).wait_for()
        page.get_by_role("button", name="提交", exact=True).wait_for()  # the form's end, with no tap or scroll
        page.wait_for_url(re.compile(r".*/check/[0-9a-f-]+$"))
        assert page.get_by_text(ORDERS_TITLE).count() == 0, "home is hidden under the form"

        page.go_back()
        page.get_by_text("各村检查", exact=False).first.wait_for()
        page.get_by_text(ORDERS_TITLE).wait_for()  # hidden while home's top was drawn, then shown
        page.get_by_text("村/社区：", exact=False).wait_for(state="hidden")
        page.get_by_role("button", name="历史记录").first.click()
        page.wait_for_url(re.compile(r".*/history$"))
        page.get_by_role("button", name="详情").nth(HISTORY_TOP).wait_for()  # the fifth card: below history's top
        shot(page, "walk_09_history_whole")
        page.context.close()
