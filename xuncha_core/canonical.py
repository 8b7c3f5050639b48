"""Canonical JSON bytes (RFC 8785, JSON Canonicalization Scheme).

Ledger entries and record contents are hashed over these bytes, so the phone,
the server and an auditor's verifier must produce exactly the same ones:
object keys sorted by their UTF-16 code units, no insignificant whitespace,
UTF-8, strings escaped only where JSON requires it, numbers in ECMAScript form.

A value nested deeper than ``MAX_NESTING`` is refused with ValueError, like any
other value that has no canonical form, never with RecursionError: the limit is
four times what an accepted document may nest (``xuncha_core.json_limits``), so
a document wrapped in a ledger entry or a response always fits.
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring
from typing import Any

_MAX_SAFE_INT = 2**53 - 1
MAX_NESTING = 128


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 serialisation of ``value`` as UTF-8 bytes."""
    return canonical_text(value).encode("utf-8")


def canonical_text(value: Any) -> str:
    parts: list[str] = []
    _write(value, parts, 1)
    return "".join(parts)


def _write(value: Any, out: list[str], depth: int) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise ValueError(f"integer {value} is outside the I-JSON safe range; send it as a string")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(encode_basestring(value))  # exactly what json.dumps(value, ensure_ascii=False) writes
    elif isinstance(value, (dict, list, tuple)) and depth > MAX_NESTING:
        raise ValueError(f"the value is nested more than {MAX_NESTING} deep; flatten it")
    elif isinstance(value, dict):
        out.append("{")
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, got {key!r}")
        # Code-point order is UTF-16 order for ASCII keys (nearly all): skip the re-encoding then.
        keys = sorted(value) if all(key.isascii() for key in value) else sorted(value, key=_utf16_key)
        for i, key in enumerate(keys):
            if i:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _write(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, depth + 1)
        out.append("]")
    else:
        raise TypeError(f"cannot canonicalise {type(value).__name__}")


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be")


def _number(x: float) -> str:
    """ECMAScript Number.prototype.toString for a finite double (RFC 8785 section 3.2.2.3)."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError("NaN and Infinity have no JSON form")
    if x == 0:
        return "0"
    # repr gives the shortest digits that round-trip, which is what ECMAScript asks for;
    # only the layout (where the point goes, when to use an exponent) differs.
    mantissa, _, exp = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    all_digits = whole + frac
    significant = all_digits.lstrip("0")
    point = len(whole) + int(exp or 0) - (len(all_digits) - len(significant))
    digits = significant.rstrip("0")
    k = len(digits)
    sign = "-" if x < 0 else ""
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    e = point - 1
    tail = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + (digits if k == 1 else f"{digits[0]}.{digits[1:]}") + tail
