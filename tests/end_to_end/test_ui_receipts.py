""""Verify receipt" and conflict choices as the field app's screens run them, without a browser:
the proof is fetched from a real server on 127.0.0.1 through the sync package, and the
history screen is built from a real local store and its buttons' handlers are run; and the app
following real sync passes (home, history and a check form keep their controls: only the
indicator and the data that changed are redrawn, in place)."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from types import SimpleNamespace
from typing import Any

import flet as ft
import pytest

from field_app import clock
from field_app.store import LocalStore
from field_app.sync.receipt_check import CHECKS_SETTING, check_receipt, remembered
from field_app.ui import fold
from field_app.ui.i18n import Translator
from field_app.ui.models.check_form import CheckForm
from field_app.ui.models.live import LiveScreen
from field_app.ui.views import history
from tests.support.live_server import LiveServer, free_port
from tests.support.phone import Phone, small_jpeg
from tests.support.sheets import publish_reference, sample_sheet

SHEET = sample_sheet()


def test_verify_receipt_proves_a_synced_record_and_offline_says_a_connection_is_needed(phone: Phone) -> None:
    env = phone.save_recheck([small_jpeg(5)])
    assert check_receipt(phone.store, env["record_id"]).outcome == "not_synced"
    phone.sync()
    receipt = phone.store.get_record(env["record_id"])["receipt"]

    verdict = check_receipt(phone.store, env["record_id"])

    assert verdict.outcome == "verified" and not verdict.loud
    assert verdict.ledger_index == receipt["ledger_index"] and verdict.tree_size > receipt["ledger_index"]
    assert verdict.leaf_hash == receipt["leaf_hash"]
    phone.reopen()  # the verdict is kept on the phone
    assert remembered(phone.store, phone.store.get_record(env["record_id"])) == verdict

    phone.store.set_setting("server_url", f"http://127.0.0.1:{free_port()}")  # no server there
    offline = check_receipt(phone.store, env["record_id"])
    assert offline.outcome == "offline" and not offline.loud
    assert remembered(phone.store, phone.store.get_record(env["record_id"])) == verdict


def test_a_receipt_the_ledger_does_not_back_fails_loudly(phone: Phone) -> None:
    real = phone.save_recheck([], note="rubbish by the river")
    phone.sync()
    receipt = phone.store.get_record(real["record_id"])["receipt"]
    # a receipt for a record the server never saw, pointing at another record's ledger entry
    forged_id = str(uuid.uuid4())
    forged = {**real, "record_id": forged_id, "content": {**real["content"], "note": "never sent"}}
    phone.store.import_history([(forged, {**receipt, "record_id": forged_id})])

    verdict = check_receipt(phone.store, forged_id)

    assert verdict.outcome == "failed" and verdict.loud
    assert verdict.code == "receipt.entry_mismatch" and verdict.message_zh
    assert phone.store.get_setting(CHECKS_SETTING)[forged_id]["outcome"] == "failed"
    assert check_receipt(phone.store, real["record_id"]).outcome == "verified"


# -- the history screen, run without a browser -----------------------------------------
class Screen:
    """Just enough of the app's per-page context to build a screen and run its handlers."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.tr = Translator("zh")
        self.page = SimpleNamespace(update=lambda: None)
        self.services = SimpleNamespace(sync_status=lambda: None, sync=None)
        self.messages: list[str] = []
        self.sync_requests = 0
        self.live = LiveScreen()

    def update(self, *controls: ft.Control) -> None:
        pass

    def reference(self, topic: str) -> dict[str, Any]:
        return self.store.reference(topic) or {}

    def message(self, text: str, *, error: bool = False) -> None:
        self.messages.append(text)

    def later(self, fold: Any, *, fill: Any = None) -> Any:  # no stage here: the whole screen is built at once
        if fill is not None:
            fold.controls = fill()
        return fold

    def sync_now(self) -> None:
        self.sync_requests += 1

    def go(self, route: str) -> None:
        raise AssertionError(f"unexpected navigation to {route}")

    def view(self, route: str, title: str, controls: list[ft.Control], *, back: bool = False,
             actions: list[ft.Control] | None = None) -> ft.View:
        return ft.View(route=route, controls=controls)

    def today(self) -> date:
        return clock.today()

    def run(self, job: Any) -> None:  # thumbnails fetched later: none are shown here
        pass


def walk(control: Any) -> list[Any]:
    """The controls she can see: a screen kept on the stage hidden is not on her screen."""
    if getattr(control, "visible", True) is False:
        return []
    out = [control]
    for attr in ("controls", "content"):
        child = getattr(control, attr, None)
        for c in child if isinstance(child, list) else [child]:
            if isinstance(c, ft.Control):
                out += walk(c)
    return out


