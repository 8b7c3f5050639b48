"""The field app's screen logic without a browser: the check form, home, history, sign-in,
the sync indicator, draft saving and the string catalogue."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from field_app.store import LocalStore
from field_app.sync.receipt_check import (
    CHECKS_SETTING,
    Verdict,
    receipt_facts,
    remember,
    remembered,
)
from field_app.ui.i18n import CATALOGUE, Translator
from field_app.ui.models.check_form import CheckForm, RecheckForm, make_location
from field_app.ui.models.live import KeyedRows, LiveScreen, SingleFlight
from field_app.ui.models.records import conflict_facts, shown_state, verdict_line
from field_app.ui.models.state import (
    Debouncer,
    SignIn,
    Village,
    cleaners_of,
    history_rows,
    open_orders,
    sheet_for,
    sync_line,
    village_statuses,
    villages,
)
from tests.support.photos import ROOT
from tests.support.sheets import sample_sheet, sample_sheet_json
from xuncha_core.records import parse_record

SHEET_JSON = sample_sheet_json()
SHEET = sample_sheet()
SHA_A = "a" * 64
SHA_B = "b" * 64


def new_form(cleaners: list[str] | None = None) -> CheckForm:
    return CheckForm.start(
        village_id="fengjia", month="2025-03", sheet=SHEET, recorder="王秀英",
        cleaner_ids=cleaners if cleaners is not None else ["c1"], inspected_at="2025-03-14T09:30:00+08:00",
    )


def codes(form: CheckForm | RecheckForm) -> set[tuple[str, str]]:
    return {(p.path, p.code) for p in form.problems()}


# -- the check form --------------------------------------------------------------------
def test_a_new_check_starts_at_full_marks_and_is_valid() -> None:
    form = new_form()
    assert form.total == 100
    assert form.problems() == []
    assert form.content["cleaner_ratings"][0]["score"] == 100


def test_a_deduction_takes_its_points_from_the_sheet_and_lowers_the_total() -> None:
    form = new_form()
    did = form.add_deduction("public_areas", "exposed_rubbish")
    form.step_count(did, +2)
    assert form.deduction(did)["points"] == 1.5
    assert form.total == 98.5
    form.step_count(did, -5)  # never below one unit
    assert form.deduction(did)["count"] == 1
    assert form.total == 99.5


def test_open_burning_zeroes_its_item() -> None:
    form = new_form()
    form.add_deduction("open_burning", "burning_found")
    assert form.total == 90


def test_validation_says_a_deduction_needs_a_photo_until_one_is_added() -> None:
    form = new_form()
    did = form.add_deduction("bins", "overflowing_bin")
    problems = form.problems()
    assert [(p.path, p.code) for p in problems] == [("deductions.0.photos", "check.photo_required")]
    assert "照片" in problems[0].message_zh
    form.add_photo(did, SHA_A)
    form.add_photo(did, SHA_A)  # a double tap adds it once
    assert form.problems() == []
    assert form.draft["photos"] == [SHA_A]


def test_a_rule_without_photo_requirement_validates_without_photo() -> None:
    form = new_form()
    form.add_deduction("garbage_sorting", "no_signage")
    assert form.problems() == []


def test_rating_a_cleaner_recomputes_the_cleaner_score() -> None:
    form = new_form()
    form.rate_cleaner("c1", "absent_days", 2)  # −5 per day
    form.rate_cleaner("c1", "late_minutes", 25)  # −1 per 10 minutes
    assert form.content["cleaner_ratings"][0]["score"] == 88
    assert form.problems() == []
    with pytest.raises(KeyError):
        form.rate_cleaner("nobody", "absent_days", 1)


def test_an_order_defaults_to_the_rules_deadline_and_goes_with_its_deduction() -> None:
    form = new_form()  # checked on Friday 2025-03-14
    did = form.add_deduction("bins", "overflowing_bin")  # rule deadline: 2 calendar days
    form.add_photo(did, SHA_A)
    oid = form.add_order(did, title="满溢垃圾桶", responsible="冯家村")
    [order] = form.content["orders"]
    assert order["deadline"] == "2025-03-16"
    d2 = form.add_deduction("bins", "no_bins")  # 10 working days: two weekends skipped
    form.add_photo(d2, SHA_B)
    form.add_order(d2, title="无垃圾桶", responsible="冯家村")
    assert form.content["orders"][1]["deadline"] == "2025-03-28"
    form.remove_deduction(d2)
    assert form.problems() == []
    form.set_order_field(oid, "deadline", "2025-03-01")
    assert ("orders.0.deadline", "order.deadline_past") in codes(form)
    form.remove_deduction(did)
    assert form.content["orders"] == []
    assert form.total == 100


def test_the_envelope_of_a_check_is_a_valid_record_listing_every_photo() -> None:
    form = new_form()
    d1 = form.add_deduction("bins", "overflowing_bin")
    d2 = form.add_deduction("roads", "roadside_litter")
    form.add_photo(d1, SHA_A)
    form.add_photo(d2, SHA_B)
    form.add_photo(d2, SHA_A)
    form.set_location(make_location(29.5630, 106.5516, accuracy_m=8))
    env = form.envelope(author="wang", device_id="dev-1")
    record = parse_record(env)
    assert record.photos == (SHA_A, SHA_B)
    assert record.content["deductions"][0]["location"]["source"] == "gps"
    with pytest.raises(ValueError):
        make_location(91, 0)


def test_a_draft_saved_in_the_store_reopens_as_the_same_form(tmp_path: Path) -> None:
    form = new_form()
    did = form.add_deduction("public_areas", "rubbish_heap")
    form.set_note(did, "村口堆放，张堃负责")
    form.add_photo(did, SHA_A)
    store = LocalStore(tmp_path)
    store.save_draft(form.draft)
    store.close()

    store = LocalStore(tmp_path)
    reopened = CheckForm(store.get_draft(form.record_id), SHEET)
    assert reopened.content == form.content
    assert reopened.deduction(did)["note"] == "村口堆放，张堃负责"
    store.submit(reopened.envelope(author="wang", device_id="dev-1"))
    assert store.get_draft(form.record_id) is None
    [item] = store.outbox()
    assert item["record_id"] == form.record_id and item["state"] == "waiting"
    store.close()


def test_a_recheck_needs_an_after_photo_when_resolved_and_a_note_when_not() -> None:
    order = {"order_id": "3f0e7d5c-5b7e-4bb5-9a55-2f4c1c1f7c11", "check_record_id": "0b7c3f9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
             "village_id": "fengjia", "month": "2025-03"}
    form = RecheckForm.start(order=order, recorder="王秀英", rechecked_at="2025-03-20T10:00:00+08:00")
    assert ("after_photos", "recheck.after_photo_required") in codes(form)
    form.add_photo(SHA_B)
    assert form.problems() == []
    form.set_resolved(False)
    form.remove_photo(SHA_B)
    assert ("note", "recheck.note_required") in codes(form)
    form.set_note("仍有垃圾")
    assert form.problems() == []
    assert parse_record(form.envelope(author="wang", device_id="d")).kind == "recheck"


# -- home ------------------------------------------------------------------------------
def test_reference_data_gives_villages_their_sheet_and_cleaners() -> None:
    vs = villages({"b": {"name": "冯家村"}, "a": {"name": "安乐社区", "sheet_id": "other"}, "x": "junk"})
    assert [v.id for v in vs] == ["b", "a"]  # by name, in code point order
    sheets = {SHEET.id: SHEET_JSON, "broken": {"id": "broken"}}
    assert sheet_for(vs[1], sheets).id == SHEET.id  # its own sheet is missing: the newest one
    assert sheet_for(None, {}) is None
    cleaners = {"c2": {"name": "李四", "village_id": "b"}, "c1": {"name": "张堃", "village_id": "b"},
                "c3": {"name": "王五", "village_id": "a"}, "c4": {"name": "离职", "village_id": "b", "active": False}}
    assert cleaners_of("b", cleaners) == [("c1", "张堃"), ("c2", "李四")]


def test_home_shows_each_village_as_done_draft_or_not_started() -> None:
    vs = [Village("a", "安乐", "", None), Village("b", "冯家", "", None), Village("c", "石桥", "", None)]
    records = [
        {"record_id": "r1", "kind": "remediation_check", "state": "synced", "content": {"village_id": "a", "month": "2025-03"}},
        {"record_id": "r0", "kind": "remediation_check", "state": "synced", "content": {"village_id": "c", "month": "2025-02"}},
    ]
    drafts = [{"record_id": "d1", "kind": "remediation_check", "content": {"village_id": "b", "month": "2025-03"}}]
    got = [(v.id, state, rid) for v, state, rid in village_statuses(vs, records, drafts, "2025-03")]
    assert got == [("a", "done", "r1"), ("b", "draft", "d1"), ("c", "not_started", None)]


def _check_with_orders() -> dict:
    return {
        "record_id": "r1", "kind": "remediation_check", "state": "synced",
        "content": {
            "village_id": "b", "month": "2025-03",
            "deductions": [{"deduction_id": "d1", "photos": [SHA_A]}, {"deduction_id": "d2", "photos": [SHA_B]}],
            "orders": [
                {"order_id": "o1", "title": "垃圾桶", "deadline": "2025-03-16", "deduction_ids": ["d1"], "responsible": "村委"},
                {"order_id": "o2", "title": "河面", "deadline": "2025-03-30", "deduction_ids": ["d2"], "responsible": "村委"},
            ],
        },
    }


def test_open_orders_flag_overdue_ones_and_disappear_once_a_recheck_is_submitted() -> None:
    records = [_check_with_orders()]
    orders = open_orders(records, date(2025, 3, 20))
    assert [(o["order_id"], o["overdue_days"]) for o in orders] == [("o1", 4), ("o2", 0)]
    assert orders[0]["before_photos"] == [SHA_A] and orders[0]["check_record_id"] == "r1"
    draft_recheck = {"record_id": "x", "kind": "recheck", "state": "draft",
                     "content": {"order_id": "o1", "check_record_id": "r1", "resolved": True, "after_photos": [SHA_B]}}
    assert len(open_orders([*records, draft_recheck], date(2025, 3, 20))) == 2
    sent = {**draft_recheck, "state": "waiting"}
    assert [o["order_id"] for o in open_orders([*records, sent], date(2025, 3, 20))] == ["o2"]
    not_fixed = {**sent, "record_id": "y", "content": {"order_id": "o2", "check_record_id": "r1", "resolved": False,
                                                       "after_photos": []}}
    assert [o["order_id"] for o in open_orders([*records, sent, not_fixed], date(2025, 3, 20))] == ["o2"]


# -- history ---------------------------------------------------------------------------
def test_history_filters_by_village_month_and_text_and_shows_why_a_record_was_sent_back() -> None:
    records = [
        {"record_id": "r1", "kind": "remediation_check", "state": "sent_back", "review": {"reason": "照片不清楚"},
         "content": {"village_id": "a", "month": "2025-03", "deductions": [{"note": "河边垃圾"}], "total_score": 97}},
        {"record_id": "r2", "kind": "remediation_check", "state": "synced",
         "content": {"village_id": "b", "month": "2025-02", "deductions": [], "total_score": 100}},
        {"record_id": "r3", "kind": "remediation_check", "state": "conflict",
         "content": {"village_id": "b", "month": "2025-03", "deductions": []}},
    ]
    names = {"a": "安乐", "b": "冯家"}
    assert [r["record_id"] for r in history_rows(records, village_names=names)] == ["r1", "r2", "r3"]
    assert [r["record_id"] for r in history_rows(records, village_names=names, village_id="b")] == ["r2", "r3"]
    assert [r["record_id"] for r in history_rows(records, village_names=names, month="2025-03")] == ["r1", "r3"]
    [row] = history_rows(records, village_names=names, text="河边")
    assert row["reason"] == "照片不清楚" and row["village"] == "安乐" and row["state"] == "sent_back"
    assert [r["record_id"] for r in history_rows(records, village_names=names, text="冯家")] == ["r2", "r3"]


PUSHING = {"state": "running", "online": True, "progress": {"phase": "push", "records_done": 1, "records_total": 3}}


def test_a_waiting_record_shows_sending_only_while_the_sync_pass_pushes_records() -> None:
    assert shown_state("waiting", PUSHING) == "sending"
    assert shown_state("waiting", {**PUSHING, "progress": {"phase": "photos"}}) == "waiting"
    assert shown_state("waiting", {**PUSHING, "state": "idle"}) == "waiting"
    assert shown_state("waiting", None) == "waiting"
    for state in ("draft", "synced", "sent_back", "approved", "conflict", "error"):
        assert shown_state(state, PUSHING) == state
    assert shown_state(None, PUSHING) == "draft"
    records = [{"record_id": "w", "kind": "recheck", "state": "waiting", "content": {}},
               {"record_id": "s", "kind": "recheck", "state": "synced", "content": {},
                "receipts": {"1": {"ledger_index": 41, "leaf_hash": "c" * 64, "revision": 1}}}]
    rows = history_rows(records, village_names={}, sync_status=PUSHING)
    assert [(r["state"], r["ledger_index"]) for r in rows] == [("sending", None), ("synced", 41)]


def test_the_receipt_shown_is_the_newest_accepted_revisions() -> None:
    view = {"record_id": "r", "revision": 3, "receipt": None, "receipts": {
        "1": {"revision": 1, "ledger_index": 4, "leaf_hash": "a" * 64, "received_at": "2025-03-14T01:30:00Z"},
        "2": {"revision": 2, "ledger_index": 9, "leaf_hash": "b" * 64, "received_at": "2025-03-15T02:00:00Z"}}}
    assert receipt_facts(view) == {"revision": 2, "ledger_index": 9, "leaf_hash": "b" * 64,
                                   "received_at": "2025-03-15T02:00:00Z"}
    assert receipt_facts({"record_id": "r", "receipts": {}}) is None


def conflicting_versions() -> tuple[dict, dict]:
    mine = new_form()
    did = mine.add_deduction("public_areas", "exposed_rubbish")
    mine.set_note(did, "河边垃圾")
    theirs = new_form()
    mine_env = mine.envelope(author="wang", device_id="d1")
    theirs_env = {**theirs.envelope(author="wang", device_id="d2"), "record_id": mine_env["record_id"]}
    return ({**mine_env, "revision": 2, "base_revision": 1}, {**theirs_env, "revision": 2, "base_revision": 1})


def test_a_conflict_sets_both_versions_key_facts_side_by_side_and_marks_what_differs() -> None:
    mine, theirs = conflicting_versions()
    facts = {f["key"]: f for f in conflict_facts(mine, theirs)}
    assert facts["fact.total"]["mine"] < facts["fact.total"]["theirs"] == 100
    assert (facts["fact.deductions"]["mine"], facts["fact.deductions"]["theirs"]) == (1, 0)
    assert facts["fact.note"]["mine"] == "河边垃圾" and facts["fact.note"]["theirs"] == ""
    assert {k for k, f in facts.items() if f["differs"]} == {"fact.total", "fact.deductions", "fact.note"}
    assert facts["fact.revision"] == {"key": "fact.revision", "mine": 2, "theirs": 2, "differs": False}
    row = history_rows([{"record_id": mine["record_id"], "kind": "remediation_check", "state": "conflict",
                         "content": mine["content"], "envelope": mine, "server_envelope": theirs}], village_names={})[0]
    assert row["conflict"] == conflict_facts(mine, theirs)


def test_the_verified_line_names_the_ledger_entry_and_checkpoint_size_in_both_languages() -> None:
    key, values = verdict_line(Verdict("verified", "r", revision=1, ledger_index=7, tree_size=12))
    tr = Translator("zh")
    assert tr(key, **values) == "已核验：服务器已接收并记入台账 #7（检查点 大小 12）"
    assert Translator("en")(key, **values).startswith("Verified: the server received this record")
    failed = Verdict("failed", "r", code="receipt.proof_invalid")
    key, values = verdict_line(failed)
    assert failed.loud and tr(key, **values).startswith("核验失败！") and "receipt.proof_invalid" in tr(key, **values)
    for outcome in ("offline", "not_yet", "not_synced", "signed_out"):
        key, values = verdict_line(Verdict(outcome, "r"))
        assert key in CATALOGUE and not Verdict(outcome, "r").loud
    assert "网络" in tr("receipt.offline")


def test_a_verdict_is_kept_for_its_receipt_and_forgotten_when_a_newer_revision_is_receipted() -> None:
    store = LocalStore(None)
    view = {"record_id": "r", "revision": 1, "receipts": {"1": {"revision": 1, "ledger_index": 7, "leaf_hash": "a" * 64}}}
    remember(store, Verdict("offline", "r", revision=1, leaf_hash="a" * 64))
    assert remembered(store, view) is None  # "try later" is not worth keeping
    verdict = Verdict("verified", "r", revision=1, leaf_hash="a" * 64, ledger_index=7, tree_size=9)
    remember(store, verdict)
    assert remembered(store, view) == verdict
    newer = {**view, "revision": 2, "receipts": {**view["receipts"], "2": {"revision": 2, "ledger_index": 11,
                                                                             "leaf_hash": "b" * 64}}}
    assert remembered(store, newer) is None
    assert list(store.get_setting(CHECKS_SETTING)) == ["r"]


# -- sign-in, sync indicator, draft saving ---------------------------------------------
def test_sign_in_says_what_is_missing_for_password_and_for_code() -> None:
    form = SignIn()
    assert form.missing() == ["signin.need_server", "signin.need_username", "signin.need_password"]
    form = SignIn(server_url="192.168.1.10:8000/", username="wang", password="pw")
    assert form.missing() == [] and form.normalized_server() == "http://192.168.1.10:8000"
    assert form.credentials() == {"username": "wang", "password": "pw"}
    form = SignIn(server_url="ftp://x", use_code=True, code="  ")
    assert form.missing() == ["signin.bad_server", "signin.need_code"]
    form.code, form.server_url = " ABCD-1234 ", "https://xz.example.cn"
    assert form.missing() == [] and form.credentials() == {"enrollment_code": "ABCD-1234"}


def test_the_indicator_shows_offline_online_syncing_with_progress_and_revoked() -> None:
    assert sync_line(None) == ("net.offline", None)
    assert sync_line({"state": "idle", "online": True}) == ("net.online", None)
    assert sync_line({"state": "offline", "online": False}) == ("net.offline", None)
    assert sync_line({"state": "revoked"}) == ("net.revoked", None)
    key, progress = sync_line({"state": "running", "online": True, "progress": {
        "records_done": 3, "records_total": 10, "bytes_done": 2048, "bytes_total": 409600}})
    assert key == "net.syncing" and progress == {"records_done": 3, "records_total": 10, "kb_done": 2, "kb_total": 400}


def test_a_sync_status_that_changes_no_data_reads_no_list_and_redraws_nothing(tmp_path: Path) -> None:
    """Issue 4, "the UI never blocks": the open screen follows sync only where its data changed."""
    store = LocalStore(tmp_path)
    reads: list[int] = []
    drawn: list[int] = []

    def load() -> int:
        reads.append(1)
        return store.stats()["outbox"]

    live = LiveScreen()
    live.section(load, drawn.append, target="waiting count", shown=0)
    pushing = {"state": "running", "online": True, "progress": {"phase": "push", "bytes_done": 10}}

    assert live.show(live.read_after(store, pushing)) == [] and drawn == []  # read once: same data, not drawn
    more_bytes = {**pushing, "progress": {"phase": "push", "bytes_done": 90_000}}
    assert live.read_after(store, more_bytes) is None and len(reads) == 1  # a photo chunk: no list read
    store.submit(new_form().envelope(author="wang", device_id="d1"))
    assert live.show(live.read_after(store, more_bytes)) == ["waiting count"] and drawn == [1]
    ended = {"state": "idle", "online": True, "progress": {}, "last_success_at": "2025-03-14T01:30:00Z"}
    assert live.show(live.read_after(store, ended)) == [] and drawn == [1]  # same data after the pass
    store.close()


def test_a_row_whose_data_did_not_change_keeps_its_control() -> None:
    built: list[str] = []
    rows = KeyedRows(lambda data: built.append(data) or object())
    first = rows.controls([("a", "冯家村 未开始"), ("b", "山下村 未开始")])
    second = rows.controls([("a", "冯家村 已完成"), ("b", "山下村 未开始"), ("c", "新村 未开始")])
    assert second[1] is first[1] and second[0] is not first[0]
    assert built == ["冯家村 未开始", "山下村 未开始", "冯家村 已完成", "新村 未开始"]


def test_reports_during_a_refresh_cause_exactly_one_more() -> None:
    flight = SingleFlight()
    assert flight.request() and flight.next()  # the first report runs a round
    assert not flight.request() and not flight.request()  # two more arrive meanwhile
    assert flight.next() and not flight.next()  # one more round, then done
    assert flight.request()


def test_typing_is_saved_after_a_pause_not_on_every_key() -> None:
    now = [100.0]
    d = Debouncer(delay=0.4, clock=lambda: now[0])
    assert not d.due() and not d.dirty
    d.touch()
    now[0] += 0.2
    assert d.dirty and not d.due()
    d.touch()  # another key: the pause starts again
    now[0] += 0.3
    assert not d.due()
    now[0] += 0.2
    assert d.due()
    d.saved()
    assert not d.due() and not d.dirty


# -- the catalogue ---------------------------------------------------------------------
def test_every_string_has_chinese_and_english_with_the_same_placeholders() -> None:
    for key, (zh, en) in CATALOGUE.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key
    tr = Translator()
    assert tr("home.waiting", count=3) == "待发送 3 条"
    tr.lang = tr.toggled()
    assert tr("home.waiting", count=3) == "3 waiting to be sent"
    assert tr.pick("冯家村", "") == "冯家村"


def test_every_key_a_screen_uses_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in (ROOT / "field_app" / "ui").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\btr\(\s*["']([a-z_]+\.[a-z_.]+)["']""", text))
    assert used, "no keys found: the pattern is wrong"
    assert sorted(used - set(CATALOGUE)) == []
