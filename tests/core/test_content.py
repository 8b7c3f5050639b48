"""Record content: every kind's shape, and validation that says exactly what is missing."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from xuncha_core.assessment import CleanerRating, assess_cleaner
from xuncha_core.content import content_photos, validate_content
from xuncha_core.credit_code import check_character, is_credit_code
from xuncha_core.points import points_json
from xuncha_core.records import RECORD_KINDS
from xuncha_core.scoring import Deduction, deduction_points, parse_sheet, score_check

SHEET = parse_sheet(
    json.loads((ROOT / "assets/config/scoring_sheet.sample.json").read_text(encoding="utf-8"))
)


def sha(n: int) -> str:
    return hashlib.sha256(f"photo {n}".encode()).hexdigest()


def uid(n: int) -> str:
    return str(uuid.UUID(int=n + 1))


def deduction(
    n: int, item_id: str, rule_id: str, count: int = 1, photos: int = 1
) -> dict[str, Any]:
    item, rule = SHEET.item(item_id), SHEET.rule(item_id, rule_id)
    return {
        "deduction_id": uid(100 + n),
        "item_id": item_id,
        "rule_id": rule_id,
        "count": count,
        "points": points_json(deduction_points(item, rule, count)),
        "note": "村口垃圾点",
        "photos": [sha(10 * n + k) for k in range(photos)],
        "location": {"lat": 29.53, "lon": 108.77, "accuracy_m": 8.5, "source": "gps"},
    }


def rating(cleaner_id: str, **seen: int) -> dict[str, Any]:
    r = CleanerRating(cleaner_id, **seen)
    return {
        "cleaner_id": cleaner_id,
        "absent_days": r.absent_days,
        "late_minutes": r.late_minutes,
        "left_post_times": r.left_post_times,
        "dirty_spots": r.dirty_spots,
        "score": points_json(assess_cleaner(r).score),
    }


def check(deductions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A complete, valid remediation check scored on the sample sheet."""
    if deductions is None:
        deductions = [
            deduction(0, "public_areas", "exposed_rubbish", 3, photos=2),
            deduction(1, "water_surface", "floating_debris", 1),
            deduction(2, "garbage_sorting", "no_signage", 2, photos=0),
        ]
    total = score_check(
        SHEET, [Deduction(d["item_id"], d["rule_id"], d["count"]) for d in deductions]
    ).total
    return {
        "village_id": "village-fengjia",
        "month": "2025-03",
        "sheet_id": SHEET.id,
        "sheet_version": SHEET.version,
        "inspected_at": "2025-03-14T09:30:00+08:00",
        "recorder": "冉红梅",
        "location": {"lat": 29.5301, "lon": 108.7702, "accuracy_m": None, "source": "network"},
        "deductions": deductions,
        "cleaner_ratings": [
            rating("cleaner-1"),
            rating("cleaner-2", absent_days=1, late_minutes=25, dirty_spots=3),
        ],
        "total_score": points_json(total),
        "orders": [
            {
                "order_id": uid(900),
                "title": "公共区域保洁整改",
                "description": "清理村口裸露垃圾",
                "deduction_ids": [d["deduction_id"] for d in deductions[:1]],
                "deadline": "2025-03-21",
                "responsible": "冯家村村委会",
            }
        ]
        if deductions
        else [],
    }


def recheck(**changes: Any) -> dict[str, Any]:
    return {
        "order_id": uid(900),
        "check_record_id": uid(1),
        "village_id": "village-fengjia",
        "month": "2025-03",
        "after_photos": [sha(500)],
        "note": "",
        "resolved": True,
        "rechecked_at": "2025-03-20T15:00:00+08:00",
        "recorder": "冉红梅",
        "location": None,
        **changes,
    }


def inspection(**changes: Any) -> dict[str, Any]:
    return {
        "task_id": "task-2025-07",
        "plan_id": "plan-2025-h2",
        "entity_id": "entity-42",
        "entity_credit_code": "91350100M000100Y43",
        "inspectors": ["inspector-1", "inspector-2"],
        "matter_ids": ["matter-env-01"],
        "result": "problem_corrected",
        "findings": "危废暂存间未设标识，已责令当场整改",
        "photos": [sha(700)],
        "inspected_at": "2025-07-02T10:00:00+08:00",
        "recorder": "周志强",
        "location": {"lat": 29.5, "lon": 108.7, "accuracy_m": 5, "source": "gps"},
        **changes,
    }


