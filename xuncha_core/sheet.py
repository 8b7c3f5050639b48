"""A scoring sheet (考核评分表): the configuration a monthly check is scored on.

A sheet is configuration, not code: the office publishes it as JSON (see
``assets/config/scoring_sheet.sample.json`` and its README). Its shape::

    {"id": "fengjia-2025", "version": 1, "name": "…", "name_en": "…", "total": 100,
     "items": [{"id": "public_areas", "name": "…", "name_en": "…", "max_points": 10,
                "deadline_days": 7, "deadline_basis": "calendar",        # optional
                "rules": [{"id": "exposed_rubbish", "name": "…", "name_en": "…",
                           "unit": "处", "points_per_unit": 0.5, "max_units": null,
                           "zeroes_item": false, "photo_required": true,
                           "deadline_days": 3, "deadline_basis": "working"}]}],   # optional
     "rectification": {"deadline_days": 7, "deadline_basis": "calendar"},   # optional
     "ranking": {"red_top": 2, "black_bottom": 1, "black_below": 80},       # optional
     "cleaner_assessment": {…}}                                            # optional, see assessment

The items' maxima must add up to ``total``; ``parse_sheet`` reports every
problem it finds, each with its path, rather than stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xuncha_core.assessment import DEFAULT_RULES, CleanerAssessmentRules, parse_cleaner_rules
from xuncha_core.errors import Problem, ValidationError
from xuncha_core.points import ZERO, as_points

DEADLINE_BASES = ("calendar", "working")
MAX_DEADLINE_DAYS = 365


@dataclass(frozen=True)
class DeadlineRule:
    """How long a rectification order may take: ``days`` calendar or working days after the check."""

    days: int = 7
    basis: str = "calendar"


@dataclass(frozen=True)
class ScoringRule:
    id: str
    name: str
    name_en: str
    unit: str
    points_per_unit: Decimal
    max_units: int | None = None
    zeroes_item: bool = False
    photo_required: bool = True
    deadline: DeadlineRule | None = None


@dataclass(frozen=True)
class ScoringItem:
    id: str
    name: str
    name_en: str
    max_points: Decimal
    rules: tuple[ScoringRule, ...]
    deadline: DeadlineRule | None = None

    def rule(self, rule_id: str) -> ScoringRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


@dataclass(frozen=True)
class RankingPolicy:
    """Who goes on the red list (top ``red_top``) and the black list (bottom ``black_bottom``
    or any score below ``black_below``); a black-listed village is never also red."""

    red_top: int = 1
    black_bottom: int = 1
    black_below: Decimal | None = None


@dataclass(frozen=True)
class ScoringSheet:
    id: str
    version: int
    name: str
    name_en: str
    total: Decimal
    items: tuple[ScoringItem, ...]
    rectification: DeadlineRule = field(default_factory=DeadlineRule)
    ranking: RankingPolicy = field(default_factory=RankingPolicy)
    cleaner_assessment: CleanerAssessmentRules = DEFAULT_RULES

    def item(self, item_id: str) -> ScoringItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def rule(self, item_id: str, rule_id: str) -> ScoringRule | None:
        item = self.item(item_id)
        return item.rule(rule_id) if item else None

    def deadline_for(self, item_id: str, rule_id: str) -> DeadlineRule:
        """The deadline rule of a finding: the rule's own, else its item's, else the sheet's."""
        item = self.item(item_id)
        rule = item.rule(rule_id) if item else None
        return (rule and rule.deadline) or (item and item.deadline) or self.rectification


def parse_sheet(data: Any) -> ScoringSheet:
    """Read a scoring sheet from its JSON; raises ValidationError listing every problem found."""
    problems: list[Problem] = []
    sheet = _SheetReader(problems).sheet(data)
    if problems or sheet is None:
        raise ValidationError.of(problems, code="sheet.invalid")
    return sheet


