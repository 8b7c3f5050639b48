"""The dashboard: what waits for the office today."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.console import catalogue, charts, facts, overview, queries, web, wording
from server.infra.clock import town_date
from server.infra.db import read
from server.reference.calendar import work_calendar
from xuncha_core.review_flow import STATES

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("")
def bare(request: Request) -> Response:
    return web.redirect("/console/")


@router.get("/")
def dashboard(request: Request, session: web.Reader) -> Response:
    lang = web.lang_of(request)
    on = town_date(web.now(request))
    with read(request.app.state.engine) as conn:
        counts = queries.state_counts(conn)
        orders, _ = facts.orders(conn, on=on)
        work = work_calendar(conn)
        publication = facts.publication_statuses(conn, on=on, work=work)
        devices = queries.devices(conn)
        waiting = queries.records_per_author_waiting(conn)
        names = facts.names(conn)
    figures = overview.overview(counts, orders, publication, today=on, known_years=work.years)
    chart = charts.bars(
        [charts.Bar(catalogue.text(f"state.{s}", lang), counts.get(s, 0)) for s in STATES],
        title=catalogue.text("dash.chart", lang),
    )
    return web.render(
        request, "dashboard.html", figures=figures, chart=chart,
        devices=[_device(d, waiting, names) for d in devices if d.revoked_at is None and d.kind == "phone"],
    )


def _device(row: Any, waiting: dict[str, int], names: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "user": names.user(row.username),
        "last_seen": wording.when(row.heard_at) if row.heard_at else "",
        "outbox": row.outbox,
        "photos_missing": waiting.get(row.username, 0),
        "version": row.app_version,
    }
