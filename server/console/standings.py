"""The monthly red and black list (红黑榜) with each village's trend, and the cleaners' assessment table.

Pure functions over what the queries read: the approved checks' scores and the approved
cleaner ratings of a month. A village checked more than once in a month stands on the
mean of its approved checks (to the hundredth); positions and red/black standings are
``xuncha_core.scoring.rank_villages``'s, so the console and every other reader agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xuncha_core.assessment import (
    DEFAULT_RULES,
    CleanerAssessmentRules,
    CleanerRating,
    assess_cleaner,
)
from xuncha_core.points import as_points
from xuncha_core.scoring import RankedVillage, RankingPolicy, rank_villages

HUNDREDTH = Decimal("0.01")
TREND_MONTHS = 6


@dataclass(frozen=True)
class CheckScore:
    """One approved remediation check's total, as the queries read it."""

    village_id: str
    month: str
    score: Decimal


@dataclass(frozen=True)
class VillageStanding(RankedVillage):
    """A village's place on the month's list, with its checks and how its score moved."""

    checks: int
    change: Decimal | None  # against the previous month with a score; None if there is none
    trend: tuple[Decimal | None, ...]  # the trend months, oldest first, None where unchecked


def months_up_to(month: str, count: int = TREND_MONTHS) -> list[str]:
    """``count`` months ending with ``month`` ("YYYY-MM"), oldest first."""
    year, mon = int(month[:4]), int(month[5:7])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year, mon - 1) if mon > 1 else (year - 1, 12)
    return out[::-1]


Means = dict[tuple[str, str], tuple[Decimal, int]]


def monthly_means(checks: Iterable[CheckScore]) -> Means:
    """(village, month) → (mean score to the hundredth, number of checks)."""
    sums: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for c in checks:
        total, n = sums.get((c.village_id, c.month), (Decimal(0), 0))
        sums[(c.village_id, c.month)] = (total + c.score, n + 1)
    return means_of_sums(sums)


def means_of_sums(sums: Mapping[tuple[str, str], tuple[Decimal, int]]) -> Means:
    """(village, month) → (mean to the hundredth, checks), from each pair's exact sum and count."""
    return {k: ((total / n).quantize(HUNDREDTH, rounding=ROUND_HALF_UP), n) for k, (total, n) in sums.items() if n}


def monthly_ranking(
    means: Means, month: str, policy: RankingPolicy | None = None, *, trend_months: int = TREND_MONTHS
) -> list[VillageStanding]:
    """The list for ``month`` from each village's monthly means (``monthly_means``, or sums the
    database added up): every village with an approved check that month, best first."""
    months = months_up_to(month, trend_months)
    this_month = {v: score for (v, m), (score, _n) in means.items() if m == month}
    out = []
    for ranked in rank_villages(this_month, policy):
        trend = tuple(means.get((ranked.village_id, m), (None, 0))[0] for m in months)
        earlier = [s for s in trend[:-1] if s is not None]
        out.append(
            VillageStanding(
                position=ranked.position,
                village_id=ranked.village_id,
                score=ranked.score,
                standing=ranked.standing,
                checks=means[(ranked.village_id, month)][1],
                change=(ranked.score - earlier[-1]) if earlier else None,
                trend=trend,
            )
        )
    return out


def stored_score(text: str | None) -> Decimal | None:
    """``records.score`` as points: exact decimal text the server wrote itself (checked at intake)."""
    try:
        return Decimal(text) if text else None
    except ArithmeticError:
        return None


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def score_of(value: Any) -> Decimal | None:
    """A stored total score (a JSON number, or text starting with one) as points, or None."""
    if isinstance(value, str):
        found = _NUMBER.match(value)
        if found is None:
            return None
        try:
            value = Decimal(found.group(0))
        except ArithmeticError:
            return None
    return as_points(value)


# -- the cleaners' routine assessment (平时考核) ---------------------------------------------


@dataclass(frozen=True)
class RatedCleaner:
    """A cleaner's rating as recorded in an approved record, and when it was recorded."""

    village_id: str
    rated_at: str  # ISO time of the check or assessment
    record_id: str
    rating: Mapping[str, Any]


@dataclass(frozen=True)
class AssessmentRow:
    cleaner_id: str
    village_id: str
    absent_days: int
    late_minutes: int
    left_post_times: int
    dirty_spots: int
    attendance: Decimal
    on_post: Decimal
    cleanliness: Decimal
    score: Decimal
    record_id: str


def assessment_table(
    rated: Iterable[RatedCleaner], rules: CleanerAssessmentRules = DEFAULT_RULES
) -> list[AssessmentRow]:
    """One row per cleaner: the latest approved rating of the month, scored by ``rules``;
    by village, then cleaner id."""
    latest: dict[str, RatedCleaner] = {}
    for r in rated:
        cid = str(r.rating.get("cleaner_id", ""))
        if cid and (cid not in latest or (r.rated_at, r.record_id) > (latest[cid].rated_at, latest[cid].record_id)):
            latest[cid] = r
    rows = []
    for cid, r in latest.items():
        rating = CleanerRating(
            cid,
            _count(r.rating, "absent_days"),
            _count(r.rating, "late_minutes"),
            _count(r.rating, "left_post_times"),
            _count(r.rating, "dirty_spots"),
        )
        s = assess_cleaner(rating, rules)
        rows.append(
            AssessmentRow(
                cid, r.village_id, rating.absent_days, rating.late_minutes, rating.left_post_times,
                rating.dirty_spots, s.attendance, s.on_post, s.cleanliness, s.score, r.record_id,
            )
        )
    return sorted(rows, key=lambda row: (row.village_id, row.cleaner_id))


def _count(rating: Mapping[str, Any], key: str) -> int:
    value = rating.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def village_names(villages: Sequence[Mapping[str, Any]], lang: str) -> dict[str, str]:
    """village id → its name in ``lang`` (Chinese unless "en" and an English name is set)."""
    out = {}
    for v in villages:
        payload = v.get("payload", {})
        name = payload.get("name_en") if lang == "en" and payload.get("name_en") else payload.get("name")
        out[str(v["key"])] = str(name or v["key"])
    return out
