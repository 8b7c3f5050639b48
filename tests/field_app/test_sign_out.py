"""A shared phone changes hands: sign-out keeps her work, the next user sees none of it (issue 9)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from field_app.store import LocalStore, StoreError
from field_app.store.store_file import StoreFile
from tests.support.store_writer import draft, envelope

R1 = "11111111-1111-4111-8111-111111111111"
R2 = "22222222-2222-4222-8222-222222222222"
WANG = {"username": "wang.cy", "display_name": "王春燕", "role": "supervisor"}
RAN = {"username": "ran.dm", "display_name": "冉冬梅", "role": "supervisor"}


def sign_in(store: LocalStore, user: dict[str, str], device: str) -> None:
    store.sign_in(server_url="http://127.0.0.1:1", user=user, device_id=device, device_token=f"token-{device}")


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(None if request.param == "memory" else tmp_path / "store")
    yield s
    s.close()


def test_sign_out_keeps_her_drafts_and_unsent_records_and_the_next_user_sees_none(store: LocalStore) -> None:
    sign_in(store, WANG, "dev-wang")
    store.save_draft(draft(R1, 1, 1))
    store.submit(envelope(R2, 1, {"village_id": "v1", "month": "2026-05"}))
    store.set_setting("editing", {"route": f"/check/{R1}"})

    left = store.sign_out()
    assert left == {"username": "wang.cy", "drafts": 1, "outbox": 1, "photos_pending": 0}
    assert store.signed_in_user() is None
    assert store.get_setting("device_token") is None

    sign_in(store, RAN, "dev-ran")
    assert store.signed_in_user() == "ran.dm"
    assert store.list_drafts() == [] and store.outbox() == [] and store.history() == []
    assert store.get_setting("editing") is None
    assert store.get_record(R1) is None and store.get_record(R2) is None
    store.sign_out()

    sign_in(store, WANG, "dev-wang-2")
    assert [d["record_id"] for d in store.list_drafts()] == [R1]
    assert [i["record_id"] for i in store.outbox()] == [R2]
    assert store.get_setting("editing") == {"route": f"/check/{R1}"}


def test_her_device_id_is_remembered_for_signing_in_again(store: LocalStore) -> None:
    assert store.own_device_id("wang.cy") is None
    sign_in(store, WANG, "dev-wang")
    store.sign_out()
    sign_in(store, RAN, "dev-ran")
    assert store.own_device_id("wang.cy") == "dev-wang"
    assert store.own_device_id("ran.dm") == "dev-ran"


def test_the_device_settings_stay_whoever_signs_in(store: LocalStore) -> None:
    store.set_setting("language", "en")
    sign_in(store, WANG, "dev-wang")
    assert store.get_setting("language") == "en"
    store.set_setting("language", "zh")
    store.sign_out()
    assert store.get_setting("server_url") == "http://127.0.0.1:1"  # the sign-in form is filled in
    assert store.get_setting("language") == "zh"


def test_her_partition_survives_a_restart_and_another_user_cannot_open_it(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    store = LocalStore(folder)
    sign_in(store, WANG, "dev-wang")
    store.save_draft(draft(R1, 1, 1))
    store.sign_out()
    sign_in(store, RAN, "dev-ran")
    store.close()

    again = LocalStore(folder)
    assert again.signed_in_user() == "ran.dm" and again.list_drafts() == []
    again.sign_out()
    sign_in(again, WANG, "dev-wang")
    assert [d["record_id"] for d in again.list_drafts()] == [R1]
    assert (folder / "users" / "wang.cy" / "work.json").exists()


def test_a_pinned_view_keeps_writing_into_the_partition_it_started_in(store: LocalStore) -> None:
    sign_in(store, WANG, "dev-wang")
    store.submit(envelope(R2, 1, {"village_id": "v1", "month": "2026-05"}))
    during_sync = store.pinned()
    store.sign_out()
    sign_in(store, RAN, "dev-ran")
    receipt = {"record_id": R2, "revision": 1, "received_at": "2026-05-14T01:30:00+00:00", "ledger_index": 7}
    during_sync.record_receipts([(R2, 1, receipt)])  # the pass that was running finishes
    during_sync.record_sync_success("2026-05-14T01:31:00Z")
    assert store.history() == [] and store.get_setting("last_sync_at") is None
    with pytest.raises(StoreError):
        during_sync.sign_out()
    store.sign_out()
    sign_in(store, WANG, "dev-wang")
    assert store.outbox() == [] and store.get_record(R2)["state"] == "synced"
    assert store.get_setting("last_sync_at") == "2026-05-14T01:31:00Z"


def test_a_folder_from_before_partitions_becomes_the_signed_in_users(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    old = LocalStore(folder)  # nobody signed in: the files stay in the folder itself
    old.save_draft(draft(R1, 1, 1))
    old.submit(envelope(R2, 1, {"village_id": "v1", "month": "2026-05"}))
    old.set_setting("last_sync_at", "2026-05-01T00:00:00Z")
    old.close()
    settings = StoreFile(folder / "settings.json")  # as the app before partitions left it
    settings.put("settings", "user", WANG)
    settings.put("settings", "device_token", "token-old")
    settings.close()

    store = LocalStore(folder)
    assert store.signed_in_user() == "wang.cy"
    assert [d["record_id"] for d in store.list_drafts()] == [R1]
    assert [i["record_id"] for i in store.outbox()] == [R2]
    assert store.get_setting("last_sync_at") == "2026-05-01T00:00:00Z"
    assert not (folder / "work.json").exists()
    store.sign_out()
    sign_in(store, RAN, "dev-ran")
    assert store.list_drafts() == [] and store.outbox() == []


def test_a_move_into_her_partition_cut_short_is_finished_at_the_next_start(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    old = LocalStore(folder)
    old.save_draft(draft(R1, 1, 1))
    old.submit(envelope(R2, 1, {"village_id": "v1", "month": "2026-05"}))
    old.close()
    settings = StoreFile(folder / "settings.json")
    settings.put("settings", "user", WANG)
    settings.close()
    target = folder / "users" / "wang.cy"
    target.mkdir(parents=True)
    os.replace(folder / "work.json", target / "work.json")  # killed right after the first move

    store = LocalStore(folder)
    assert [d["record_id"] for d in store.list_drafts()] == [R1]
    assert [i["record_id"] for i in store.outbox()] == [R2]
    assert not any((folder / name).exists() for name in ("work.json", "history", "reference.json"))