def assessment(**changes: Any) -> dict[str, Any]:
    return {
        "village_id": "village-fengjia",
        "month": "2025-03",
        "cleaner_ratings": [rating("cleaner-1", left_post_times=2)],
        "assessed_at": "2025-03-31T17:00:00+08:00",
        "recorder": "冉红梅",
        **changes,
    }


def problems_at(kind: str, content: dict[str, Any], **kw: Any) -> dict[str, str]:
    problems = validate_content(kind, content, **kw)
    assert all(p.message and p.message_zh for p in problems), problems
    return {p.path: p.code for p in problems}


# --- valid content ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("remediation_check", check),
        ("recheck", recheck),
        ("inspection_result", inspection),
        ("routine_assessment", assessment),
    ],
)
def test_each_kind_of_complete_record_is_accepted_with_and_without_the_sheet(kind, make):
    content = make()
    assert validate_content(kind, content) == []
    assert validate_content(kind, content, sheet=SHEET) == []
    assert kind in RECORD_KINDS


def test_a_check_with_no_findings_is_accepted():
    content = check([])
    assert content["total_score"] == 100
    assert validate_content("remediation_check", content, sheet=SHEET) == []


# --- what is missing, exactly -----------------------------------------------------------------


def test_a_missing_photo_on_a_rule_that_demands_one_names_that_deduction():
    content = check()
    content["deductions"][1]["photos"] = []
    problems = validate_content("remediation_check", content, sheet=SHEET)
    assert [(p.path, p.code) for p in problems] == [("deductions.1.photos", "check.photo_required")]
    assert "Floating debris" in problems[0].message and "水面漂浮物" in problems[0].message_zh


def test_the_server_without_the_sheet_checks_structure_only():
    content = check()
    content["deductions"][1]["photos"] = []
    content["deductions"][0]["points"] = 99
    assert validate_content("remediation_check", content) == []


def test_a_rule_without_a_photo_requirement_needs_no_photo():
    content = check([deduction(0, "cleaner_coverage", "understaffed", 2, photos=0)])
    assert validate_content("remediation_check", content, sheet=SHEET) == []


def test_every_missing_field_is_named():
    content = check()
    del content["recorder"]
    del content["deductions"][2]["count"]
    del content["orders"][0]["deadline"]
    del content["cleaner_ratings"][1]["score"]
    assert problems_at("remediation_check", content) == {
        "recorder": "content.missing",
        "deductions.2.count": "content.missing",
        "orders.0.deadline": "content.missing",
        "cleaner_ratings.1.score": "content.missing",
    }


def test_unknown_fields_are_refused_not_kept():
    content = check()
    content["weather"] = "sunny"
    content["deductions"][0]["severity"] = "high"
    content["location"]["altitude"] = 700
    assert problems_at("remediation_check", content) == {
        "weather": "content.unknown_field",
        "deductions.0.severity": "content.unknown_field",
        "location.altitude": "content.unknown_field",
    }


def test_points_that_do_not_match_the_sheet_say_what_they_should_be():
    content = check()
    content["deductions"][0]["points"] = 1
    problems = validate_content("remediation_check", content, sheet=SHEET)
    assert [(p.path, p.code) for p in problems] == [
        ("deductions.0.points", "check.points_mismatch")
    ]
    assert "1.5" in problems[0].message


def test_a_total_that_does_not_match_the_deductions_is_refused():
    content = check()
    content["total_score"] = 98
    problems = validate_content("remediation_check", content, sheet=SHEET)
    assert [(p.path, p.code) for p in problems] == [("total_score", "check.total_mismatch")]
    assert "96" in problems[0].message


def test_a_deduction_not_on_the_sheet_is_named():
    content = check()
    content["deductions"][0]["item_id"] = "airport"
    content["deductions"][1]["rule_id"] = "oil_spill"
    assert problems_at("remediation_check", content, sheet=SHEET) == {
        "deductions.0.item_id": "check.unknown_item",
        "deductions.1.rule_id": "check.unknown_rule",
    }


def test_a_check_scored_on_another_sheet_version_is_refused_against_this_one():
    content = check()
    content["sheet_version"] = SHEET.version + 1
    assert problems_at("remediation_check", content, sheet=SHEET) == {
        "sheet_id": "check.sheet_mismatch"
    }


def test_a_count_beyond_the_rules_maximum_is_refused():
    content = check([deduction(0, "bins", "no_bins", 2)])
    assert problems_at("remediation_check", content, sheet=SHEET) == {
        "deductions.0.count": "check.too_many_units"
    }


