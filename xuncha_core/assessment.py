"""Routine assessment of cleaners (保洁员平时考核) and the performance-pay split.

A cleaner is rated once a month on three parts, each floored at 0:

    attendance   (出勤) 20 points, −5 per unexcused absent day
    on post      (在岗) 20 points, −1 per full 10 minutes late, −3 per time the post was left
    cleanliness  (保洁质量) 60 points, −1 per dirty spot found

The figures are configuration: a scoring sheet's JSON may carry them under
``"cleaner_assessment"``::

    {"attendance": {"max_points": 20, "per_absent_day": 5},
     "on_post": {"max_points": 20, "per_late_block": 1, "late_block_minutes": 10,
                 "per_left_post": 3},
     "cleanliness": {"max_points": 60, "per_dirty_spot": 1},
     "base_pay_share": 0.8}

The three maxima must add up to 100 so that the score reads as a percentage.
Pay: ``base_pay_share`` of the monthly pay is fixed; the rest is performance
pay, paid in proportion to the score (score/100), rounded to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xuncha_core.errors import Problem
from xuncha_core.points import ZERO, as_points

FEN = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class CleanerAssessmentRules:
    """How a cleaner's month is scored; defaults are the township's usual figures."""

    attendance_max: Decimal = Decimal(20)
    per_absent_day: Decimal = Decimal(5)
    on_post_max: Decimal = Decimal(20)
    per_late_block: Decimal = Decimal(1)
    late_block_minutes: int = 10
    per_left_post: Decimal = Decimal(3)
    cleanliness_max: Decimal = Decimal(60)
    per_dirty_spot: Decimal = Decimal(1)
    base_pay_share: Decimal = Decimal("0.8")


DEFAULT_RULES = CleanerAssessmentRules()


@dataclass(frozen=True)
class CleanerRating:
    """What the supervisor observed of one cleaner in one month."""

    cleaner_id: str
    absent_days: int = 0
    late_minutes: int = 0
    left_post_times: int = 0
    dirty_spots: int = 0


@dataclass(frozen=True)
class CleanerScore:
    cleaner_id: str
    attendance: Decimal
    on_post: Decimal
    cleanliness: Decimal

    @property
    def score(self) -> Decimal:
        return self.attendance + self.on_post + self.cleanliness


@dataclass(frozen=True)
class PaySplit:
    """A month's pay: the fixed base, the performance part earned, and their sum (yuan)."""

    base: Decimal
    performance: Decimal
    performance_possible: Decimal

    @property
    def total(self) -> Decimal:
        return self.base + self.performance


def assess_cleaner(
    rating: CleanerRating, rules: CleanerAssessmentRules = DEFAULT_RULES
) -> CleanerScore:
    """Score one cleaner's month; each part is floored at 0 and never exceeds its maximum."""
    late_blocks = rating.late_minutes // rules.late_block_minutes
    return CleanerScore(
        cleaner_id=rating.cleaner_id,
        attendance=_floored(rules.attendance_max, rules.per_absent_day * rating.absent_days),
        on_post=_floored(
            rules.on_post_max,
            rules.per_late_block * late_blocks + rules.per_left_post * rating.left_post_times,
        ),
        cleanliness=_floored(rules.cleanliness_max, rules.per_dirty_spot * rating.dirty_spots),
    )


def performance_pay(
    monthly_pay: Decimal | int | str,
    score: Decimal | int,
    rules: CleanerAssessmentRules = DEFAULT_RULES,
) -> PaySplit:
    """Split ``monthly_pay`` into base and performance pay earned at ``score`` (0–100), to the fen."""
    pay = Decimal(monthly_pay)
    score_d = min(max(Decimal(score), ZERO), HUNDRED)
    base = (pay * rules.base_pay_share).quantize(FEN, rounding=ROUND_HALF_UP)
    possible = pay - base
    earned = (possible * score_d / HUNDRED).quantize(FEN, rounding=ROUND_HALF_UP)
    return PaySplit(base=base, performance=earned, performance_possible=possible)


def parse_cleaner_rules(
    data: Any, path: str = "cleaner_assessment"
) -> tuple[CleanerAssessmentRules, list[Problem]]:
    """Read the ``cleaner_assessment`` block of a sheet; missing figures take the defaults."""
    problems: list[Problem] = []
    if data is None:
        return DEFAULT_RULES, problems
    if not isinstance(data, dict):
        return DEFAULT_RULES, [
            Problem(
                path,
                "sheet.bad_cleaner_assessment",
                "cleaner_assessment must be an object",
                "保洁员考核配置必须是对象",
            )
        ]
    values: dict[str, Any] = {}
    for part, fields in _LAYOUT.items():
        block = data.get(part, {})
        if not isinstance(block, dict):
            problems.append(
                Problem(f"{path}.{part}", "sheet.bad_cleaner_assessment", f"{part} must be an object", f"{part} 必须是对象")
            )
            continue
        for key, attr in fields.items():
            if key in block:
                _read_figure(values, problems, f"{path}.{part}.{key}", key, attr, block[key])
    if "base_pay_share" in data:
        share = as_points(data["base_pay_share"])
        if share is None or share > 1:
            problems.append(
                Problem(
                    f"{path}.base_pay_share",
                    "sheet.bad_number",
                    "base_pay_share must be a fraction from 0 to 1, such as 0.8",
                    "基本工资占比必须是 0–1 之间的小数，例如 0.8",
                )
            )
        else:
            values["base_pay_share"] = share
    rules = CleanerAssessmentRules(**values)
    total = rules.attendance_max + rules.on_post_max + rules.cleanliness_max
    if not problems and total != HUNDRED:
        problems.append(
            Problem(
                path,
                "sheet.cleaner_total",
                f"attendance, on post and cleanliness maxima add up to {total}, not 100",
                f"出勤、在岗、保洁质量三项满分合计为 {total}，应为 100",
            )
        )
    return rules, problems


_LAYOUT = {
    "attendance": {"max_points": "attendance_max", "per_absent_day": "per_absent_day"},
    "on_post": {
        "max_points": "on_post_max",
        "per_late_block": "per_late_block",
        "late_block_minutes": "late_block_minutes",
        "per_left_post": "per_left_post",
    },
    "cleanliness": {"max_points": "cleanliness_max", "per_dirty_spot": "per_dirty_spot"},
}


def _read_figure(values: dict[str, Any], problems: list[Problem], where: str, key: str, attr: str, raw: Any) -> None:
    """One figure of the block into ``values[attr]``, or its problem."""
    if attr == "late_block_minutes":
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 240:
            problems.append(
                Problem(
                    where,
                    "sheet.bad_number",
                    "late_block_minutes must be a whole number from 1 to 240",
                    "迟到计扣分钟数必须是 1–240 的整数",
                )
            )
        else:
            values[attr] = raw
        return
    parsed = as_points(raw)
    if parsed is None:
        problems.append(
            Problem(
                where,
                "sheet.bad_number",
                f"{key} must be a number from 0 to 1000 with at most two decimals",
                f"{key} 必须是 0–1000 之间、最多两位小数的数",
            )
        )
    else:
        values[attr] = parsed


def _floored(maximum: Decimal, deducted: Decimal) -> Decimal:
    return max(maximum - deducted, ZERO)
