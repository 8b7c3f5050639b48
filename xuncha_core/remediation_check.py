"""The check of a ``remediation_check`` record's content (its shape: ``xuncha_core.content``).

Structure first (every field of the check, each deduction and order); given the scoring
sheet, also that each deduction names an item and rule of that sheet, that every stored
figure (points, cleaner scores, the total) is the sheet's own computation, and that every
rule demanding a photo has one. Problems go to the ``Checker`` with their paths.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xuncha_core.assessment import CleanerRating, assess_cleaner
from xuncha_core.content_checks import Checker
from xuncha_core.points import HUNDREDTH, points_json
from xuncha_core.scoring import Deduction, ScoringSheet, deduction_points, score_check

_DEDUCTION_FIELDS = {"deduction_id", "item_id", "rule_id", "count", "points", "note", "photos", "location"}
_ORDER_FIELDS = {"order_id", "title", "description", "deduction_ids", "deadline", "responsible"}


def check_remediation(c: Checker, content: dict[str, Any], sheet: ScoringSheet | None) -> None:
    c.ident(content, "village_id", "")
    c.month(content, "month", "")
    c.ident(content, "sheet_id", "")
    c.integer(content, "sheet_version", "", 1, 1_000_000)
    check_date = c.time(content, "inspected_at", "")
    c.text(content, "recorder", "", max_len=128)
    c.location(content, "location", "")
    if "note" in content:
        c.text(content, "note", "", allow_empty=True)
    c.points(content, "total_score", "")
    sheet = _same_sheet(c, content, sheet)
    deduction_ids, scored = _deductions(c, content, sheet)
    cleaner_ratings(c, content, sheet, min_len=0)
    _orders(c, content, check_date, deduction_ids)
    if sheet is not None and not c.has_problems_under("deductions"):
        expected_total = score_check(sheet, scored).total
        stored_total = c.points(content, "total_score", "", report=False)
        if stored_total is not None and stored_total != expected_total:
            c.bad(
                "total_score",
                "check.total_mismatch",
                f"total_score is {points_json(stored_total)} but the deductions give "
                f"{points_json(expected_total)}; recompute the score",
                f"总分为 {points_json(stored_total)}，按扣分计算应为 {points_json(expected_total)}，请重新计算",
            )


def _same_sheet(c: Checker, content: dict[str, Any], sheet: ScoringSheet | None) -> ScoringSheet | None:
    """The sheet, if the check was scored on it; else None (the mismatch reported)."""
    if sheet is None or (content.get("sheet_id"), content.get("sheet_version")) == (sheet.id, sheet.version):
        return sheet
    c.bad(
        "sheet_id",
        "check.sheet_mismatch",
        f"this check was scored on sheet {content.get('sheet_id')!r} v{content.get('sheet_version')!r}, "
        f"but sheet {sheet.id!r} v{sheet.version} was given; score it again on the current sheet",
        f"本次检查使用的评分表为 {content.get('sheet_id')!r} 第 {content.get('sheet_version')!r} 版，"
        f"与 {sheet.id!r} 第 {sheet.version} 版不符，请按现行评分表重新评分",
    )
    return None


def _deductions(
    c: Checker, content: dict[str, Any], sheet: ScoringSheet | None
) -> tuple[set[str], list[Deduction]]:
    """Check each deduction; its ids (to link orders to) and what the sheet scores."""
    deduction_ids: set[str] = set()
    scored: list[Deduction] = []
    for n, d in c.objects(content, "deductions", "", min_len=0, max_len=500):
        path = f"deductions.{n}."
        c.fields(d, path, _DEDUCTION_FIELDS)
        did = c.uuid(d, "deduction_id", path)
        if did and did in deduction_ids:
            c.bad(
                f"{path}deduction_id",
                "check.duplicate_id",
                "this deduction_id is used twice; give each its own",
                "扣分编号重复，每条扣分须有自己的编号",
            )
        raw_id = d.get("deduction_id")
        deduction_ids.add(raw_id if isinstance(raw_id, str) else "")
        item_id = c.ident(d, "item_id", path)
        rule_id = c.ident(d, "rule_id", path)
        count = c.integer(d, "count", path, 1, 10_000)
        c.text(d, "note", path, allow_empty=True)
        photos = c.photos(d, "photos", path)
        c.location(d, "location", path)
        stored = c.points(d, "points", path)
        if sheet is not None and item_id is not None and rule_id is not None:
            deduction = _against_sheet(c, path, sheet, item_id, rule_id, count, photos, stored)
            if deduction is not None:
                scored.append(deduction)
    return deduction_ids, scored


def _against_sheet(
    c: Checker,
    path: str,
    sheet: ScoringSheet,
    item_id: str,
    rule_id: str,
    count: int | None,
    photos: list[str] | None,
    stored: Any,
) -> Deduction | None:
    """One deduction against the sheet: its item, rule, photo, units and points."""
    item, rule = sheet.item(item_id), sheet.rule(item_id, rule_id)
    if item is None:
        c.bad(f"{path}item_id", "check.unknown_item", f"item {item_id!r} is not on the scoring sheet", f"评分表中没有项目 {item_id!r}")
        return None
    if rule is None:
        c.bad(
            f"{path}rule_id",
            "check.unknown_rule",
            f"rule {rule_id!r} is not under item {item.name_en or item.id}",
            f"项目「{item.name}」下没有扣分规则 {rule_id!r}",
        )
        return None
    if rule.photo_required and photos is not None and not photos:
        c.bad(
            f"{path}photos",
            "check.photo_required",
            f"“{rule.name_en or rule.name}” needs at least one photo; take or pick one",
            f"「{rule.name}」至少需要一张照片，请拍照或从相册选择",
        )
    if count is None:
        return None
    if rule.max_units is not None and count > rule.max_units:
        c.bad(
            f"{path}count",
            "check.too_many_units",
            f"“{rule.name_en or rule.name}” counts at most {rule.max_units} {rule.unit}; the count is {count}",
            f"「{rule.name}」最多计 {rule.max_units} {rule.unit}，当前为 {count}",
        )
    expected = deduction_points(item, rule, count)
    if stored is not None and stored != expected:
        c.bad(
            f"{path}points",
            "check.points_mismatch",
            f"points are {points_json(stored)} but {count} × “{rule.name_en or rule.name}” "
            f"takes {points_json(expected)}; recompute the score",
            f"扣分为 {points_json(stored)}，按「{rule.name}」计 {count} {rule.unit} 应扣 "
            f"{points_json(expected)}，请重新计算",
        )
    return Deduction(item_id, rule_id, count)


def _orders(c: Checker, content: dict[str, Any], check_date: datetime | None, deduction_ids: set[str]) -> None:
    for n, o in c.objects(content, "orders", "", min_len=0, max_len=200):
        path = f"orders.{n}."
        c.fields(o, path, _ORDER_FIELDS)
        c.uuid(o, "order_id", path)
        c.text(o, "title", path, max_len=200)
        c.text(o, "description", path, allow_empty=True)
        c.text(o, "responsible", path, max_len=128)
        deadline = c.date(o, "deadline", path)
        if deadline and check_date and deadline < check_date.date():
            c.bad(
                f"{path}deadline",
                "order.deadline_past",
                f"the deadline {deadline} is before the check on {check_date.date()}; pick a later date",
                f"整改期限 {deadline} 早于检查日期 {check_date.date()}，请选择之后的日期",
            )
        refs = c.ids(o, "deduction_ids", path, min_len=1)
        if not isinstance(content.get("deductions"), list):
            continue  # the deductions themselves are already reported
        for k, ref in enumerate(refs or []):
            if ref not in deduction_ids:
                c.bad(
                    f"{path}deduction_ids.{k}",
                    "order.unknown_deduction",
                    f"deduction {ref} is not in this check; link the order to one of its deductions",
                    f"本次检查中没有扣分 {ref}，整改通知须关联本次检查的扣分",
                )


def cleaner_ratings(
    c: Checker, content: dict[str, Any], sheet: ScoringSheet | None, *, min_len: int
) -> None:
    seen: set[str] = set()
    for n, r in c.objects(content, "cleaner_ratings", "", min_len=min_len, max_len=500):
        path = f"cleaner_ratings.{n}."
        c.fields(
            r,
            path,
            {
                "cleaner_id",
                "absent_days",
                "late_minutes",
                "left_post_times",
                "dirty_spots",
                "score",
            },
        )
        cid = c.ident(r, "cleaner_id", path)
        if cid and cid in seen:
            c.bad(
                f"{path}cleaner_id",
                "assessment.duplicate_cleaner",
                "this cleaner is rated twice; rate each once",
                "同一保洁员被重复评分，每人只评一次",
            )
        seen.add(cid or "")
        absent = c.integer(r, "absent_days", path, 0, 31)
        late = c.integer(r, "late_minutes", path, 0, 31 * 24 * 60)
        left = c.integer(r, "left_post_times", path, 0, 1000)
        dirty = c.integer(r, "dirty_spots", path, 0, 10_000)
        score = c.points(r, "score", path, maximum=100)
        if sheet is None or cid is None or absent is None or late is None or left is None or dirty is None:
            continue
        if score is None:
            continue
        expected = assess_cleaner(CleanerRating(cid, absent, late, left, dirty), sheet.cleaner_assessment).score
        if score != expected.quantize(HUNDREDTH):
            c.bad(
                f"{path}score",
                "assessment.score_mismatch",
                f"score is {points_json(score)} but the ratings give {points_json(expected)}; recompute it",
                f"得分为 {points_json(score)}，按各项评分应为 {points_json(expected)}，请重新计算",
            )
