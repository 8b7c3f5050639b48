"""Scoring a monthly check against its sheet, and the monthly red and black list.

The sheet itself (its JSON shape and parser) is in ``xuncha_core.sheet``.

The scoring rules:

- a deduction's points are ``count × points_per_unit``, with ``count`` at most
  ``max_units`` (when set), capped at the item's maximum;
- a rule with ``zeroes_item`` (open burning, for example) takes the whole item;
- an item never goes below 0: its deductions together are capped at its maximum;
- the total is ``total − Σ item deductions``, never below 0.

The items' maxima must add up to ``total``. Arithmetic is exact (see ``points``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xuncha_core.errors import Problem, ValidationError
from xuncha_core.points import ZERO, as_points
from xuncha_core.sheet import (
    DeadlineRule,
    RankingPolicy,
    ScoringItem,
    ScoringRule,
    ScoringSheet,
    parse_sheet,
)

__all__ = [
    "CheckScore",
    "DeadlineRule",
    "Deduction",
    "ItemScore",
    "RankedVillage",
    "RankingPolicy",
    "ScoringItem",
    "ScoringRule",
    "ScoringSheet",
    "deduction_points",
    "parse_sheet",
    "rank_villages",
    "score_check",
    "stored_total",
]


@dataclass(frozen=True)
class Deduction:
    """One finding to score: ``count`` units of ``rule_id`` under ``item_id``."""

    item_id: str
    rule_id: str
    count: int = 1


@dataclass(frozen=True)
class ItemScore:
    item_id: str
    name: str
    name_en: str
    max_points: Decimal
    deducted: Decimal
    zeroed: bool

    @property
    def score(self) -> Decimal:
        return self.max_points - self.deducted


@dataclass(frozen=True)
class CheckScore:
    """The breakdown of one check: every item of the sheet in order, and the total."""

    total: Decimal
    items: tuple[ItemScore, ...]


@dataclass(frozen=True)
class RankedVillage:
    position: int
    village_id: str
    score: Decimal
    standing: str  # "red", "black" or ""


def deduction_points(item: ScoringItem, rule: ScoringRule, count: int) -> Decimal:
    """Points one deduction takes: the whole item for a zeroing rule, else count × points, capped."""
    if count <= 0:
        return ZERO
    if rule.zeroes_item:
        return item.max_points
    units = count if rule.max_units is None else min(count, rule.max_units)
    return min(rule.points_per_unit * units, item.max_points)


def score_check(sheet: ScoringSheet, deductions: Iterable[Deduction]) -> CheckScore:
    """Score a check; raises ValidationError naming any deduction whose item or rule is not on the sheet."""
    per_item: dict[str, Decimal] = {i.id: ZERO for i in sheet.items}
    zeroed: set[str] = set()
    problems: list[Problem] = []
    for n, d in enumerate(deductions):
        item = sheet.item(d.item_id)
        rule = item.rule(d.rule_id) if item else None
        if item is None or rule is None:
            problems.append(_unknown_rule(f"deductions.{n}", sheet, d.item_id, d.rule_id))
            continue
        per_item[item.id] += deduction_points(item, rule, d.count)
        if rule.zeroes_item and d.count > 0:
            zeroed.add(item.id)
    if problems:
        raise ValidationError.of(problems, code="check.unknown_rule")
    items = tuple(
        ItemScore(
            item_id=i.id,
            name=i.name,
            name_en=i.name_en,
            max_points=i.max_points,
            deducted=i.max_points if i.id in zeroed else min(per_item[i.id], i.max_points),
            zeroed=i.id in zeroed,
        )
        for i in sheet.items
    )
    total = max(sheet.total - sum((s.deducted for s in items), ZERO), ZERO)
    return CheckScore(total=total, items=items)


def rank_villages(
    scores: Mapping[str, Any], policy: RankingPolicy | None = None
) -> list[RankedVillage]:
    """The month's red and black list: highest score first, equal scores in village-id order.

    Positions are 1, 2, 3, … with no shared places, so the lists are the same
    on every machine. Scores are JSON numbers or Decimals (0–1000).
    """
    policy = policy or RankingPolicy()
    parsed: list[tuple[str, Decimal]] = []
    for village_id, raw in scores.items():
        value = raw if isinstance(raw, Decimal) else as_points(raw)
        if value is None:
            raise ValidationError.of(
                [
                    Problem(
                        village_id,
                        "ranking.bad_score",
                        f"the score of {village_id!r} is not a number of points",
                        f"{village_id} 的得分不是有效分数",
                    )
                ]
            )
        parsed.append((village_id, value))
    parsed.sort(key=lambda vs: (-vs[1], vs[0]))
    n = len(parsed)
    ranked = []
    for pos, (village_id, value) in enumerate(parsed, start=1):
        black = pos > n - policy.black_bottom or (
            policy.black_below is not None and value < policy.black_below
        )
        red = not black and pos <= policy.red_top
        ranked.append(
            RankedVillage(pos, village_id, value, "black" if black else "red" if red else "")
        )
    return ranked


def _unknown_rule(path: str, sheet: ScoringSheet, item_id: str, rule_id: str) -> Problem:
    if sheet.item(item_id) is None:
        return Problem(
            f"{path}.item_id",
            "check.unknown_item",
            f"item {item_id!r} is not on sheet {sheet.id} v{sheet.version}; pick an item from the sheet",
            f"评分表 {sheet.id} 第 {sheet.version} 版中没有项目 {item_id!r}，请从评分表中选择",
        )
    return Problem(
        f"{path}.rule_id",
        "check.unknown_rule",
        f"rule {rule_id!r} is not under item {item_id!r}; pick a deduction rule of that item",
        f"项目 {item_id!r} 下没有扣分规则 {rule_id!r}，请选择该项目的扣分规则",
    )


def stored_total(kind: str, content: Mapping[str, Any]) -> str | None:
    """A remediation check's stored ``total_score`` as exact decimal text ("87.5"), else None:
    what the server keeps beside the record so that a month's ranking need not open envelopes."""
    if kind != "remediation_check":
        return None
    total = as_points(content.get("total_score"))
    return None if total is None else str(total)
