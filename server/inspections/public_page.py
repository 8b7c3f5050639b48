"""The public page ``/public/`` (一公开): approved results per entity and each draw's inputs.

Server-rendered, Chinese first (``?lang=en`` for English), readable on a phone, with
its stylesheet served here (no CDN) and no script. It shows what the rule requires
and nothing more: per entity the inspecting authority, the kind of check, the date
and the result; for each draw its published inputs, selection, the inspectors'
names and certificate numbers, how to re-run it, and the file to re-run it from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from server.infra.db import read
from server.infra.deps import EngineDep
from server.inspections import draws
from server.inspections.catalogue import t
from server.inspections.publication import public_rows
from server.reference import feed as changes
from xuncha_core.errors import NotFoundError

HERE = Path(__file__).resolve().parent
router = APIRouter(tags=["public"], include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
)
Language = Annotated[str, Query(pattern=r"^(zh|en)$")]


@router.get("/public/", response_class=HTMLResponse)
def index(engine: EngineDep, lang: Language = "zh") -> HTMLResponse:
    with read(engine) as conn:
        results = public_rows(conn)
        listed = draws.listing(conn, published_only=True)
        town = _town(conn, lang)
    return _page("index.html", lang, town=town, results=results, draws=listed)


@router.get("/public/draws/{draw_id}", response_class=HTMLResponse)
def draw_page(
    engine: EngineDep,
    draw_id: Annotated[str, PathParam(max_length=40, pattern=r"^[0-9A-Za-z-]+$")],
    lang: Language = "zh",
) -> HTMLResponse:
    with read(engine) as conn:
        town = _town(conn, lang)
        try:
            file = draws.published_file(conn, draw_id)
        except NotFoundError:
            return _page("index.html", lang, status=404, town=town, results=[], draws=[])
    strata = {s["id"]: s["name"] for s in file["commitment"]["plan"]["strata"]}
    inspectors = {i["certificate"]: i["name"] for i in file["inspectors"]}
    return _page(
        "draw.html",
        lang,
        town=town,
        file=file,
        c=file["commitment"],
        strata=strata,
        inspectors=inspectors,
    )


@router.get("/public/static/public.css")
def stylesheet() -> FileResponse:
    return FileResponse(HERE / "static" / "public.css", media_type="text/css")


def _page(name: str, lang: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(
        lang=lang, t=lambda key, **v: t(key, lang, **v), **values
    )
    return HTMLResponse(html, status_code=status)


def _town(conn: Any, lang: str) -> str:
    rows = [r for r in changes.current(conn, topic="setting") if r["key"] == "town"]
    town = rows[0]["payload"] if rows else {}
    return str(town.get("name_en" if lang == "en" else "name", "") or "")
