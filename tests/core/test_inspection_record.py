"""The random_inspection record kind (issue 11, part 4): what a phone may send, checked in the core."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from xuncha_core.content import content_photos, validate_content
from xuncha_core.records import RECORD_KINDS

PHOTO = "a" * 64


def inspection(**changes: Any) -> dict[str, Any]:
    content: dict[str, Any] = {
        "task_id": "draw-1/91350100M000100Y43",
        "draw_id": "draw-1",
        "entity_id": "e-01",
        "entity_credit_code": "91350100M000100Y43",
        "inspectors": ["insp-xiang-j", "insp-li-m"],
        "matter_ids": ["m-env-01"],
        "result": "problem_corrected",
        "findings": "后厨排污口未加盖，已责令当场改正",
        "photos": [PHOTO],
        "started_at": "2026-03-02T09:30:00+08:00",
        "ended_at": "2026-03-02T10:15:00+08:00",
        "location": {"lat": 26.07, "lon": 119.29, "accuracy_m": 8.0, "source": "gps"},
        "recordings": ["DSJ-0042-20260302-0930", "DSJ-0017-20260302-0931"],
        "recorder": "向军",
        "co_inspector": {
            "inspector_id": "insp-li-m",
            "username": "li.m",
            "confirmed_at": "2026-03-02T10:14:00+08:00",
            "method": "pin",
        },
    }
    content.update(changes)
    return content


def codes(content: Any) -> set[str]:
    return {p.code for p in validate_content("random_inspection", content)}


def test_a_complete_inspection_recorded_by_two_inspectors_is_accepted() -> None:
    assert "random_inspection" in RECORD_KINDS
    assert validate_content("random_inspection", inspection()) == []
    assert content_photos("random_inspection", inspection()) == [PHOTO]


def test_nothing_found_needs_no_findings_but_a_problem_does() -> None:
    assert codes(inspection(result="no_problem", findings="")) == set()
    assert codes(inspection(findings=" ")) == {"inspection.findings_required"}
    assert codes(inspection(result="made_up")) == {"inspection.bad_result"}
    assert codes(inspection(result="custom")) == {"inspection.bad_result"}
    assert validate_content("random_inspection", inspection(result="custom"), result_categories=["custom"]) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"inspectors": ["insp-xiang-j"]}, "inspection.two_inspectors"),
        ({"inspectors": ["insp-xiang-j", "insp-xiang-j"]}, "content.duplicate_id"),
        ({"matter_ids": []}, "content.bad_list"),
        ({"ended_at": "2026-03-02T09:00:00+08:00"}, "inspection.ends_before_start"),
        ({"recordings": []}, "inspection.recording_required"),
        ({"recordings": ["DSJ-1", "DSJ-1"]}, "content.duplicate_id"),
        ({"recordings": ["x" * 65]}, "inspection.recording_required"),
        ({"entity_credit_code": "91350100M000100Y44"}, "content.bad_credit_code"),
        ({"started_at": "2026-03-02 09:30"}, "content.bad_time"),
    ],
)
def test_each_broken_field_is_named(change: dict[str, Any], code: str) -> None:
    assert code in codes(inspection(**change))


def test_the_second_inspector_must_have_confirmed_with_a_pin() -> None:
    unconfirmed = inspection()
    del unconfirmed["co_inspector"]
    assert "inspection.co_inspector_unconfirmed" in codes(unconfirmed)
    assert "inspection.co_inspector_unconfirmed" in codes(inspection(co_inspector=None))
    stranger = inspection()
    stranger["co_inspector"]["inspector_id"] = "insp-someone-else"
    assert codes(stranger) == {"inspection.co_inspector_not_listed"}
    early = inspection()
    early["co_inspector"]["confirmed_at"] = "2026-03-02T08:00:00+08:00"
    assert codes(early) == {"inspection.confirmed_before_start"}
    signed = inspection()
    signed["co_inspector"]["method"] = "signature"
    assert codes(signed) == {"inspection.bad_confirmation"}
    extra = copy.deepcopy(inspection())
    extra["co_inspector"]["pin"] = "135790"
    assert codes(extra) == {"content.unknown_field"}  # a PIN never travels in a record


def test_unknown_and_missing_fields_are_problems() -> None:
    content = inspection(secret="x")
    del content["recordings"]
    assert {"content.unknown_field", "inspection.recording_required"} <= codes(content)
