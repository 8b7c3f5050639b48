"""What a field accepts, without Flet: the months she may pick and the numbers she types.

A month is chosen, never typed: ``month_choices`` lists this month first and the months
before it, so "2026-13" cannot be entered. A count or minutes can be typed as well as
stepped: ``parse_number`` reads what was typed (digits only, within bounds) or says no.
"""

from __future__ import annotations

from datetime import date

MONTHS_BACK = 12


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_choices(today: date, *, back: int = MONTHS_BACK, keep: str | None = None) -> list[str]:
    """This month and the ``back`` months before it, newest first; ``keep`` (the month a
    draft already has, if valid and not listed) is added so picking never changes it."""
    out = []
    year, month = today.year, today.month
    for _ in range(back + 1):
        out.append(month_key(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    if keep and keep not in out and valid_month(keep):
        out.append(keep)
    return out


def valid_month(text: str) -> bool:
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4 or len(parts[1]) != 2:
        return False
    return 1 <= int(parts[1]) <= 12


def parse_number(text: str, *, minimum: int = 0, maximum: int = 100_000) -> int | None:
    """The whole number typed (full-width digits too), or None if it is not one within bounds."""
    cleaned = text.strip().translate({ord("０") + i: ord("0") + i for i in range(10)})
    if not cleaned.isdigit():
        return None
    value = int(cleaned)
    return value if minimum <= value <= maximum else None
