"""Issue 9's screen models, without Flet: home's to-dos and exact states, the month picker,
typed numbers, each photo's evidence, and server errors in the phone's own words."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from field_app.sync.errors import Refused
from field_app.ui.i18n import CATALOGUE, Translator
from field_app.ui.models.check_form import CheckForm
from field_app.ui.models.evidence import photo_evidence, photo_location, village_location
from field_app.ui.models.home import existing_check, sent_summary, todos, village_statuses
from field_app.ui.models.inputs import month_choices, parse_number, valid_month
from tests.support.sheets import sample_sheet
from xuncha_core.content import validate_content


def check(rid: str, state: str, village: str, month: str = "2026-12", **extra: object) -> dict:
    return {"record_id": rid, "kind": "remediation_check", "state": state,
            "content": {"village_id": village, "month": month}, **extra}


def test_sent_back_records_are_to_dos_with_the_reason_and_stay_one_while_she_fixes_them() -> None:
    review = {"action": "send_back", "reason": "照片看不清", "revision": 1}
    found = todos([check("r1", "sent_back", "a", review=review), check("r2", "synced", "b"),
                   check("r3", "draft", "c", review={**review, "reason": "补拍"}, synced_revision=1),
                   check("r4", "draft", "d")])
    assert [(t.record_id, t.reason, t.started) for t in found] == [("r1", "照片看不清", False), ("r3", "补拍", True)]


def test_home_shows_each_villages_exact_state_not_done() -> None:
    records = [check("w", "waiting", "a"), check("s", "synced", "b"), check("p", "approved", "c"),
               check("x", "rejected", "d"), check("old", "synced", "e", month="2026-11"),
               check("n", "synced", "f"), check("f", "draft", "f")]
    got = village_statuses(["a", "b", "c", "d", "e", "f"], records, "2026-12")
    assert got == [("a", "waiting", "w"), ("b", "synced", "s"), ("c", "approved", "p"), ("d", "rejected", "x"),
                   ("e", "not_started", None), ("f", "draft", "f")]
    assert Translator("zh")("state.waiting") == "待发送" and Translator("zh")("state.synced") == "已发送"
    assert Translator("zh")("state.rejected") == "已驳回"


def test_a_second_new_check_for_the_same_village_and_month_finds_the_first() -> None:
    records = [check("sent", "synced", "a"), check("draft", "draft", "a"), check("other", "draft", "b")]
    assert existing_check(records, "a", "2026-12")["record_id"] == "draft"
    assert existing_check(records, "a", "2026-11") is None


def test_a_check_cannot_be_moved_to_a_month_that_already_has_a_check_of_its_village() -> None:
    """Issue 9 (the traps): the month picker must not make a second check of a village and month,
    the way a second 新建检查 does not."""
    form = CheckForm.start(village_id="a", month="2026-12", sheet=sample_sheet(), recorder="王", cleaner_ids=[])
    records = [check("nov", "synced", "a", month="2026-11"), check("b-oct", "draft", "b", month="2026-10"),
               check(form.record_id, "draft", "a")]
    taken = form.move_to_month("2026-11", records)
    assert taken is not None and taken["record_id"] == "nov"
    assert form.content["month"] == "2026-12"  # not moved
    assert form.move_to_month("2026-12", records) is None  # its own month: itself is no clash
    assert form.move_to_month("2026-10", records) is None and form.content["month"] == "2026-10"
    assert "{month}" in CATALOGUE["check.month_move_taken"][0] and "{month}" in CATALOGUE["check.month_move_taken"][1]


def test_the_month_is_picked_from_real_months_this_month_first() -> None:
    months = month_choices(date(2027, 1, 15), back=2)
    assert months == ["2027-01", "2026-12", "2026-11"]
    assert "2026-13" not in month_choices(date(2026, 12, 1))
    assert not valid_month("2026-13") and not valid_month("2026-1") and valid_month("2026-12")
    assert month_choices(date(2027, 1, 15), back=0, keep="2025-06") == ["2027-01", "2025-06"]
    assert month_choices(date(2027, 1, 15), back=0, keep="2026-13") == ["2027-01"]


def test_numbers_can_be_typed_within_bounds() -> None:
    assert parse_number("30") == 30 and parse_number(" ３０ ") == 30
    assert parse_number("-1") is None and parse_number("abc") is None and parse_number("0", minimum=1) is None


def test_what_a_sync_pass_sent_is_said_when_it_ends() -> None:
    running = {"state": "running", "progress": {"records_done": 2, "photos_done": 3}}
    assert sent_summary(running, {"state": "idle"}, 2, 0) == (2, 3)
    assert sent_summary(running, running, 2, 0) is None
    assert sent_summary({"state": "idle"}, {"state": "idle"}, 0, 0) is None


def test_a_photo_far_away_and_years_old_carries_its_doubts_into_the_record() -> None:
    meta = {"sha256": "a" * 64, "exif_time": "2008-10-22T16:28:39", "captured_at": "2026-12-02T10:00:00+08:00",
            "gps": {"latitude": 43.46745, "longitude": 11.88513}, "capture_location": None, "quality": 80}
    village = village_location({"location": {"lat": 29.53, "lon": 108.77}}, None)
    entry = photo_evidence(meta, village=village, checked_at="2026-12-02T10:05:00+08:00")
    assert entry["taken_at_source"] == "exif" and entry["location_source"] == "photo"
    assert set(entry["flags"]) == {"far_from_village", "taken_before_check"}
    assert entry["distance_m"] > 5_000_000
    near = photo_evidence({**meta, "exif_time": None, "gps": None,
                           "capture_location": {"latitude": 29.531, "longitude": 108.771}},
                          village=village, checked_at="2026-12-02T10:05:00+08:00")
    assert near["flags"] == [] and near["taken_at_source"] == "import" and near["location_source"] == "phone"
    assert photo_location(meta) == {"lat": 43.46745, "lon": 11.88513, "accuracy_m": None, "source": "gps"}

    form = CheckForm.start(village_id="a", month="2026-12", sheet=sample_sheet(), recorder="王", cleaner_ids=[])
    item = sample_sheet().items[0]
    did = form.add_deduction(item.id, item.rules[0].id)
    form.add_photo(did, meta["sha256"], entry)
    assert form.content["photo_evidence"][meta["sha256"]]["flags"]
    assert not [p for p in validate_content("remediation_check", form.content, sheet=sample_sheet())
                if p.path.startswith("photo_evidence")]
    form.remove_photo(did, meta["sha256"])
    assert form.content["photo_evidence"] == {}


def test_server_errors_are_said_in_the_phones_words_never_http_reason_phrases() -> None:
    zh, en = Translator("zh"), Translator("en")
    wrong_server = Refused("http.404", "Not Found", "Not Found", {}, status=404)
    assert "Not Found" not in zh.error(wrong_server) and "巡查服务器" in zh.error(wrong_server)
    assert "Xuncha server" in en.error(Refused("http.405", "Method Not Allowed", "Method Not Allowed", {}, status=405))
    bad = {"code": "auth.bad_credentials", "message": "Wrong username", "message_zh": "……注册码。"}
    assert "登记码" in zh.error(bad) and "注册码" not in zh.error(bad)
    assert "3 分钟" in zh.error({"code": "auth.throttled", "detail": {"retry_after": 150}})
    assert not any("注册码" in text[0] for text in CATALOGUE.values())


def test_units_and_sources_are_in_the_language_shown() -> None:
    en = Translator("en")
    assert en.unit("处") == "spot" and Translator("zh").unit("处") == "处"
    assert "manual" not in Translator("zh")("source.manual")


def test_an_estimated_deadline_says_so_and_a_moved_one_says_from_what() -> None:
    """Issue 9: a deadline in a year whose schedule is not out is marked 预计, never refused; when the
    schedule arrives and moves it, the form says from what to what."""
    from field_app.ui.i18n import Translator
    from field_app.ui.views.deadlines import deadline_notes

    tr = Translator("zh")
    order = {"order_id": "o1", "deadline": "2027-01-08", "deadline_estimate": {"working_days": 5}}
    texts = [n.value for n in deadline_notes(tr, order, [])]
    assert len(texts) == 1 and "预计" in texts[0] and "5" in texts[0]
    moved = [n.value for n in deadline_notes(tr, {"order_id": "o1", "deadline": "2027-01-11"},
                                             [{"order_id": "o1", "was": "2027-01-08", "now": "2027-01-11"}])]
    assert moved == ["节假日安排已收到，期限由 2027-01-08 改为 2027-01-11"]
    assert deadline_notes(tr, {"order_id": "o2", "deadline": "2026-12-10"}, []) == []


def test_a_major_decision_awaiting_the_legal_reviewer_shows_its_own_state_not_approved(tmp_path: Path) -> None:
    """Issue 10: the office approved an inspection that found something; until the legal reviewer
    signs it off (法制审核) her phone says so on home, history and details, in both languages."""
    from field_app.store import LocalStore
    from field_app.ui.models.home import HOME_STATES
    from field_app.ui.models.state import history_rows
    from tests.support.store_writer import envelope

    rid = "44444444-4444-4444-8444-444444444444"
    store = LocalStore(tmp_path / "store")
    store.submit({**envelope(rid, 1, {"task_id": "d1/91350100M000100Y43", "result": "problem_pending"}),
                  "kind": "random_inspection"})
    store.record_receipt(rid, 1, {"record_id": rid, "revision": 1, "digest": "d" * 64, "ledger_index": 7,
                                  "received_at": "2026-11-03T02:00:00+00:00", "leaf_hash": "e" * 64, "photos_missing": []})

    def decided(seq: int, state: str) -> None:
        store.apply_changes([{"seq": seq, "topic": "review", "key": rid, "deleted": False, "payload": {
            "record_id": rid, "revision": 1, "action": "approve", "reason": None, "review_state": state}}], seq)

    decided(1, "legal_review")
    assert store.get_record(rid)["state"] == "legal_review"
    assert [r["state"] for r in history_rows(store.history(), village_names={})] == ["legal_review"]
    store.close()
    store = LocalStore(tmp_path / "store")  # the history index keeps it too
    assert [r["state"] for r in history_rows(store.history(), village_names={})] == ["legal_review"]
    assert "legal_review" in HOME_STATES
    assert (Translator("zh")("state.legal_review"), Translator("en")("state.legal_review")) == (
        "法制审核中", "Awaiting legal review")
    assert all(all(CATALOGUE[f"state.{s}"]) for s in HOME_STATES)
    decided(2, "approved")  # the legal reviewer signed it off
    assert store.get_record(rid)["state"] == "approved"
    store.close()
