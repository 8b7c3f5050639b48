"""Everything she recorded in one record, read-only: deductions with notes, photos (a tap
opens one full size), places, orders with deadlines, cleaner scores, the review history."""

from __future__ import annotations

from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.state import cleaners_of
from field_app.ui.views import media
from xuncha_core.review_flow import state_after
from xuncha_core.scoring import ScoringSheet, parse_sheet


def sheet_of(ctx: Any, content: dict[str, Any]) -> ScoringSheet | None:
    for payload in ctx.reference("scoring_sheet").values():
        try:
            sheet = parse_sheet(payload)
        except Exception:  # a sheet that does not parse names nothing
            continue
        if (sheet.id, sheet.version) == (content.get("sheet_id"), content.get("sheet_version")):
            return sheet
    return None


def content_sections(ctx: Any, view: dict[str, Any]) -> list[ft.Control]:
    content = view.get("content") or {}
    out: list[ft.Control] = []
    if content.get("location") is not None or "location" in content:
        out.append(theme.body(ctx.tr("record.location", value=media.location_text(ctx, content.get("location"))), size=15))
    if view.get("kind") == "remediation_check":
        out += [deductions(ctx, content), orders(ctx, content), cleaners(ctx, content)]
    elif view.get("kind") == "recheck":
        out.append(after_photos(ctx, content))
    out.append(reviews(ctx, view))
    return out


def photo_row(ctx: Any, content: dict[str, Any], shas: list[str], start: int = 1) -> ft.Control:
    evidence = content.get("photo_evidence") or {}
    return ft.Row([media.thumbnail(ctx, sha, n, evidence=evidence.get(sha)) for n, sha in enumerate(shas, start)],
                  wrap=True)


def deductions(ctx: Any, content: dict[str, Any]) -> ft.Control:
    tr = ctx.tr
    sheet = sheet_of(ctx, content)
    lines: list[ft.Control] = [theme.title(tr("record.deductions"))]
    number = 1
    for d in content.get("deductions") or []:
        rule = sheet.rule(d.get("item_id"), d.get("rule_id")) if sheet else None
        name = tr.pick(rule.name, rule.name_en) if rule else str(d.get("rule_id"))
        lines.append(theme.body(tr("record.deduction", rule=name, count=d.get("count"), points=d.get("points")), bold=True))
        if d.get("note"):
            lines.append(theme.body(tr("record.note", note=d["note"]), size=15))
        lines.append(theme.body(tr("record.location", value=media.location_text(ctx, d.get("location"))), size=14,
                                color=theme.MUTED))
        photos = list(d.get("photos") or [])
        if photos:
            lines.append(photo_row(ctx, content, photos, number))
            number += len(photos)
    if len(lines) == 1:
        lines.append(theme.body(tr("record.no_deductions"), color=theme.MUTED))
    return theme.card(*lines)


def orders(ctx: Any, content: dict[str, Any]) -> ft.Control:
    tr = ctx.tr
    found = content.get("orders") or []
    return theme.card(theme.title(tr("record.orders")),
                      *[theme.body(tr("record.order", title=o.get("title"), deadline=o.get("deadline"),
                                      responsible=o.get("responsible") or "—")) for o in found]
                      or [theme.body(tr("common.none"), color=theme.MUTED)])


def cleaners(ctx: Any, content: dict[str, Any]) -> ft.Control:
    tr = ctx.tr
    names = dict(cleaners_of(str(content.get("village_id") or ""), ctx.reference("cleaner")))
    lines: list[ft.Control] = [theme.title(tr("record.cleaners"))]
    for r in content.get("cleaner_ratings") or []:
        cid = r.get("cleaner_id")
        lines.append(theme.body(tr("check.cleaner_score", name=names.get(cid, cid), score=r.get("score")), bold=True))
        facts = [f"{tr(key)} {r.get(field, 0)}" for field, key in (
            ("absent_days", "check.absent_days"), ("late_minutes", "check.late_minutes"),
            ("left_post_times", "check.left_post"), ("dirty_spots", "check.dirty_spots"))]
        lines.append(theme.body("，".join(facts) if tr.lang == "zh" else ", ".join(facts), size=14, color=theme.MUTED))
    if len(lines) == 1:
        lines.append(theme.body(tr("common.none"), color=theme.MUTED))
    return theme.card(*lines)


def after_photos(ctx: Any, content: dict[str, Any]) -> ft.Control:
    tr = ctx.tr
    lines: list[ft.Control] = [theme.title(tr("record.after_photos")),
                               photo_row(ctx, content, list(content.get("after_photos") or [])),
                               theme.body(tr("fact.line", label=tr("fact.resolved"),
                                             value=tr("common.yes") if content.get("resolved") else tr("common.no")))]
    if content.get("note"):
        lines.append(theme.body(tr("record.note", note=content["note"])))
    return theme.card(*lines)


def reviews(ctx: Any, view: dict[str, Any]) -> ft.Control:
    tr = ctx.tr
    lines: list[ft.Control] = [theme.title(tr("record.reviews"))]
    for r in view.get("reviews") or []:
        action = tr(f"state.{state_after(r) or 'synced'}")
        key = "record.review_reason" if r.get("reason") else "record.review"
        lines.append(theme.body(tr(key, revision=r.get("revision"), action=action, reason=r.get("reason") or ""),
                                color=theme.DANGER if r.get("action") in ("send_back", "reject") else theme.INK))
    if len(lines) == 1:
        lines.append(theme.body(tr("record.no_reviews"), color=theme.MUTED))
    return theme.card(*lines)