def texts(view: ft.View) -> list[str]:
    return [c.value for c in walk(view) if isinstance(c, ft.Text)]


def press(view: ft.View, label: str) -> None:
    [button] = [c for c in walk(view) if isinstance(c, ft.FilledButton | ft.OutlinedButton) and c.content == label]
    asyncio.run(button.on_click(None))


def conflicted_store() -> tuple[LocalStore, str]:
    store = LocalStore(None)
    form = CheckForm.start(village_id="fengjia", month="2025-03", sheet=SHEET, recorder="王秀英", cleaner_ids=[],
                           inspected_at="2025-03-14T09:30:00+08:00")
    did = form.add_deduction("public_areas", "exposed_rubbish")
    form.set_note(did, "河边垃圾")
    mine = form.envelope(author="wang", device_id="d1")
    store.submit(mine)
    theirs = {**mine, "device_id": "d2", "content": {**mine["content"], "deductions": [], "total_score": 100,
                                                       "orders": []}}
    store.record_conflict(mine["record_id"], 1, theirs)
    return store, mine["record_id"]


@pytest.mark.parametrize("choice", ["keep_mine", "take_server"])
def test_a_conflict_shows_both_versions_and_her_choice_resolves_it_and_redraws_the_list(choice: str) -> None:
    store, rid = conflicted_store()
    screen = Screen(store)
    view = history.build(screen)
    shown = texts(view)
    assert "此记录在服务器上已被修改" in shown and "我的版本" in shown and "服务器上的版本" in shown
    assert "扣分条数：1" in shown and "扣分条数：0" in shown and "说明：河边垃圾" in shown

    press(view, {"keep_mine": "保留我的，作为新版本", "take_server": "采用服务器的"}[choice])

    assert store.get_record(rid)["state"] != "conflict" and store.stats()["conflicts"] == 0
    after = texts(view)
    assert "此记录在服务器上已被修改" not in after and "我的版本" not in after
    if choice == "keep_mine":
        [item] = store.outbox()
        assert item["revision"] == 2 and item["envelope"]["content"]["deductions"][0]["note"] == "河边垃圾"
        assert screen.messages == ["已保留我的版本，将作为第 2 版发送"] and screen.sync_requests == 1
        assert "待发送" in after
    else:
        assert store.outbox() == [] and screen.messages == ["已采用服务器的版本"]
    store.close()


# -- the app following a real sync pass, without a browser ------------------------------
# Issue 4, "the UI never blocks": a sync pass that starts, pushes or ends redraws nothing but
# the indicator and the data that changed, in place, so a tap landing meanwhile is not lost
# and a form being filled in is never touched.
class Page:
    """Stands in for the browser's page (the one thing this test cannot have for real): it
    keeps the views the app shows, runs the app's tasks as they come and records what the app
    sends to the screen."""

    web = True  # a browser: the address bar follows the screen

    def __init__(self) -> None:
        self.route = "/"
        self.views: list[ft.View] = []
        self.sent: list[tuple[Any, ...]] = []
        self.dialogs: list[Any] = []

    def update(self, *controls: Any) -> None:
        self.sent.append(controls or (self,))

    def run_task(self, handler: Any, *args: Any) -> None:
        """The app's task, run to its end before going on (on a loop of its own: the app's
        first draw runs inside one)."""
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, handler(*args)).result()

    def navigate(self, route: str) -> None:
        self.route = route
        self.on_route_change(None)

    async def push_route(self, route: str) -> None:
        self.navigate(route)

    def show_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog)


@pytest.fixture(autouse=True)
def drawn_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """No phone reports that a screen's top is drawn: the app's fallback says so at once, and
    the rest of the screen follows at once (``field_app.ui.fold``)."""
    monkeypatch.setattr(fold, "FALLBACK_S", 0.0)
    monkeypatch.setattr(fold, "REST_S", 0.0)


def following_app(server: LiveServer, phone: Phone) -> tuple[Page, Any]:
    """The field app's page on a signed-in phone, following a sync scheduler the test runs."""
    from field_app.sync.scheduler import SyncScheduler
    from field_app.ui.app import Services, make_main

    services = Services(data_dir=phone.folder, store=phone.store)
    services.sync = SyncScheduler(phone.store, phone.folder)
    services.sync.on_change(services._notify)
    page = Page()
    asyncio.run(make_main(services)(page))
    return page, services.sync


