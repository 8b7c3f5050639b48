"""How large, how deep and what text a JSON document may hold: one set of limits for every side.

A *document* is one record envelope or one reference item (a village, a scoring
sheet, a setting …). The phone checks it before it saves, the server before it
commits, and whatever was accepted can always be hashed, stored, served in the
pull feed and read back: nothing accepted is nested deeper than any serialiser
on the way can follow, and every string is valid Unicode.

``document_problems(value)`` lists what is wrong with a parsed document, each
with a dotted path, a stable code and a sentence in English and Chinese; an
empty list means it may be kept. ``text_problem(s)`` judges one plain string
that goes into a database column (where PostgreSQL cannot store NUL).

The request limits are here too, so the phone packs its batches by the same
numbers the server caps bodies at.
"""

from __future__ import annotations

import math
from typing import Any

from xuncha_core.canonical import canonical_bytes
from xuncha_core.errors import Problem, shown
from xuncha_core.errors import is_unicode as _is_unicode

MAX_DEPTH = 32
"""Objects and arrays nested in one document (``{}`` is depth 1). Real records reach about 5."""
MAX_DOCUMENT_BYTES = 256 * 1024
"""One document's canonical JSON (RFC 8785) in UTF-8 bytes."""
MAX_KEY_CHARS = 256
"""One object key, in characters."""
MAX_SAFE_INTEGER = 2**53 - 1
"""Larger integers have no exact JSON number (I-JSON, RFC 7493): send them as strings."""

MAX_BODY_DEPTH = 2 * MAX_DEPTH
"""A request body wraps documents (a batch wraps records), so it may nest deeper than one."""
MAX_BODY_BYTES = 1024 * 1024
"""A JSON request body carrying one document (a record, a reference item) or less."""
MAX_BATCH_BODY_BYTES = 8 * 1024 * 1024
"""A record batch's body. The phone packs batches to at most half of this."""

_MAX_PROBLEMS = 20  # enough to fix a document by; an error never grows with the input
_MAX_PATH_CHARS = 120


def document_problems(
    value: Any, *, max_depth: int = MAX_DEPTH, max_bytes: int | None = MAX_DOCUMENT_BYTES, path: str = ""
) -> list[Problem]:
    """What keeps ``value`` from being kept as a JSON document; empty if nothing does.

    Checks nesting depth, that keys are text of at most ``MAX_KEY_CHARS``, that
    every string and key is valid Unicode (no lone surrogates such as ``"\\ud800"``),
    that numbers are finite and integers exact, and finally the canonical size.
    Walks the value without recursion, so no depth of input can exhaust the stack.
    """
    problems: list[Problem] = []
    # A node's place is (its parent's place, its key or index): the dotted path is spelled
    # out only for a problem, so a clean document costs no string building.
    stack: list[tuple[Any, _Place, int]] = [(value, None, 1)]
    while stack and len(problems) < _MAX_PROBLEMS:
        item, place, depth = stack.pop()
        if isinstance(item, str):
            if not _is_unicode(item):
                problems.append(_bad_text(_path(path, place)))
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                problems.append(_too_deep(_path(path, place), max_depth))
            elif isinstance(item, list):
                stack.extend((item[i], (place, i), depth + 1) for i in range(len(item) - 1, -1, -1))
            else:
                stack.extend(reversed(_members(item, place, depth, path, problems)))  # in document order
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                problems.append(_big_integer(_path(path, place)))
        elif isinstance(item, float):
            if not math.isfinite(item):
                problems.append(_not_finite(_path(path, place)))
        else:
            problems.append(
                Problem(
                    _path(path, place), "json.bad_type", f"{type(item).__name__} is not a JSON value", "该值不是 JSON 数据。"
                )
            )
    if problems or max_bytes is None:
        return problems[:_MAX_PROBLEMS]
    size = len(canonical_bytes(value))
    if size > max_bytes:
        return [
            Problem(
                path,
                "json.too_large",
                f"this is {size} bytes as canonical JSON; the limit is {max_bytes}. Make it smaller or split it.",
                f"内容为 {size} 字节，超过上限 {max_bytes} 字节，请精简或拆分。",
            )
        ]
    return []


_Place = tuple[Any, "str | int"] | None


def _members(
    item: dict[Any, Any], place: _Place, depth: int, base: str, problems: list[Problem]
) -> list[tuple[Any, _Place, int]]:
    out: list[tuple[Any, _Place, int]] = []
    for key, child in item.items():
        if not isinstance(key, str):
            problems.append(Problem(_path(base, place), "json.bad_key", "object keys must be text", "对象的键必须是文本。"))
        elif not _is_unicode(key):
            problems.append(_bad_text(_path(base, (place, key))))
        elif len(key) > MAX_KEY_CHARS:
            problems.append(
                Problem(
                    _path(base, (place, key)),
                    "json.key_too_long",
                    f"a key is {len(key)} characters; the limit is {MAX_KEY_CHARS}",
                    f"键长 {len(key)} 个字符，超过上限 {MAX_KEY_CHARS}。",
                )
            )
        else:
            out.append((child, (place, key), depth + 1))
    return out


def _path(base: str, place: _Place) -> str:
    """The dotted path of ``place`` under ``base``, safe to echo (see ``shown``)."""
    names: list[str] = []
    while place is not None:
        place, name = place
        names.append(shown(str(name), 40))
        if len(names) > 12:  # the deep end of a deep path says enough
            names.append("…")
            break
    return shown(".".join(n for n in [base, *reversed(names)] if n))


def text_problem(value: str, *, path: str = "") -> Problem | None:
    """Why ``value`` cannot go into a text column as it is, or None: invalid Unicode or a NUL."""
    if not _is_unicode(value):
        return _bad_text(path)
    if "\x00" in value:
        return Problem(
            path,
            "json.nul",
            "the text contains a NUL character (\\u0000), which cannot be stored; remove it",
            "文本中含有空字符（\\u0000），无法保存，请删除。",
        )
    return None


def _too_deep(where: str, limit: int) -> Problem:
    return Problem(
        where,
        "json.too_deep",
        f"objects and arrays are nested more than {limit} deep here; flatten the data",
        f"对象或数组嵌套超过 {limit} 层，请减少嵌套。",
    )


def _bad_text(where: str) -> Problem:
    return Problem(
        where,
        "json.bad_text",
        "the text is not valid Unicode (it holds a lone surrogate such as \\ud800); send it as UTF-8",
        "文本不是有效的 Unicode（含有单独的代理字符，如 \\ud800），请以 UTF-8 发送。",
    )


def _big_integer(where: str) -> Problem:
    return Problem(
        where,
        "json.bad_number",
        f"integers beyond ±{MAX_SAFE_INTEGER} have no exact JSON form; send the number as a string",
        f"超过 ±{MAX_SAFE_INTEGER} 的整数无法精确表示，请以文本发送。",
    )


def _not_finite(where: str) -> Problem:
    return Problem(where, "json.bad_number", "NaN and Infinity are not JSON numbers", "NaN 和 Infinity 不是有效的数字。")
