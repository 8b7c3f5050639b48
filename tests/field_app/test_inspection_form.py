"""An officer's random inspections on the phone, without a browser (issue 11, part 4): the list at the top of
home, the on-site form, the second inspector's PIN checked offline, setting one's own PIN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from field_app.store import LocalStore
from field_app.ui.models.inspection_form import InspectionForm, assigned_inspections, new_pin_hash
from tests.support.draws import credit_code
from xuncha_core.inspections.pin import MAX_TRIES, hash_pin
from xuncha_core.records import parse_record

ME, PARTNER = "xiang.j", "tian.x"
PINS = {PARTNER: {"username": PARTNER, "pin_hash": hash_pin(PARTNER, "275319")}}


def task(code: str = credit_code(7), deadline: str = "2026-03-31", name: str = "梨园村农家乐") -> dict[str, Any]:
    return {
        "task_id": f"2026-03-02-ab12cd34/{code}", "kind": "inspection", "draw_id": "2026-03-02-ab12cd34",
        "plan_id": "2026-03-02-ab12cd34", "title": "2026年第一季度邻鄂镇双随机抽查", "deadline": deadline,
        "entity": {"id": "e-07", "name": name, "credit_code": code, "address": "梨园村一组", "village_id": "liyuan"},
        "matters": [{"id": "m-env-01", "name": "环境卫生和垃圾处置情况检查", "basis": "条例"},
                    {"id": "m-fire-01", "name": "消防安全检查", "basis": "消防法"}],
        "inspectors": [{"id": "insp-xiang-j", "name": "向军", "cert_no": "50011420190031", "username": ME},
                       {"id": "insp-tian-x", "name": "田欣", "cert_no": "50011420200117", "username": PARTNER}],
        "short_by": 0,
    }


def started(**kw: Any) -> InspectionForm:
    return InspectionForm.start(task=task(), username=ME, recorder="向军", started_at="2026-03-09T09:30:00+08:00", **kw)


def filled() -> InspectionForm:
    form = started()
    form.toggle_matter("m-fire-01", True)
    form.toggle_matter("m-env-01", True)
    form.set_result("problem_corrected")
    form.set_findings("灭火器过期，已责令更换")
    form.add_recording("DSJ-0042-0930")
    form.add_photo("a" * 64)
    return form


def test_assigned_inspections_come_soonest_first_with_what_she_needs_on_site_and_leave_once_recorded() -> None:
    tasks = {t["task_id"]: t for t in (task(credit_code(7), "2026-04-30", "乙"), task(credit_code(8), "2026-03-31", "甲"))}
    rows = assigned_inspections(tasks, [], [], ME)
    assert [r.entity for r in rows] == ["甲", "乙"]
    assert rows[0].address == "梨园村一组" and rows[0].co_inspectors == ("田欣",)
    assert rows[0].matters == ("环境卫生和垃圾处置情况检查", "消防安全检查") and rows[0].deadline == "2026-03-31"
    first = rows[0].task_id
    drafts = [{"record_id": "r-1", "kind": "random_inspection", "content": {"task_id": first}}]
    assert assigned_inspections(tasks, [], drafts, ME)[0].draft_id == "r-1"
    sent = [{"record_id": "r-1", "kind": "random_inspection", "state": "waiting", "content": {"task_id": first}}]
    assert [r.entity for r in assigned_inspections(tasks, sent, [], ME)] == ["乙"]


def test_the_form_names_what_is_missing_until_the_second_inspector_confirms_with_the_right_pin() -> None:
    form = filled()
    assert {p.code for p in form.problems()} == {"inspection.co_inspector_unconfirmed"}
    assert form.content["matter_ids"] == ["m-env-01", "m-fire-01"]  # the task's order, whatever the tapping order
    assert form.confirm(PARTNER, "111111", PINS) == "wrong"
    assert form.confirm(ME, "275319", PINS) == "no_pin"  # she cannot confirm for herself
    assert form.confirm(PARTNER, "275319", PINS, at="2026-03-09T10:15:00+08:00") == "confirmed"
    assert form.problems() == []
    assert form.content["co_inspector"] == {"inspector_id": "insp-tian-x", "username": PARTNER,
                                            "confirmed_at": "2026-03-09T10:15:00+08:00", "method": "pin"}
    assert form.content["ended_at"] == "2026-03-09T10:15:00+08:00"
    envelope = form.envelope(author=ME, device_id="d-1")
    record = parse_record(envelope)
    assert record.kind == "random_inspection" and record.photos == ("a" * 64,)
    assert "275319" not in str(envelope)


def test_a_change_after_the_confirmation_asks_the_second_inspector_again() -> None:
    form = filled()
    assert form.confirm(PARTNER, "275319", PINS) == "confirmed"
    form.set_findings("灭火器过期，已当场更换")
    assert form.confirmed_by is None
    assert {p.code for p in form.problems()} == {"inspection.co_inspector_unconfirmed"}


def test_wrong_pins_are_counted_in_the_saved_draft_and_lock_the_form(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    form = filled()
    for _ in range(MAX_TRIES - 1):
        assert form.confirm(PARTNER, "000001", PINS) == "wrong"
    store.save_draft(form.draft)
    store.close()
    reopened = LocalStore(tmp_path)
    again = InspectionForm(reopened.get_draft(form.record_id) or {}, task(), ME)  # the app was killed and started again
    assert again.confirm(PARTNER, "000001", PINS) == "locked"
    assert again.confirm(PARTNER, "275319", PINS) == "locked"  # even the right PIN, now
    assert again.confirmed_by is None


def test_a_pin_hash_without_the_expected_shape_never_confirms() -> None:
    form = filled()
    broken = {PARTNER: {"username": PARTNER, "pin_hash": {**PINS[PARTNER]["pin_hash"], "n": 2**24}}}
    assert form.confirm(PARTNER, "275319", broken) == "wrong"
    assert form.confirm(PARTNER, "275319", {}) == "no_pin"


def test_setting_her_own_pin_needs_the_same_pin_twice_and_a_pin_hard_enough_to_guess() -> None:
    assert new_pin_hash(ME, "275319", "275318") == (["pin.mismatch"], None)
    assert new_pin_hash(ME, "123456", "123456") == (["pin.too_simple"], None)
    assert new_pin_hash(ME, "1234", "1234") == (["pin.bad_length"], None)
    keys, pin_hash = new_pin_hash(ME, "275319", "275319")
    assert keys == [] and pin_hash is not None and "275319" not in str(pin_hash)
