"""The shared JSON limits (issue 7, holes 2 and 6): what a document may hold, judged the same way
by the phone and the server, and an error answer that can always be written."""

from __future__ import annotations

import json
import uuid

import pytest

from server.infra.http_errors import ErrorResponse
from xuncha_core.canonical import MAX_NESTING, canonical_bytes
from xuncha_core.errors import MAX_MESSAGE_CHARS, ValidationError, error_body
from xuncha_core.json_limits import (
    MAX_BODY_DEPTH,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_KEY_CHARS,
    document_problems,
    shown,
    text_problem,
)
from xuncha_core.records import parse_record


def nested(depth: int, leaf: object = 1) -> object:
    """``depth`` objects inside one another: {"a": {"a": … leaf}}."""
    value: object = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def codes(value: object, **kw: object) -> list[str]:
    return [p.code for p in document_problems(value, **kw)]  # type: ignore[arg-type]


def test_a_document_may_nest_to_the_limit_and_not_one_level_more() -> None:
    assert codes(nested(MAX_DEPTH)) == []
    assert codes(nested(MAX_DEPTH + 1)) == ["json.too_deep"]
    assert codes([[[]]], max_depth=2) == ["json.too_deep"]


def test_any_depth_of_input_is_judged_without_exhausting_the_stack() -> None:
    assert codes(nested(200_000)) == ["json.too_deep"]


def test_canonical_json_refuses_absurd_nesting_with_a_value_error_not_a_recursion_error() -> None:
    # Issue 7 hole 6: a record nested about 964 deep hit RecursionError here.
    canonical_bytes(nested(MAX_NESTING))
    with pytest.raises(ValueError, match="nested more than"):
        canonical_bytes(nested(964))
    with pytest.raises(ValueError, match="nested more than"):
        canonical_bytes(nested(100_000))
    assert MAX_BODY_DEPTH < MAX_NESTING  # what a body may hold always has a canonical form


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb", "\udbff\udbff", "ok \ud83d"])
def test_lone_surrogates_are_refused_in_values_and_in_keys(bad: str) -> None:
    assert codes({"note": bad}) == ["json.bad_text"]
    assert codes({bad: 1}) == ["json.bad_text"]
    assert codes([1, [bad]]) == ["json.bad_text"]
    assert text_problem(bad) is not None


def test_every_valid_scalar_value_is_accepted_including_astral_and_invisible_ones() -> None:
    text = "😀𠀀e\u0301\u202e\u200f\u200b\u200d\ufeff\u2028\uffff\U0010ffff\x01\x00"
    assert codes({text: text}) == []


def test_nul_is_kept_in_documents_but_refused_for_text_columns() -> None:
    # Documents are stored as canonical JSON, where NUL is the escape \u0000; a column holds it raw.
    assert codes({"note": "a\x00b"}) == []
    problem = text_problem("a\x00b", path="reason")
    assert problem is not None and problem.code == "json.nul" and problem.path == "reason"
    assert text_problem("平时考核") is None


def test_keys_numbers_and_types_that_have_no_exact_json_form_are_refused() -> None:
    assert codes({"k" * MAX_KEY_CHARS: 1}) == []
    assert codes({"k" * (MAX_KEY_CHARS + 1): 1}) == ["json.key_too_long"]
    assert codes({"n": 2**53 - 1, "m": -(2**53 - 1)}) == []
    assert codes({"n": 2**53}) == ["json.bad_number"]
    assert codes({"n": float("nan"), "m": float("inf")}) == ["json.bad_number", "json.bad_number"]
    assert codes({"s": {1, 2}}) == ["json.bad_type"]
    assert codes({1: "a"}) == ["json.bad_key"]


def test_size_is_the_canonical_utf8_size() -> None:
    filler = "巡" * ((MAX_DOCUMENT_BYTES - 20) // 3)
    doc = {"t": filler}
    size = len(canonical_bytes(doc))
    assert size <= MAX_DOCUMENT_BYTES and codes(doc) == []
    assert codes(doc, max_bytes=size - 1) == ["json.too_large"]
    assert codes(doc, max_bytes=None) == []


def test_problems_name_where_they_are_and_never_grow_with_the_input() -> None:
    problems = document_problems({"a": [0, {"b": "\ud800"}]})
    assert [p.path for p in problems] == ["a.1.b"]
    many = document_problems({f"k{i}": "\ud800" for i in range(10_000)})
    assert len(many) == 20
    long_key = document_problems({"x" * 100_000: 1})[0]
    assert len(long_key.path) <= 120 and len(long_key.message) < 200


def test_shown_makes_any_text_safe_to_echo() -> None:
    assert shown("a\ud800b") == "a\\ud800b"
    assert len(shown("x" * 10_000)) == 120
    json.dumps(shown("\udfff" * 500), ensure_ascii=False).encode("utf-8")


def _envelope(**changes: object) -> dict[str, object]:
    env: dict[str, object] = {
        "record_id": str(uuid.uuid4()),
        "kind": "routine_assessment",
        "revision": 1,
        "base_revision": None,
        "author": "wang",
        "device_id": "d1",
        "device_time": "2025-05-14T09:30:00+08:00",
        "gps_time": None,
        "content": {},
        "photos": [],
    }
    env.update(changes)
    return env


@pytest.mark.parametrize("field", ["author", "device_id", "device_time", "kind", "record_id", "gps_time"])
def test_a_record_with_a_lone_surrogate_in_any_field_is_invalid_and_its_error_can_be_written(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_record(_envelope(**{field: "\ud800"}))
    err = caught.value
    assert err.code == "record.invalid" and [p["code"] for p in err.detail["problems"]] == ["json.bad_text"]
    json.dumps(err.detail, ensure_ascii=False).encode("utf-8")


def test_a_record_nested_beyond_the_limit_is_invalid_not_a_crash() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_record(_envelope(content={"note": nested(964)}))
    assert caught.value.detail["problems"][0]["code"] == "json.too_deep"


def test_an_unknown_field_with_a_huge_name_is_echoed_cut_short() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_record({**_envelope(), "x" * 200: 1})
    assert caught.value.detail["problems"][0]["path"].endswith("…")


def test_the_error_answer_renders_whatever_its_detail_holds() -> None:
    detail = {"author": "\ud800", "n": float("nan"), "deep": nested(5000), "set": {1}, "k\udfff": [b"x"]}
    response = ErrorResponse.of(422, {"error": error_body("x.y", "bad \ud800 " + "m" * 10_000, "坏", detail)})
    sent = json.loads(response.body)
    assert sent["error"]["detail"]["author"] == "\\ud800"
    assert sent["error"]["detail"]["n"] == "nan"
    assert len(sent["error"]["message"]) == MAX_MESSAGE_CHARS


def test_an_error_too_large_to_send_loses_its_detail_not_its_code() -> None:
    response = ErrorResponse.of(409, {"error": error_body("record.revision_conflict", "m", "m", {"blob": "x" * 3_000_000})})
    sent = json.loads(response.body)
    assert sent["error"]["code"] == "record.revision_conflict" and "blob" not in sent["error"]["detail"]
