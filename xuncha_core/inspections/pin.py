"""An inspector's personal PIN: how it is hashed, and how a phone checks it offline.

The second inspector of a random inspection confirms being present by typing their
PIN on the phone that records it (行政处罚法 art. 42: two inspectors on site). The
PIN is set on the inspector's own phone, which hashes it there; the server stores
only the hash and sends it to the phones of the inspectors who work with them, so
the recording phone can check the PIN without a connection.

The hash is scrypt (RFC 7914) over the username and the PIN with a random 16-byte
salt, N = 2^15, r = 8, p = 1: about a tenth of a second on a laptop, a few tenths
on a phone. A PIN has few digits, so whoever holds the hash can still try them
all given days of computing; the PIN is a presence check between colleagues, not
a password, and a phone allows ``MAX_TRIES`` wrong PINs per form before it stops
asking. A hash the server sends is checked for its shape and its cost parameters
first, so no hash can make a phone spend minutes or gigabytes.

    PinHash = {"v": 1, "kdf": "scrypt", "n": 32768, "r": 8, "p": 1,
               "salt": 32 lowercase hex digits, "hash": 64 lowercase hex digits}
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
from collections.abc import Mapping
from typing import Any

from xuncha_core.errors import Problem, ValidationError

MIN_DIGITS, MAX_DIGITS = 6, 12
MAX_TRIES = 5
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_ALLOWED_N = frozenset({2**14, 2**15, 2**16})
_MAXMEM = 128 * 1024 * 1024
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = frozenset({"v", "kdf", "n", "r", "p", "salt", "hash"})


def pin_problems(pin: str) -> list[Problem]:
    """What is wrong with a PIN someone chose (empty when it will do)."""
    if not pin.isascii() or not pin.isdigit() or not MIN_DIGITS <= len(pin) <= MAX_DIGITS:
        return [
            Problem(
                "pin",
                "pin.bad_length",
                f"a PIN is {MIN_DIGITS} to {MAX_DIGITS} digits; type only digits",
                f"个人密码须为 {MIN_DIGITS} 至 {MAX_DIGITS} 位数字",
            )
        ]
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if len(set(pin)) == 1 or steps in ({1}, {-1}):
        return [
            Problem(
                "pin",
                "pin.too_simple",
                "this PIN is too easy to guess (one digit repeated or counted up or down); choose another",
                "该密码过于简单（同一数字重复或连续数字），请另选",
            )
        ]
    return []


def hash_pin(username: str, pin: str, *, salt: bytes | None = None) -> dict[str, Any]:
    """The PinHash of ``pin`` for ``username``; ValidationError ``pin.invalid`` for a PIN that will not do."""
    problems = pin_problems(pin)
    if problems:
        raise ValidationError.of(problems, code="pin.invalid")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _scrypt(username, pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {
        "v": 1,
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": salt.hex(),
        "hash": digest.hex(),
    }


def check_pin_hash(value: Any) -> dict[str, Any]:
    """``value`` as a PinHash, or ValidationError ``pin.bad_hash`` (wrong shape or a cost out of bounds)."""
    ok = (
        isinstance(value, Mapping)
        and set(value) == _FIELDS
        and value["v"] == 1
        and value["kdf"] == "scrypt"
        and value["n"] in _ALLOWED_N
        and value["r"] == SCRYPT_R
        and value["p"] == SCRYPT_P
        and isinstance(value["salt"], str)
        and _HEX32.fullmatch(value["salt"]) is not None
        and isinstance(value["hash"], str)
        and _HEX64.fullmatch(value["hash"]) is not None
    )
    if not ok:
        raise ValidationError.of(
            [
                Problem(
                    "pin_hash",
                    "pin.bad_hash",
                    "the PIN hash is not one this software makes (scrypt, v1); set the PIN again on your phone",
                    "个人密码摘要格式不正确，请在本人手机上重新设置",
                )
            ],
            code="pin.bad_hash",
        )
    return dict(value)


def pin_matches(username: str, pin: str, pin_hash: Mapping[str, Any]) -> bool:
    """Whether ``pin`` is ``username``'s PIN (a malformed hash never matches)."""
    try:
        checked = check_pin_hash(pin_hash)
    except ValidationError:
        return False
    if not pin.isascii() or not pin.isdigit() or len(pin) > MAX_DIGITS:
        return False
    salt = bytes.fromhex(checked["salt"])
    digest = _scrypt(username, pin, salt, checked["n"], checked["r"], checked["p"])
    return hmac.compare_digest(digest.hex(), checked["hash"])


def _scrypt(username: str, pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    secret = f"xuncha-pin-v1\n{username}\n{pin}".encode()
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)
