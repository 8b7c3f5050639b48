"""Points as exact decimals: half points (and hundredths) never drift.

Scores travel as JSON numbers (``97.5``), but binary floats cannot add
``0.1`` ten times and get ``1``. Every rule that adds or subtracts points
therefore works on :class:`~decimal.Decimal` values with at most two decimal
places, converted from JSON through their shortest decimal text, and turned
back into the plainest JSON number (``3`` not ``3.0``) only at the edge.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

HUNDREDTH = Decimal("0.01")
ZERO = Decimal(0)
MAX_POINTS = Decimal(1000)


def as_points(value: Any) -> Decimal | None:
    """The exact value of a JSON number with at most two decimals in [0, 1000], or None.

    Booleans, strings, NaN and infinities are not points.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite() or d < 0 or d > MAX_POINTS:
        return None
    if d != d.quantize(HUNDREDTH):
        return None
    d = d.normalize()
    return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d  # type: ignore[operator]


def points_json(value: Decimal) -> int | float:
    """The JSON number for points: an int when whole, else the float whose text is the decimal."""
    value = value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
    if value == value.to_integral_value():
        return int(value)
    return float(value)

