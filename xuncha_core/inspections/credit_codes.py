"""Why a unified social credit code is wrong, in words an office clerk can act on.

``xuncha_core.credit_code`` answers yes or no (GB 32100-2015); an import of a
whole directory needs the reason, so a clerk can find the typing slip.
"""

from __future__ import annotations

from xuncha_core.credit_code import ALPHABET, check_character


def credit_code_problem(code: str) -> tuple[str, str] | None:
    """None for a valid code, else (English, Chinese) saying what is wrong with it."""
    if not code:
        return ("the credit code is missing", "缺少统一社会信用代码")
    if len(code) != 18:
        return (
            f"the credit code {code!r} has {len(code)} characters; it needs 18",
            f"统一社会信用代码 {code!r} 有 {len(code)} 位，应为 18 位",
        )
    if code != code.upper():
        return (
            f"the credit code {code!r} has lower-case letters; write it in capitals",
            f"统一社会信用代码 {code!r} 含小写字母，请用大写",
        )
    for position, ch in enumerate(code, start=1):
        if ch not in ALPHABET:
            return (
                f"the credit code {code!r} has {ch!r} at position {position}, a character codes never use "
                "(no I, O, S, V or Z)",
                f"统一社会信用代码 {code!r} 第 {position} 位是 {ch!r}，代码中不使用该字符（不含 I、O、S、V、Z）",
            )
    if not code[2:8].isdigit():
        return (
            f"the credit code {code!r} needs the six-digit region code at positions 3 to 8",
            f"统一社会信用代码 {code!r} 第 3 至 8 位应为 6 位数字的行政区划码",
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        return (
            f"the credit code {code!r} ends in {code[17]!r} but its check character is {expected!r}; "
            "compare it with the business licence",
            f"统一社会信用代码 {code!r} 末位是 {code[17]!r}，校验码应为 {expected!r}；请与营业执照核对",
        )
    return None
