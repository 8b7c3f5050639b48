"""Rectification orders, the monthly red and black list, the cleaners' assessment and the printable report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.console import charts, exports, facts, queries, web, wording
from server.infra.clock import town_date
from server.infra.db import read
from xuncha_core.rectification import CLOSED, OVERDUE, OrderStatus

router = APIRouter(prefix="/console", include_in_schema=False)
Month = Annotated[str | None, Query(max_length=7)]
Filter = Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")]
Format = Annotated[str | None, Query(max_length=8)]


@router.get("/orders")
def orders_page(request: Request, session: web.Reader, month: Month = None, village: Filter = None, state: Filter = None,
                format: Format = None) -> Response:
    lang = web.lang_of(request)
    t = web.translator(lang)
    on = town_date(web.now(request))
    chosen = facts.valid_month(month, "") or None
    with read(request.app.state.engine) as conn:
        statuses, envelopes = facts.orders(conn, on=on, months=[chosen] if chosen else None, village_id=village or None)
        names = facts.names(conn)
        kept = queries.kept_photos(conn, [p for e in envelopes.values() for p in e["photos"]])
    if state:
        statuses = [s for s in statuses if s.state == state]
    statuses.sort(key=lambda s: (s.state == CLOSED, s.deadline, s.village_id))
    rows = [_order_row(s, names, envelopes, kept, lang) for s in statuses]
    if fmt := exports.wanted(format):
        headers = [t("common.village"), t("common.month"), t("field.title"), t("field.responsible"),
                   t("field.deadline"), t("records.state"), t("orders.days_left"), t("orders.closed_on")]
        cells = [[r["village"], r["month"], r["title"], r["responsible"], r["deadline"], t(f"orders.state.{r['state']}"),
                  r["days_left"], r["closed_on"]] for r in rows]
        return exports.response(fmt, name=f"orders-{chosen or 'recent'}", headers=headers, rows=cells)
    query = "&".join(f"{k}={v}" for k, v in (("month", chosen), ("village", village), ("state", state)) if v)
    return web.render(request, "orders.html", rows=rows, month=chosen or "", village=village or "", state=state or "",
                      villages=sorted((k, names.village(k, lang)) for k in names.villages),
                      states=[(s, t(f"orders.state.{s}")) for s in ("open", OVERDUE, CLOSED)],
                      query=query, window=facts.ORDER_WINDOW_MONTHS)


def _order_row(s: OrderStatus, names: wording.Names, envelopes: dict[str, Any], kept: set[str], lang: str) -> dict[str, Any]:
    check = envelopes.get(s.check_record_id, {}).get("content", {})
    order: dict[str, Any] = next((o for o in check.get("orders") or [] if o.get("order_id") == s.order_id), {})
    wanted = set(order.get("deduction_ids") or [])
    before = [p for d in check.get("deductions") or [] if d.get("deduction_id") in wanted for p in d.get("photos") or []]
    after = envelopes.get(s.closed_by or "", {}).get("content", {}).get("after_photos") or [] if s.closed_by else []
    return {
        "village": names.village(s.village_id, lang), "month": s.month, "title": s.title, "responsible": s.responsible,
        "deadline": s.deadline.isoformat(), "state": s.state, "days_left": s.days_left,
        "closed_on": s.closed_on.isoformat() if s.closed_on else "", "check": s.check_record_id, "recheck": s.closed_by,
        "before": [{"sha256": p, "kept": p in kept, "flags": (), "distance_km": None, "taken_at": ""} for p in before],
        "after": [{"sha256": p, "kept": p in kept, "flags": (), "distance_km": None, "taken_at": ""} for p in after],
    }


def _month(request: Request, month: str | None) -> str:
    return facts.valid_month(month, facts.this_month(web.now(request)))


@router.get("/ranking")
def ranking_page(request: Request, session: web.Reader, month: Month = None, format: Format = None) -> Response:
    lang = web.lang_of(request)
    t = web.translator(lang)
    chosen = _month(request, month)
    with read(request.app.state.engine) as conn:
        ranked = facts.ranking(conn, chosen)
        names = facts.names(conn)
    rows = [_ranked_row(r, names, lang, t) for r in ranked]
    if fmt := exports.wanted(format):
        headers = [t("ranking.position"), t("common.village"), t("ranking.score"), t("ranking.checks"), t("ranking.change"), ""]
        cells = [[r["position"], r["village"], r["score"], r["checks"], r["change_value"], r["standing_text"]] for r in rows]
        return exports.response(fmt, name=f"ranking-{chosen}", headers=headers, rows=cells)
    return web.render(request, "ranking.html", rows=rows, month=chosen, chart=_chart(rows, chosen, t), trend_months=6)


def _ranked_row(r: Any, names: wording.Names, lang: str, t: Any) -> dict[str, Any]:
    return {
        "position": r.position, "village": names.village(r.village_id, lang), "score": r.score, "checks": r.checks,
        "change": "" if r.change is None else f"{r.change:+}", "change_value": r.change, "standing": r.standing,
        "standing_text": t(f"ranking.{r.standing}") if r.standing else "",
        "trend": charts.trend(r.trend, title=names.village(r.village_id, lang)),
    }


def _chart(rows: list[dict[str, Any]], month: str, t: Any) -> str:
    colour = {"red": charts.RED, "black": charts.BLACK}
    return charts.bars([charts.Bar(r["village"], float(r["score"]), colour.get(r["standing"], charts.NEUTRAL)) for r in rows],
                       title=t("ranking.chart", month=month), maximum=100)


@router.get("/assessment")
def assessment_page(request: Request, session: web.Reader, month: Month = None, format: Format = None) -> Response:
    lang = web.lang_of(request)
    t = web.translator(lang)
    chosen = _month(request, month)
    with read(request.app.state.engine) as conn:
        table = facts.assessment(conn, chosen)
        names = facts.names(conn)
    rows = [_assessed_row(a, names, lang) for a in table]
    if fmt := exports.wanted(format):
        headers = [t("field.cleaner_id"), t("common.village"), t("field.absent_days"), t("field.late_minutes"),
                   t("field.left_post_times"), t("field.dirty_spots"), t("assessment.attendance"), t("assessment.on_post"),
                   t("assessment.cleanliness"), t("field.score")]
        return exports.response(fmt, name=f"assessment-{chosen}", headers=headers, rows=[list(r.values())[:10] for r in rows])
    return web.render(request, "assessment.html", rows=rows, month=chosen)


def _assessed_row(a: Any, names: wording.Names, lang: str) -> dict[str, Any]:
    return {
        "cleaner": names.of(names.cleaners, a.cleaner_id, lang), "village": names.village(a.village_id, lang),
        "absent_days": a.absent_days, "late_minutes": a.late_minutes, "left_post_times": a.left_post_times,
        "dirty_spots": a.dirty_spots, "attendance": a.attendance, "on_post": a.on_post, "cleanliness": a.cleanliness,
        "score": a.score, "record_id": a.record_id,
    }


@router.get("/report")
def report_page(request: Request, session: web.Reader, month: Month = None) -> Response:
    lang = web.lang_of(request)
    t = web.translator(lang)
    chosen = _month(request, month)
    on = town_date(web.now(request))
    with read(request.app.state.engine) as conn:
        ranked = facts.ranking(conn, chosen)
        table = facts.assessment(conn, chosen)
        statuses, _ = facts.orders(conn, on=on, months=[chosen])
        names = facts.names(conn)
        town = queries.reference_map(conn, "setting").get("town", {})
    rows = [_ranked_row(r, names, lang, t) for r in ranked]
    return web.render(
        request, "report.html", month=chosen, rows=rows, chart=_chart(rows, chosen, t),
        assessed=[_assessed_row(a, names, lang) for a in table],
        orders=[_order_row(s, names, {}, set(), lang) for s in statuses],
        checks=sum(r.checks for r in ranked), villages=len(ranked),
        overdue=sum(1 for s in statuses if s.state == OVERDUE),
        town=(town.get("name_en") if lang == "en" and town.get("name_en") else town.get("name")) or "",
        generated=wording.when(web.now(request).isoformat()),
    )
