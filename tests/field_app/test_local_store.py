"""The field app's local store: drafts, outbox, receipts, conflicts, history, pull (issues 3 and 4)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from field_app.store import LocalStore, StoreError
from field_app.store.store_file import StoreFile
from tests.support.store_writer import draft, envelope
from xuncha_core.errors import ConflictError, ValidationError

R1 = "11111111-1111-4111-8111-111111111111"
R2 = "22222222-2222-4222-8222-222222222222"
R3 = "33333333-3333-4333-8333-333333333333"
SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(None if request.param == "memory" else tmp_path / "store")
    yield s
    s.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "store"


def receipt(rid: str, rev: int, **extra: Any) -> dict[str, Any]:
    return {"record_id": rid, "revision": rev, "digest": "d" * 64, "received_at": "2025-05-14T02:00:00+00:00",
            "ledger_index": 12, "leaf_hash": "e" * 64, "photos_missing": [], **extra}  # fmt: skip


def check(rid: str, rev: int = 1, village: str = "v-shiqiao", month: str = "2025-05", **content: Any) -> dict[str, Any]:
    return envelope(rid, rev, {"village_id": village, "month": month, "score": 92, **content})


def test_settings_are_kept_across_restarts(folder: Path) -> None:
    LocalStore(folder).set_setting("server_url", "https://xuncha.example.cn")
    store = LocalStore(folder)
    assert store.get_setting("server_url") == "https://xuncha.example.cn"
    assert store.get_setting("language", "zh") == "zh"


def test_a_draft_killed_mid_form_reopens_as_it_was_saved(folder: Path) -> None:
    LocalStore(folder).save_draft(draft(R1, 1, 3))
    assert LocalStore(folder).get_draft(R1) == draft(R1, 1, 3)


def test_drafts_are_saved_listed_and_discarded(store: LocalStore) -> None:
    store.save_draft(draft(R1, 1, 1))
    store.save_draft(draft(R2, 1, 1))
    store.save_draft(draft(R1, 1, 2))
    assert [(d["record_id"], d["content"]["n"]) for d in store.list_drafts()] == [(R1, 2), (R2, 1)]
    assert store.discard_draft(R1) is True
    assert store.get_draft(R1) is None
    assert store.discard_draft(R1) is False


def test_a_malformed_draft_is_refused_with_every_problem_named(store: LocalStore) -> None:
    with pytest.raises(ValidationError) as info:
        store.save_draft({"record_id": "", "revision": 0, "content": []})
    assert {p.code for p in info.value.problems} == {"draft.bad_id", "draft.bad_revision", "draft.bad_content"}
    assert store.list_drafts() == []


def test_submit_moves_the_draft_to_the_outbox(store: LocalStore) -> None:
    store.save_draft(draft(R1, 1, 1))
    item = store.submit(check(R1))
    assert item is not None and item["state"] == "waiting"
    assert store.get_draft(R1) is None
    assert [(i["record_id"], i["revision"]) for i in store.outbox()] == [(R1, 1)]
    assert store.get_record(R1)["state"] == "waiting"
    assert store.stats()["outbox"] == 1


def test_a_double_tap_on_submit_keeps_one_copy(store: LocalStore) -> None:
    first = store.submit(check(R1))
    assert store.submit(check(R1)) == first
    assert len(store.outbox()) == 1
    with pytest.raises(ConflictError) as info:
        store.submit(check(R1, score=40))
    assert info.value.code == "store.revision_exists"
    assert store.outbox()[0]["envelope"]["content"]["score"] == 92


def test_an_invalid_record_is_refused_and_nothing_changes(store: LocalStore) -> None:
    store.save_draft(draft(R1, 1, 1))
    bad = {**check(R1), "revision": 2, "device_time": "yesterday"}
    with pytest.raises(ValidationError) as info:
        store.submit(bad)
    assert {p.code for p in info.value.problems} >= {"record.bad_base", "record.bad_time"}
    assert store.outbox() == []
    assert store.get_draft(R1) is not None


def test_outbox_order_is_the_order_of_submission_never_the_device_clock(store: LocalStore) -> None:
    store.submit({**check(R1), "device_time": "2031-01-01T00:00:00+08:00"})
    store.submit({**check(R2), "device_time": "2000-01-01T00:00:00+08:00"})
    store.submit({**check(R3), "device_time": "2025-05-14T09:00:00+08:00"})
    assert [i["record_id"] for i in store.outbox()] == [R1, R2, R3]
    seqs = [i["seq"] for i in store.outbox()]
    assert seqs == sorted(seqs)


def test_local_fields_travel_beside_the_envelope_not_in_it(store: LocalStore) -> None:
    store.submit({**check(R1), "village_name": "石桥村"})
    item = store.outbox()[0]
    assert item["local"] == {"village_name": "石桥村"}
    assert "village_name" not in item["envelope"]


def test_a_receipt_moves_the_revision_from_outbox_to_history(store: LocalStore) -> None:
    store.submit(check(R1))
    store.set_outbox_state(R1, 1, "sending")
    store.record_receipt(R1, 1, receipt(R1, 1))
    assert store.outbox() == []
    view = store.get_record(R1)
    assert (view["state"], view["receipt"]["ledger_index"]) == ("synced", 12)
    store.record_receipt(R1, 1, receipt(R1, 1))  # a replayed answer changes nothing
    assert store.accepted_revisions(R1)[1]["receipt"] == receipt(R1, 1)
    with pytest.raises(StoreError) as info:
        store.record_receipt(R2, 1, receipt(R2, 1))
    assert info.value.code == "store.not_in_outbox"


def test_outbox_states_are_checked(store: LocalStore) -> None:
    store.submit(check(R1))
    store.set_outbox_state(R1, 1, "error", {"code": "network.cut"})
    assert store.outbox()[0]["error"] == {"code": "network.cut"}
    assert store.stats()["errors"] == 1
    with pytest.raises(ValidationError):
        store.set_outbox_state(R1, 1, "lost")


def test_a_draft_of_a_revision_already_in_the_outbox_is_dropped_at_start(folder: Path) -> None:
    LocalStore(folder).submit(check(R1))
    # However it got there (an old copy of the file put back), a draft of a submitted revision:
    StoreFile(folder / "work.json").put("drafts", R1, draft(R1, 1, 5))
    store = LocalStore(folder)
    assert store.list_drafts() == []
    assert len(store.outbox()) == 1
    assert any(R1 in note for note in store.recovery_report.reconciled)


def test_a_kill_between_receipt_and_outbox_writes_leaves_one_copy(folder: Path) -> None:
    store = LocalStore(folder)
    store.submit(check(R1))
    item_file = folder / "work.json"
    before = item_file.read_bytes()
    store.record_receipt(R1, 1, receipt(R1, 1))
    store.close()
    item_file.write_bytes(before)  # the outbox removal never reached the disk
    store = LocalStore(folder)
    assert store.outbox() == []
    assert store.get_record(R1)["state"] == "synced"


def test_sending_left_over_by_a_kill_shows_as_waiting_again(folder: Path) -> None:
    store = LocalStore(folder)
    store.submit(check(R1))
    store.set_outbox_state(R1, 1, "sending")
    assert LocalStore(folder).outbox()[0]["state"] == "waiting"


def server_version(rid: str, rev: int, **content: Any) -> dict[str, Any]:
    env = check(rid, rev, **content)
    return {**env, "author": "li.na", "device_id": "phone-2"}


def test_a_conflict_shows_both_versions_and_keep_mine_makes_a_new_revision(store: LocalStore) -> None:
    store.submit(check(R1, score=80))
    store.record_conflict(R1, 1, server_version(R1, 1, score=95))
    view = store.get_record(R1)
    assert view["state"] == "conflict"
    assert view["server_envelope"]["content"]["score"] == 95
    assert view["content"]["score"] == 80
    assert store.stats()["conflicts"] == 1
    with pytest.raises(ConflictError):
        store.set_outbox_state(R1, 1, "sending")

    item = store.resolve_conflict(R1, "keep_mine")
    assert item is not None
    assert (item["revision"], item["envelope"]["base_revision"]) == (2, 1)
    assert item["envelope"]["content"]["score"] == 80
    assert [(i["revision"], i["state"]) for i in store.outbox()] == [(2, "waiting")]
    assert store.accepted_revisions(R1)[1]["envelope"]["content"]["score"] == 95
    [archived] = store.conflicts_archive()
    assert archived["choice"] == "keep_mine"
    assert archived["local"][0]["envelope"]["content"]["score"] == 80


def test_take_server_keeps_the_discarded_local_version_in_the_archive(store: LocalStore) -> None:
    store.submit(check(R1, score=80))
    store.save_draft({**draft(R1, 2, 1), "base_revision": 1})
    store.record_conflict(R1, 1, server_version(R1, 2, score=95))
    assert store.resolve_conflict(R1, "take_server") is None
    assert store.outbox() == []
    assert store.accepted_revisions(R1)[2]["envelope"]["content"]["score"] == 95
    assert store.conflicts_archive()[0]["local"][0]["envelope"]["content"]["score"] == 80
    rebased = store.get_draft(R1)
    assert (rebased["revision"], rebased["base_revision"]) == (3, 2), "her newer draft must build on the server's head"
    with pytest.raises(StoreError):
        store.resolve_conflict(R1, "take_server")


def test_a_kill_during_a_conflict_resolution_is_finished_at_start(folder: Path) -> None:
    store = LocalStore(folder)
    store.submit(check(R1, score=80))
    store.record_conflict(R1, 1, server_version(R1, 1, score=95))
    before = (folder / "work.json").read_bytes()
    store.resolve_conflict(R1, "keep_mine")
    store.close()
    (folder / "work.json").write_bytes(before)  # the outbox write never happened
    store = LocalStore(folder)
    assert [(i["revision"], i["state"]) for i in store.outbox()] == [(2, "waiting")]
    assert len(store.conflicts_archive()) == 1


def test_history_filters_by_village_month_kind_and_text(store: LocalStore) -> None:
    store.submit(check(R1, village="v-shiqiao", month="2025-04", note="河道漂浮物"))
    store.record_receipt(R1, 1, receipt(R1, 1))
    store.submit(check(R2, village="v-longtan", month="2025-05", note="垃圾桶满溢"))
    store.save_draft({**draft(R3, 1, 1), "content": {"village_id": "v-shiqiao", "month": "2025-05"}})
    assert {v["record_id"] for v in store.history()} == {R1, R2, R3}
    assert {v["record_id"] for v in store.history(village_id="v-shiqiao")} == {R1, R3}
    assert [v["record_id"] for v in store.history(month="2025-04")] == [R1]
    assert [v["record_id"] for v in store.history(text="满溢")] == [R2]
    assert store.history(kind="inspection_result") == []
    assert {v["record_id"]: v["state"] for v in store.history()} == {R1: "synced", R2: "waiting", R3: "draft"}


def test_a_sent_back_record_shows_the_reason_and_can_be_edited_as_a_new_revision(store: LocalStore) -> None:
    store.submit(check(R1))
    store.record_receipt(R1, 1, receipt(R1, 1))
    store.apply_review(R1, 1, "send_back", "照片不清楚，请补拍", reviewer="wang.office")
    view = store.get_record(R1)
    assert (view["state"], view["review"]["reason"]) == ("sent_back", "照片不清楚，请补拍")
    new = store.edit_record(R1)
    assert (new["revision"], new["base_revision"]) == (2, 1)
    assert store.get_record(R1)["state"] == "draft"
    store.submit(check(R1, 2))
    store.record_receipt(R1, 2, receipt(R1, 2))
    store.apply_review(R1, 2, "approve")
    assert store.get_record(R1)["state"] == "approved"
    assert set(store.get_record(R1)["receipts"]) == {"1", "2"}


def test_a_review_that_arrives_before_the_receipt_is_applied_when_it_comes(folder: Path) -> None:
    store = LocalStore(folder)
    store.submit(check(R1))
    store.apply_changes(
        [{"seq": 9, "topic": "review", "key": R1, "deleted": False,
          "payload": {"record_id": R1, "revision": 1, "action": "approve", "reason": None, "reviewer": "wang"}}],
        9,
    )  # fmt: skip
    store.record_receipt(R1, 1, receipt(R1, 1))
    assert LocalStore(folder).get_record(R1)["state"] == "approved"


def test_a_pulled_page_and_its_cursor_are_stored_together(store: LocalStore) -> None:
    store.apply_changes(
        [
            {"seq": 1, "topic": "village", "key": "v1", "payload": {"name": "石桥村"}, "deleted": False},
            {"seq": 2, "topic": "village", "key": "v2", "payload": {"name": "龙潭社区"}, "deleted": False},
            {"seq": 3, "topic": "cleaner", "key": "c1", "payload": {"name": "刘芳"}, "deleted": False},
        ],
        3,
    )
    store.apply_changes([{"seq": 4, "topic": "village", "key": "v1", "payload": None, "deleted": True}], 4)
    assert store.reference("village") == {"v2": {"name": "龙潭社区"}}
    assert store.reference("cleaner") == {"c1": {"name": "刘芳"}}
    assert store.cursor() == 4
    with pytest.raises(ValidationError):
        store.apply_changes([{"topic": "village", "key": "v9", "payload": {}}, {"topic": ""}], 5)
    assert store.cursor() == 4
    assert "v9" not in store.reference("village")


def test_photos_pending_are_those_the_outbox_needs_or_a_receipt_owes(store: LocalStore) -> None:
    store.add_photo({"sha256": SHA_A, "size": 300_000, "mime": "image/jpeg"})
    store.add_photo({"sha256": SHA_B, "size": 200_000, "mime": "image/jpeg"})
    store.submit(envelope(R1, 1, {"month": "2025-05"}, [SHA_A, SHA_B]))
    assert [p["sha256"] for p in store.photos_pending()] == [SHA_A, SHA_B]
    store.set_photo_progress(SHA_A, 65_536, 300_000)
    assert store.photo(SHA_A)["offset"] == 65_536
    store.mark_photo_uploaded(SHA_A, {"ledger_index": 3})
    store.record_receipt(R1, 1, receipt(R1, 1, photos_missing=[SHA_B]))
    assert [p["sha256"] for p in store.photos_pending()] == [SHA_B]
    store.mark_photo_uploaded(SHA_B)
    assert store.photos_pending() == []
    store.add_photo({"sha256": SHA_A, "size": 300_000})
    assert store.photo(SHA_A)["uploaded"] is True, "re-adding a photo forgot its upload"


def test_history_is_paged_and_changing_a_returned_record_changes_nothing(store: LocalStore) -> None:
    for i in range(5):
        rid = f"00000000-0000-4000-8000-{i:012d}"
        store.submit(envelope(rid, 1, {"month": "2025-05", "village_id": "v1", "n": i}))
        store.record_receipt(rid, 1, receipt(rid, 1))
    everything = store.history()
    page = store.history(limit=2, offset=2)
    assert [v["record_id"] for v in page] == [v["record_id"] for v in everything[2:4]]
    page[0]["content"]["n"] = 99
    assert store.get_record(page[0]["record_id"])["content"]["n"] != 99


def test_home_screen_stats(store: LocalStore) -> None:
    store.save_draft(draft(R3, 1, 1))
    store.submit(check(R1))
    store.record_sync_success("2025-05-14T02:00:00+00:00")
    stats = store.stats()
    assert (stats["outbox"], stats["drafts"], stats["last_sync_at"]) == (1, 1, "2025-05-14T02:00:00+00:00")


def test_saves_from_many_threads_are_all_kept(store: LocalStore) -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(40)]

    def work(rid: str) -> None:
        store.save_draft(draft(rid, 1, 0))
        store.submit(envelope(rid, 1, {"n": 0}))

    threads = [threading.Thread(target=work, args=(rid,)) for rid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i["record_id"] for i in store.outbox()) == ids
    assert len({i["seq"] for i in store.outbox()}) == 40
    assert store.list_drafts() == []


def test_an_index_left_behind_by_a_kill_is_rebuilt_at_start_and_the_list_is_right(folder: Path) -> None:
    store = LocalStore(folder)
    store.submit(check(R1, month="2025-04"))
    store.record_receipt(R1, 1, receipt(R1, 1))
    shard = folder / "history_index" / "2025-05.json"
    store.submit(check(R2, month="2025-05", note="河道漂浮物"))
    before = shard.read_bytes() if shard.exists() else None
    store.record_receipt(R2, 1, receipt(R2, 1))
    store.apply_review(R2, 1, "send_back", "照片不清楚")
    store.close()
    # The month file was replaced but the kill came before its index write:
    if before is None:
        shard.unlink()
    else:
        shard.write_bytes(before)
    store = LocalStore(folder)
    report = store.recovery_report
    assert report.ok and any("2025-05" in note for note in report.reindexed), report.as_dict()
    assert [(v["record_id"], v["state"]) for v in store.history(month="2025-05")] == [(R2, "sent_back")]
    assert [v["record_id"] for v in store.history(text="漂浮")] == [R2]
    store.close()
    assert LocalStore(folder).recovery_report.reindexed == [], "a rebuilt index must be trusted next time"


def test_a_garbled_index_never_stops_the_app_and_is_rebuilt_from_the_month_files(folder: Path) -> None:
    store = LocalStore(folder)
    for i, month in enumerate(["2025-03", "2025-04", "2025-05"]):
        rid = f"00000000-0000-4000-8000-{i:012d}"
        store.submit(envelope(rid, 1, {"month": month, "village_id": "v1", "n": i}))
        store.record_receipt(rid, 1, receipt(rid, 1))
    expected = store.history()
    store.close()
    shards = sorted((folder / "history_index").glob("*.json"))
    assert len(shards) == 3
    shards[0].write_bytes(b"\x00\x00 not json")
    shards[1].write_bytes(b'{"summary": {"1": {"key": "records", "value": {"x": "not a summary"}}}}')
    shards[2].unlink()
    store = LocalStore(folder)
    assert store.recovery_report.ok
    assert len(store.recovery_report.reindexed) == 3
    assert store.history() == expected
    assert [v["content"]["n"] for v in store.history(month="2025-04")] == [1]
    assert store.rebuild_history_index() == 3


def test_history_text_search_finds_a_record_by_its_village_name(store: LocalStore) -> None:
    store.apply_changes([{"seq": 1, "topic": "village", "key": "v-shiqiao", "payload": {"name": "石桥村"}, "deleted": False}], 1)
    store.submit(check(R1, village="v-shiqiao"))
    store.record_receipt(R1, 1, receipt(R1, 1))
    store.submit(check(R2, village="v-longtan"))
    assert [v["record_id"] for v in store.history(text="石桥")] == [R1]
    assert [v["record_id"] for v in store.history(text="石桥", limit=1, offset=1)] == []


def test_a_batch_of_receipts_moves_every_revision_to_history_in_one_outbox_write(folder: Path) -> None:
    store = LocalStore(folder)
    for rid, month in ((R1, "2025-05"), (R2, "2025-04"), (R3, "2025-05")):
        store.submit(check(rid, month=month))
    work = folder / "work.json"
    before = work.read_bytes()
    writes: list[bytes] = []
    real_commit = store._work.file._db.storage._commit
    store._work.file._db.storage._commit = lambda: (writes.append(b""), real_commit())  # count outbox writes
    store.record_receipts([(R1, 1, receipt(R1, 1)), (R2, 1, receipt(R2, 1, photos_missing=[SHA_A])), (R3, 1, receipt(R3, 1))])
    assert len(writes) == 1, "the revisions must leave the outbox in one write"
    assert store.outbox() == []
    assert {v["record_id"]: v["state"] for v in store.history()} == {R1: "synced", R2: "synced", R3: "synced"}
    assert [p["sha256"] for p in store.photos_pending()] == [SHA_A]
    store.record_receipts([(R1, 1, receipt(R1, 1))])  # a replayed answer changes nothing
    assert store.accepted_revisions(R1)[1]["receipt"] == receipt(R1, 1)
    store.close()

    work.write_bytes(before)  # a kill after the history writes, before the outbox write
    store = LocalStore(folder)
    assert store.outbox() == []
    assert {v["record_id"] for v in store.history() if v["state"] == "synced"} == {R1, R2, R3}
    assert len(store.recovery_report.reconciled) == 3


def test_a_batch_of_receipts_with_an_unknown_revision_changes_nothing(store: LocalStore) -> None:
    store.submit(check(R1))
    with pytest.raises(StoreError) as info:
        store.record_receipts([(R1, 1, receipt(R1, 1)), (R2, 1, receipt(R2, 1))])
    assert info.value.code == "store.not_in_outbox"
    assert [i["record_id"] for i in store.outbox()] == [R1]
    assert store.get_record(R1)["state"] == "waiting"


def test_photos_marked_uploaded_in_bulk_are_no_longer_pending(folder: Path) -> None:
    store = LocalStore(folder)
    shas = [c * 64 for c in "abcdef"]
    for sha in shas:
        store.add_photo({"sha256": sha, "size": 1000, "mime": "image/jpeg"})
    store.submit(envelope(R1, 1, {"month": "2025-05"}, shas))
    store.set_photo_progress(shas[0], 4096, 1000)
    store.mark_photos_uploaded(shas[:4], {shas[0]: {"ledger_index": 3}})
    assert [p["sha256"] for p in store.photos_pending()] == shas[4:]
    store.close()
    store = LocalStore(folder)
    assert store.photo(shas[0]) == {"sha256": shas[0], "size": 1000, "mime": "image/jpeg", "offset": 4096,
                                    "length": 1000, "uploaded": True, "upload_receipt": {"ledger_index": 3}}  # fmt: skip
    assert store.photo(shas[1])["uploaded"] is True and store.photo(shas[1])["upload_receipt"] is None
    with pytest.raises(ValidationError):
        store.mark_photos_uploaded([shas[4], "not-a-hash"])
    assert [p["sha256"] for p in store.photos_pending()] == shas[4:], "a refused batch marked something"
