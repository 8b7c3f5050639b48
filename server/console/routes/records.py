"""The review queue (``/console/records``) and its exports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.console import catalogue, exports, facts, queries, web, wording
from server.infra.db import read
from xuncha_core.records import RECORD_KINDS
from xuncha_core.review_flow import STATES

router = APIRouter(prefix="/console", include_in_schema=False)
Filter = Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")]


@router.get("/records")
def queue(
    request: Request,
    session: web.Reader,
    village: Filter = None,
    month: Filter = None,
    kind: Filter = None,
    author: Filter = None,
    state: Filter = None,
    sort: Annotated[str, Query(max_length=16)] = "updated",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    lang = web.lang_of(request)
    f = queries.QueueFilters(village or None, month or None, kind or None, author or None, state or None,
                             sort if sort in queries.SORTS else "updated")
    with read(request.app.state.engine) as conn:
        names = facts.names(conn)
        fmt = exports.wanted(format)
        if fmt:
            rows = [_cells(r, names, lang) for r in queries.queue_all(conn, f)]
            return exports.response(fmt, name=f"records-{f.month or 'all'}", headers=_headers(lang), rows=rows)
        rows, total = queries.queue_page(conn, f, page)
        authors = queries.authors(conn)
    pages = max(1, -(-total // queries.PAGE_SIZE))
    t = web.translator(lang)
    return web.render(
        request, "records.html", rows=[_row(r, names, lang) for r in rows], total=total, page=min(page, pages),
        pages=pages, filters=f, query=f.query(),
        villages=sorted(((k, names.village(k, lang)) for k in names.villages), key=lambda kv: kv[0]),
        kinds=[(k, t(f"kind.{k}")) for k in RECORD_KINDS],
        states=[(s, t(f"state.{s}")) for s in STATES],
        authors=[(u, f"{n}（{u}）" if n != u else u) for u, n in authors],
        sorts=[(s, t(f"records.sort.{s}")) for s in queries.SORTS],
    )


def _row(r: Any, names: wording.Names, lang: str) -> dict[str, Any]:
    return {
        "record_id": r.record_id,
        "kind": r.kind,
        "village": names.village(r.village_id, lang) if r.village_id else "",
        "month": r.month or "",
        "author": names.user(r.author),
        "state": r.review_state,
        "revision": r.head_revision,
        "updated": wording.when(r.updated_at),
    }


def _headers(lang: str) -> list[str]:
    t = web.translator(lang)
    return ["record_id", t("records.kind"), t("common.village"), t("common.month"), t("records.author"),
            t("records.state"), t("records.revision"), t("records.updated")]


def _cells(r: Any, names: wording.Names, lang: str) -> list[Any]:
    row = _row(r, names, lang)
    return [row["record_id"], catalogue.text(f"kind.{r.kind}", lang), row["village"], row["month"], row["author"],
            catalogue.text(f"state.{r.review_state}", lang) if f"state.{r.review_state}" in catalogue.CATALOGUE else r.review_state,
            row["revision"], row["updated"]]