def test_orders_must_point_at_deductions_of_the_same_check_and_not_be_due_before_it():
    content = check()
    content["orders"][0]["deduction_ids"] = [uid(100), uid(555)]
    content["orders"][0]["deadline"] = "2025-03-13"
    assert problems_at("remediation_check", content) == {
        "orders.0.deduction_ids.1": "order.unknown_deduction",
        "orders.0.deadline": "order.deadline_past",
    }


def test_an_order_due_on_the_day_of_the_check_is_accepted():
    content = check()
    content["orders"][0]["deadline"] = "2025-03-14"
    assert validate_content("remediation_check", content) == []


def test_duplicate_ids_and_photos_are_refused():
    content = check()
    content["deductions"][1]["deduction_id"] = content["deductions"][0]["deduction_id"]
    content["deductions"][0]["photos"] = [sha(1), sha(1)]
    content["cleaner_ratings"][1]["cleaner_id"] = "cleaner-1"
    assert problems_at("remediation_check", content) == {
        "deductions.1.deduction_id": "check.duplicate_id",
        "deductions.0.photos": "content.duplicate_photo",
        "cleaner_ratings.1.cleaner_id": "assessment.duplicate_cleaner",
    }


@pytest.mark.parametrize(
    ("field", "value", "path", "code"),
    [
        ("month", "2025-3", "month", "content.bad_month"),
        ("month", "2025-13", "month", "content.bad_month"),
        ("inspected_at", "2025-03-14T09:30:00", "inspected_at", "content.bad_time"),
        ("inspected_at", "yesterday", "inspected_at", "content.bad_time"),
        ("sheet_version", True, "sheet_version", "content.bad_number"),
        ("total_score", 99.999, "total_score", "content.bad_points"),
        ("total_score", "100", "total_score", "content.bad_points"),
        ("village_id", "  ", "village_id", "content.empty"),
        (
            "location",
            {"lat": 95, "lon": 108, "accuracy_m": 3, "source": "gps"},
            "location.lat",
            "content.bad_location",
        ),
        (
            "location",
            {"lat": 29, "lon": 108, "accuracy_m": -3, "source": "gps"},
            "location.accuracy_m",
            "content.bad_location",
        ),
        (
            "location",
            {"lat": 29, "lon": 108, "accuracy_m": 3, "source": "guess"},
            "location.source",
            "content.bad_location",
        ),
        ("deductions", {}, "deductions", "content.bad_list"),
    ],
)
def test_malformed_values_are_named(field, value, path, code):
    content = check()
    content[field] = value
    assert problems_at("remediation_check", content) == {path: code}


def test_a_bad_photo_hash_is_named_by_its_position():
    content = check()
    content["deductions"][0]["photos"][1] = "ABC"
    assert problems_at("remediation_check", content) == {
        "deductions.0.photos.1": "content.bad_photo_hash"
    }


def test_a_cleaner_score_that_does_not_match_the_ratings_is_refused_with_the_sheet():
    content = check()
    content["cleaner_ratings"][1]["score"] = 85
    problems = validate_content("remediation_check", content, sheet=SHEET)
    assert [(p.path, p.code) for p in problems] == [
        ("cleaner_ratings.1.score", "assessment.score_mismatch")
    ]
    assert "90" in problems[0].message  # 15 attendance + 18 on post + 57 cleanliness


def test_content_that_is_not_an_object_or_of_an_unknown_kind_is_refused():
    assert problems_at("remediation_check", [1]) == {"": "content.not_object"}
    assert problems_at("weather_report", {}) == {"kind": "content.bad_kind"}


# --- re-checks, inspections, routine assessments ----------------------------------------------


def test_a_resolved_recheck_needs_an_after_photo():
    assert problems_at("recheck", recheck(after_photos=[])) == {
        "after_photos": "recheck.after_photo_required"
    }


def test_an_unresolved_recheck_must_say_what_is_still_wrong():
    assert problems_at("recheck", recheck(resolved=False, after_photos=[])) == {
        "note": "recheck.note_required"
    }
    assert (
        validate_content("recheck", recheck(resolved=False, after_photos=[], note="垃圾仍未清运"))
        == []
    )


