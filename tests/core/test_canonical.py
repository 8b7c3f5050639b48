"""Canonical JSON (RFC 8785): the bytes every ledger hash and record digest is taken over."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xuncha_core.canonical import canonical_bytes, canonical_text

# RFC 8785 Appendix B: IEEE 754 bit patterns and their required serialisation.
APPENDIX_B = [
    (0x0000000000000000, "0"),
    (0x8000000000000000, "0"),
    (0x0000000000000001, "5e-324"),
    (0x8000000000000001, "-5e-324"),
    (0x7FEFFFFFFFFFFFFF, "1.7976931348623157e+308"),
    (0xFFEFFFFFFFFFFFFF, "-1.7976931348623157e+308"),
    (0x4340000000000000, "9007199254740992"),
    (0xC340000000000000, "-9007199254740992"),
    (0x4430000000000000, "295147905179352830000"),
    (0x44B52D02C7E14AF5, "9.999999999999997e+22"),
    (0x44B52D02C7E14AF6, "1e+23"),
    (0x44B52D02C7E14AF7, "1.0000000000000001e+23"),
    (0x444B1AE4D6E2EF4E, "999999999999999700000"),
    (0x444B1AE4D6E2EF4F, "999999999999999900000"),
    (0x444B1AE4D6E2EF50, "1e+21"),
    (0x3EB0C6F7A0B5ED8C, "9.999999999999997e-7"),
    (0x3EB0C6F7A0B5ED8D, "0.000001"),
    (0x41B3DE4355555553, "333333333.3333332"),
    (0x41B3DE4355555554, "333333333.33333325"),
    (0x41B3DE4355555555, "333333333.3333333"),
    (0x41B3DE4355555556, "333333333.3333334"),
    (0x41B3DE4355555557, "333333333.33333343"),
    (0xBECBF647612F3696, "-0.0000033333333333333333"),
    (0x43143FF3C1CB0959, "1424953923781206.2"),
]


def _double(bits: int) -> float:
    return struct.unpack(">d", bits.to_bytes(8, "big"))[0]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B, ids=[f"{b:016x}" for b, _ in APPENDIX_B])
def test_numbers_serialise_as_rfc_8785_appendix_b_requires(bits: int, expected: str) -> None:
    assert canonical_text({"n": _double(bits)}) == f'{{"n":{expected}}}'


def test_the_rfc_sample_object_canonicalises_to_the_published_bytes() -> None:
    # The JCS specification's own sample (numbers, escaping, literals).
    source = (
        '{"numbers": [1E30, 4.50, 6, 2e-3, 0.000000000000000000000000001],'
        ' "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "other": [null, true, false]}'
    )
    expected = (
        '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/",'
        '"numbers":[1e+30,4.5,6,0.002,1e-27],"other":[null,true,false]}'
    )
    assert canonical_bytes(json.loads(source)) == expected.encode("utf-8")


def test_keys_sort_by_utf16_code_units_not_by_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB01 (ﬁ) although its code point is larger.
    value = {"\U0001f600": 1, "\ufb01": 2, "\u20ac": 3, "\r": 4, "1": 5, "\u00f6": 6}
    assert canonical_text(value) == '{"\\r":4,"1":5,"ö":6,"€":3,"😀":1,"ﬁ":2}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 2**53, {1: "x"}, {"a": object()}])
def test_values_json_cannot_carry_exactly_are_refused(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        canonical_text(bad if isinstance(bad, dict) else {"n": bad})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_text_is_json_that_parses_back_to_the_same_value(value: object) -> None:
    text = canonical_text(value)
    # Numbers read back as doubles, as JSON's data model (I-JSON) has them.
    parsed = json.loads(text, parse_int=float)
    assert parsed == value
    # Canonicalising is idempotent: the canonical form of the parsed text is the text itself.
    assert canonical_text(parsed) == text
