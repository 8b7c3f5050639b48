"""The unified social credit code (统一社会信用代码, GB 32100-2015).

Eighteen characters from the 31-character set ``0-9`` and ``A-Y`` without
``I O S V Z``; the last is a check character computed from the other
seventeen with the weights 3^i mod 31.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The check character for the first seventeen characters of a code."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_credit_code(code: object) -> bool:
    """True when ``code`` is an 18-character code whose characters and check character are valid."""
    if not isinstance(code, str) or len(code) != 18 or any(ch not in ALPHABET for ch in code):
        return False
    return check_character(code[:17]) == code[17]
