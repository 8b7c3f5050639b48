""""Verify receipt" and conflict choices as the field app's screens run them, without a browser:
the proof is fetched from a real server on 127.0.0.1 through the sync package, and the
history screen is built from a real local store and its buttons' handlers are run."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import flet as ft
import pytest

from field_app.store import LocalStore
from field_app.ui.check_form import CheckForm
from field_app.ui.i18n import Translator
from field_app.ui.records import CHECKS_SETTING, check_receipt, remembered
from field_app.ui.views import history
from tests.conftest import ROOT
from tests.support.live_server import LiveServer, free_port
from tests.support.phone import Phone, small_jpeg
from xuncha_core.scoring import parse_sheet

SHEET = parse_sheet(json.loads((ROOT / "assets" / "config" / "scoring_sheet.sample.json").read_text(encoding="utf-8")))


@pytest.fixture
def phone(sqlite_server: LiveServer, tmp_path: Path) -> Phone:
    sqlite_server.add_user("wang", "supervisor")
    p = Phone(sqlite_server, tmp_path / "phone", "wang")
    yield p
    p.close()


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
        self.on_sync = None

    def reference(self, topic: str) -> dict[str, Any]:
        return self.store.reference(topic) or {}

    def message(self, text: str, *, error: bool = False) -> None:
        self.messages.append(text)

    def sync_now(self) -> None:
        self.sync_requests += 1

    def go(self, route: str) -> None:
        raise AssertionError(f"unexpected navigation to {route}")

    def view(self, route: str, title: str, controls: list[ft.Control], *, back: bool = False) -> ft.View:
        return ft.View(route=route, controls=controls)


def walk(control: Any) -> list[Any]:
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