def submit_check(phone: Phone, village_id: str, note: str = "") -> str:
    month = date.today().strftime("%Y-%m")
    form = CheckForm.start(village_id=village_id, month=month, sheet=SHEET, recorder="王秀英", cleaner_ids=[])
    if note:
        form.content["note"] = note
    phone.store.submit(form.envelope(author=phone.username, device_id=phone.device_id))
    return form.record_id


def buttons(view: ft.View, label: str) -> list[Any]:
    return [c for c in walk(view) if isinstance(c, ft.FilledButton | ft.OutlinedButton) and c.content == label]


def ids(controls: list[Any]) -> list[int]:
    """Control identities (controls are dataclasses: ``==`` would call a rebuilt copy equal)."""
    return [id(c) for c in controls]


def test_a_sync_pass_ending_keeps_home_and_history_buttons_under_her_finger_and_updates_counts_in_place(
    sqlite_server: LiveServer, phone: Phone
) -> None:
    publish_reference(sqlite_server, ("fengjia", "冯家村"), ("shanxia", "山下村"))
    page, sync = following_app(sqlite_server, phone)
    [home] = page.views
    history_button = buttons(home, "历史记录")[0]
    assert "尚未同步" in texts(home) and not buttons(home, "新建检查")

    sync.run_once()  # the first pass brings the villages: drawn into the same screen
    assert ids(page.views) == ids([home]) and buttons(home, "历史记录")[0] is history_button
    assert len(buttons(home, "新建检查")) == 2 and "尚未同步" not in texts(home)

    submit_check(phone, "fengjia")
    page.navigate("/")  # back home after "submit"
    [home] = page.views
    waiting = next(c for c in walk(home) if isinstance(c, ft.Text) and c.value == "待发送 1 条")
    [new_check] = buttons(home, "新建检查")  # 山下村's; 冯家村 is done
    history_button = buttons(home, "历史记录")[0]
    page.sent.clear()

    sync.run_once()  # pushes the check and stores its receipt

    assert ids(page.views) == ids([home]), "the screen was rebuilt under her finger"
    assert ids(buttons(home, "新建检查")) == ids([new_check]) and buttons(home, "历史记录")[0] is history_button
    assert waiting.value == "待发送 0 条" and id(waiting) in ids(walk(home))
    assert page.sent and all(page not in sent for sent in page.sent), "the whole page was sent, not what changed"

    # history: the synced row keeps its controls while a new record goes waiting → sending → synced
    later = submit_check(phone, "shanxia", note="河边垃圾")
    page.navigate("/history")
    listing = page.views[-1]
    assert texts(listing).count("待发送") == 1 and texts(listing).count("已发送") == 1
    before = buttons(listing, "详情")  # held, so no new control can take a freed one's id
    seen: list[list[str]] = []
    sync.on_change(lambda _: seen.append(texts(listing)))

    sync.run_once()

    assert page.views[-1] is listing and texts(listing).count("已发送") == 2
    assert any("发送中" in shown for shown in seen), "the row did not show sending while the pass pushed"
    after = ids(buttons(listing, "详情"))
    assert len(after) == 2 and len(set(after) & set(ids(before))) == 1, "the unchanged row was rebuilt"
    assert phone.store.get_record(later)["state"] == "synced"


def test_a_sync_pass_never_touches_a_check_form_being_filled_in(sqlite_server: LiveServer, phone: Phone) -> None:
    publish_reference(sqlite_server, ("fengjia", "冯家村"), ("shanxia", "山下村"))
    page, sync = following_app(sqlite_server, phone)
    sync.run_once()
    submit_check(phone, "fengjia")  # something to send while she fills in the next form
    page.navigate("/")
    [new_check] = buttons(page.views[0], "新建检查")
    new_check.on_click(None)  # 山下村
    form_view = page.views[-1]
    assert page.route.startswith("/check/")
    deduct = next(c for c in walk(form_view) if isinstance(c, ft.OutlinedButton) and c.content == "扣分")
    deduct.on_click(None)  # a deduction, with its note field to type in
    before = ids(walk(form_view))
    field = next(c for c in walk(form_view) if isinstance(c, ft.TextField) and c.label == "说明")
    field.value = "路边有垃圾堆"  # half-typed, not saved yet
    page.sent.clear()

    sync.run_once()

    assert page.views[-1] is form_view and ids(walk(form_view)) == before and field.value == "路边有垃圾堆"
    sent = [c for controls in page.sent for c in controls]
    assert sent and all(c is not page for c in sent), "the whole page was sent while she typed"
    assert all(id(c) not in before or isinstance(c, ft.ProgressBar) for c in sent), "the form was redrawn"
    assert phone.store.stats()["outbox"] == 0