def test_an_inspection_needs_two_different_inspectors():
    assert problems_at("inspection_result", inspection(inspectors=["inspector-1"])) == {
        "inspectors": "inspection.two_inspectors"
    }
    assert problems_at(
        "inspection_result", inspection(inspectors=["inspector-1", "inspector-1"])
    ) == {"inspectors": "content.duplicate_id"}


def test_an_inspection_of_an_entity_with_a_wrong_credit_code_is_refused():
    code = "91350100M000100Y43"
    wrong_check = code[:17] + ("0" if code[17] != "0" else "1")
    assert problems_at("inspection_result", inspection(entity_credit_code=wrong_check)) == {
        "entity_credit_code": "content.bad_credit_code"
    }
    assert problems_at(
        "inspection_result", inspection(entity_credit_code="91350100I000100Y43")
    ) == {"entity_credit_code": "content.bad_credit_code"}


def test_inspection_results_come_from_the_configured_categories():
    assert problems_at("inspection_result", inspection(result="fine")) == {
        "result": "inspection.bad_result"
    }
    custom = inspection(result="local_category")
    assert validate_content("inspection_result", custom, result_categories=["local_category"]) == []


def test_an_inspection_that_found_a_problem_must_describe_it():
    assert problems_at("inspection_result", inspection(findings="")) == {
        "findings": "inspection.findings_required"
    }
    assert validate_content("inspection_result", inspection(result="no_problem", findings="")) == []


def test_a_routine_assessment_rates_at_least_one_cleaner_and_is_checked_against_the_sheet():
    assert problems_at("routine_assessment", assessment(cleaner_ratings=[])) == {
        "cleaner_ratings": "content.bad_list"
    }
    wrong = assessment()
    wrong["cleaner_ratings"][0]["score"] = 100
    assert problems_at("routine_assessment", wrong, sheet=SHEET) == {
        "cleaner_ratings.0.score": "assessment.score_mismatch"
    }
    assert validate_content("routine_assessment", wrong) == []


def test_the_envelope_photos_are_every_photo_the_content_names_once_in_order():
    content = check()
    content["deductions"][1]["photos"].append(content["deductions"][0]["photos"][0])
    assert content_photos("remediation_check", content) == [sha(0), sha(1), sha(10)]
    assert content_photos("recheck", recheck()) == [sha(500)]
    assert content_photos("inspection_result", inspection()) == [sha(700)]
    assert content_photos("routine_assessment", assessment()) == []


def test_credit_code_check_characters_follow_gb_32100():
    assert is_credit_code("91350100M000100Y43")
    assert check_character("91350100M000100Y4") == "3"
    assert not is_credit_code("91350100m000100Y43")
    assert not is_credit_code("91350100M000100Y4")


# --- properties -------------------------------------------------------------------------------

RULES = [(i.id, r.id) for i in SHEET.items for r in i.rules]


@st.composite
def valid_checks(draw: st.DrawFn) -> dict[str, Any]:
    picks = draw(
        st.lists(
            st.tuples(st.sampled_from(RULES), st.integers(1, 30), st.integers(1, 3)), max_size=15
        )
    )
    deductions = []
    for n, ((item_id, rule_id), count, photos) in enumerate(picks):
        rule = SHEET.rule(item_id, rule_id)
        if rule.max_units is not None:
            count = min(count, rule.max_units)
        deductions.append(deduction(n, item_id, rule_id, count, photos))
    return check(deductions)


@settings(max_examples=60, deadline=None)
@given(valid_checks())
def test_any_check_built_from_the_sheet_is_accepted(content):
    assert validate_content("remediation_check", content, sheet=SHEET) == []
    assert 0 <= content["total_score"] <= 100


def _leaf_paths(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, f"{prefix}{k}.")] or [
            prefix.rstrip(".")
        ]
    return [prefix.rstrip(".")]


@settings(max_examples=80, deadline=None)
@given(valid_checks(), st.data())
def test_removing_any_field_is_reported_at_that_fields_path(content, data):
    paths = [p for p in _leaf_paths(content) if "." not in p or p.split(".")[0] == "location"]
    for n, d in enumerate(content["deductions"]):
        paths += [f"deductions.{n}.{k}" for k in d]
    paths += [f"orders.0.{k}" for k in (content["orders"][0] if content["orders"] else {})]
    path = data.draw(st.sampled_from(sorted(set(paths))))
    broken = copy.deepcopy(content)
    target: Any = broken
    *parents, leaf = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[leaf]
    problems = validate_content("remediation_check", broken, sheet=SHEET)
    assert path in {p.path for p in problems}
