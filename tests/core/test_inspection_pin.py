"""An inspector's PIN (issue 11, part 4): hashed with scrypt on their phone, checked offline on another."""

from __future__ import annotations

import pytest

from xuncha_core.errors import ValidationError
from xuncha_core.inspections.pin import check_pin_hash, hash_pin, pin_matches, pin_problems

SALT = bytes(range(16))


def test_the_right_pin_matches_and_a_wrong_one_or_another_user_does_not() -> None:
    stored = hash_pin("li.m", "275319", salt=SALT)
    assert pin_matches("li.m", "275319", stored)
    assert not pin_matches("li.m", "275318", stored)
    assert not pin_matches("xiang.j", "275319", stored)  # the username is part of what is hashed
    assert not pin_matches("li.m", "２７５３１９", stored)  # full-width digits are not the PIN


def test_the_hash_is_salted_scrypt_and_holds_no_pin() -> None:
    a, b = hash_pin("li.m", "275319"), hash_pin("li.m", "275319")
    assert a["salt"] != b["salt"] and a["hash"] != b["hash"]
    assert (a["kdf"], a["n"], a["r"], a["p"]) == ("scrypt", 2**15, 8, 1)
    assert "275319" not in str(a)
    assert check_pin_hash(a) == a


@pytest.mark.parametrize(
    ("pin", "code"),
    [("12345", "pin.bad_length"), ("1234567890123", "pin.bad_length"), ("12a456", "pin.bad_length"),
     ("111111", "pin.too_simple"), ("123456", "pin.too_simple"), ("987654", "pin.too_simple")],
)
def test_weak_or_malformed_pins_are_refused_with_a_reason(pin: str, code: str) -> None:
    assert [p.code for p in pin_problems(pin)] == [code]
    with pytest.raises(ValidationError) as raised:
        hash_pin("li.m", pin)
    assert raised.value.code == "pin.invalid"


@pytest.mark.parametrize(
    "change",
    [{"n": 2**24}, {"r": 64}, {"p": 16}, {"kdf": "md5"}, {"salt": "zz"}, {"hash": "0" * 63}, {"extra": 1}],
)
def test_a_hash_that_could_make_a_phone_hang_or_is_malformed_is_refused_and_never_matches(change: dict) -> None:
    bad = {**hash_pin("li.m", "275319", salt=SALT), **change}
    with pytest.raises(ValidationError) as raised:
        check_pin_hash(bad)
    assert raised.value.code == "pin.bad_hash"
    assert not pin_matches("li.m", "275319", bad)