class _SheetReader:
    """Reads sheet JSON field by field, noting every problem rather than stopping at the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def bad(self, path: str, message: str, message_zh: str, code: str = "sheet.bad_field") -> None:
        self.problems.append(Problem(path, code, message, message_zh))

    def text(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = obj.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            self.bad(
                f"{path}{key}",
                f"{key} must be a non-empty text of at most 200 characters",
                f"{key} 必须是不超过 200 字的非空文本",
            )
            return ""
        return value

    def points(self, obj: dict[str, Any], key: str, path: str) -> Decimal:
        value = as_points(obj.get(key))
        if value is None:
            self.bad(
                f"{path}{key}",
                f"{key} must be a number from 0 to 1000 with at most two decimals",
                f"{key} 必须是 0–1000 之间、最多两位小数的数",
                "sheet.bad_number",
            )
            return ZERO
        return value

    def flag(self, obj: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            self.bad(f"{path}{key}", f"{key} must be true or false", f"{key} 必须是 true 或 false")
            return default
        return value

    def count(self, value: Any, path: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(
                path,
                f"must be a whole number from {low} to {high}",
                f"必须是 {low}–{high} 的整数",
                "sheet.bad_number",
            )
            return None
        return value

    def deadline(self, obj: dict[str, Any], path: str) -> DeadlineRule | None:
        if "deadline_days" not in obj and "deadline_basis" not in obj:
            return None
        days = self.count(obj.get("deadline_days"), f"{path}deadline_days", 0, MAX_DEADLINE_DAYS)
        basis = obj.get("deadline_basis", "calendar")
        if basis not in DEADLINE_BASES:
            self.bad(
                f"{path}deadline_basis",
                'deadline_basis must be "calendar" or "working"',
                "deadline_basis 必须是 calendar（自然日）或 working（工作日）",
            )
            basis = "calendar"
        return DeadlineRule(days=days if days is not None else 7, basis=basis)

    def sheet(self, data: Any) -> ScoringSheet | None:
        if not isinstance(data, dict):
            self.bad(
                "",
                "a scoring sheet must be a JSON object",
                "评分表必须是 JSON 对象",
                "sheet.not_object",
            )
            return None
        sheet_id = self.text(data, "id", "")
        version = self.count(data.get("version"), "version", 1, 1_000_000) or 1
        name = self.text(data, "name", "")
        name_en = self.text(data, "name_en", "", required=False)
        total = self.points(data, "total", "")
        raw_items = data.get("items")
        items: list[ScoringItem] = []
        if not isinstance(raw_items, list) or not raw_items:
            self.bad(
                "items",
                "items must be a non-empty list of scoring items",
                "items 必须是非空的评分项目列表",
            )
        else:
            for n, raw in enumerate(raw_items):
                item = self.item(raw, f"items.{n}.")
                if item is not None:
                    items.append(item)
            self.unique([i.id for i in items], "items", "item")
            item_sum = sum((i.max_points for i in items), ZERO)
            if len(items) == len(raw_items) and item_sum != total:
                self.bad(
                    "items",
                    f"the items' max_points add up to {item_sum}, not the total {total}",
                    f"各项目满分合计为 {item_sum}，与总分 {total} 不符",
                    "sheet.items_total",
                )
        rectification = (
            self.deadline(data.get("rectification") or {}, "rectification.") or DeadlineRule()
        )
        ranking = self.ranking(data.get("ranking"))
        cleaner_rules, cleaner_problems = parse_cleaner_rules(data.get("cleaner_assessment"))
        self.problems.extend(cleaner_problems)
        return ScoringSheet(
            sheet_id,
            version,
            name,
            name_en,
            total,
            tuple(items),
            rectification,
            ranking,
            cleaner_rules,
        )

    def item(self, raw: Any, path: str) -> ScoringItem | None:
        if not isinstance(raw, dict):
            self.bad(path.rstrip("."), "each item must be an object", "每个评分项目必须是对象")
            return None
        max_points = self.points(raw, "max_points", path)
        rules: list[ScoringRule] = []
        raw_rules = raw.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            self.bad(
                f"{path}rules",
                "rules must be a non-empty list of deduction rules",
                "rules 必须是非空的扣分规则列表",
            )
        else:
            for n, r in enumerate(raw_rules):
                rule = self.rule(r, f"{path}rules.{n}.")
                if rule is not None:
                    rules.append(rule)
            self.unique([r.id for r in rules], f"{path}rules", "rule")
        return ScoringItem(
            id=self.text(raw, "id", path),
            name=self.text(raw, "name", path),
            name_en=self.text(raw, "name_en", path, required=False),
            max_points=max_points,
            rules=tuple(rules),
            deadline=self.deadline(raw, path),
        )

    def rule(self, raw: Any, path: str) -> ScoringRule | None:
        if not isinstance(raw, dict):
            self.bad(path.rstrip("."), "each rule must be an object", "每条扣分规则必须是对象")
            return None
        max_units = raw.get("max_units")
        if max_units is not None:
            max_units = self.count(max_units, f"{path}max_units", 1, 10_000)
        zeroes = self.flag(raw, "zeroes_item", path, False)
        return ScoringRule(
            id=self.text(raw, "id", path),
            name=self.text(raw, "name", path),
            name_en=self.text(raw, "name_en", path, required=False),
            unit=self.text(raw, "unit", path),
            points_per_unit=ZERO
            if zeroes and "points_per_unit" not in raw
            else self.points(raw, "points_per_unit", path),
            max_units=max_units,
            zeroes_item=zeroes,
            photo_required=self.flag(raw, "photo_required", path, True),
            deadline=self.deadline(raw, path),
        )

    def ranking(self, raw: Any) -> RankingPolicy:
        if raw is None:
            return RankingPolicy()
        if not isinstance(raw, dict):
            self.bad("ranking", "ranking must be an object", "ranking 必须是对象")
            return RankingPolicy()
        red = self.count(raw.get("red_top", 1), "ranking.red_top", 0, 1000)
        black = self.count(raw.get("black_bottom", 1), "ranking.black_bottom", 0, 1000)
        below = None
        if raw.get("black_below") is not None:
            below = self.points(raw, "black_below", "ranking.")
        return RankingPolicy(
            red_top=1 if red is None else red,
            black_bottom=1 if black is None else black,
            black_below=below,
        )

    def unique(self, ids: list[str], path: str, what: str) -> None:
        seen: set[str] = set()
        for n, i in enumerate(ids):
            if i and i in seen:
                self.bad(
                    f"{path}.{n}.id",
                    f"{what} id {i!r} is used twice; give each {what} its own id",
                    f"编号 {i!r} 重复，每个{'项目' if what == 'item' else '规则'}的编号必须唯一",
                    "sheet.duplicate_id",
                )
            seen.add(i)
