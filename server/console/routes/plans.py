"""Random-inspection plans and draws (双随机): list, create, commit, enter the random values.

The same draw service as the API (``server.inspections.draws``): the office creates a plan,
commits it (the candidate lists' SHA-256, the algorithm and the named future source go in
the ledger), and once the source has published its numbers enters them: the draw runs and
is published at once (``/public/``, and the file ``xuncha-server draw verify`` takes).
Office reviewers and administrators act, as the API's ``OfficeActor``; every console role reads.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from server.console import exports, plan_form, queries, web
from server.console.sessions import Session
from server.infra.db import read
from server.infra.writer import write
from server.inspections import draws
from server.inspections.directory_store import load
from xuncha_core.errors import ConflictError, ValidationError
from xuncha_core.inspections.directories import RISK_LEVELS

router = APIRouter(prefix="/console/plans", include_in_schema=False)
DrawId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z-]+$")]
Format = Annotated[str | None, Query(max_length=8)]
STATES = ("planned", "committed", "published")


@router.get("")
def plans(request: Request, session: web.Reader, format: Format = None) -> Response:
    t = web.translator(web.lang_of(request))
    with read(request.app.state.engine) as conn:
        rows = [draws.get(conn, r["id"]) for r in draws.listing(conn)]
    listed = [{"id": d["id"], "title": d["title"], "state": d["state"], "deadline": d["plan"]["deadline"],
               "created_at": d["created_at"], "drawn_at": d["drawn_at"] or ""} for d in rows]
    if fmt := exports.wanted(format):
        headers = [t("plan.id"), t("plan.title_field"), t("plan.state"), t("plan.deadline"), t("plan.created_at"),
                   t("plan.drawn_at")]
        cells = [[r["id"], r["title"], t(f"plan.state.{r['state']}"), r["deadline"], r["created_at"], r["drawn_at"]]
                 for r in listed]
        return exports.response(fmt, name="plans", headers=headers, rows=cells)
    return web.render(request, "plans.html", rows=listed, may_act=_may_act(session), query="")


@router.get("/new")
def new_plan(request: Request, session: web.Issuer) -> Response:
    return _form_page(request, plan_form.empty_plan(), [])


@router.post("")
def create(request: Request, session: web.Issuer, form: web.FormDep) -> Response:
    entered = plan_form.read_plan(lambda name: web.field(form, name, plan_form.TEXT_LIMIT), _all(form))
    plan = entered.as_plan()
    at = _at(request)
    try:
        made = write(request.app.state.engine,
                     lambda conn: draws.create_plan(conn, data=plan, actor=session.actor, at=at))
    except ValidationError as exc:
        return _form_page(request, entered, _shown(request, exc, plan), status=422)
    return web.redirect(f"/console/plans/{made['id']}?done=created")


@router.get("/{draw_id}")
def plan_page(request: Request, session: web.Reader, draw_id: DrawId, done: str = "") -> Response:
    t = web.translator(web.lang_of(request))
    notice = t(f"plan.done.{done}") if done in ("created", "committed", "drawn") else ""
    return _plan_page(request, session, draw_id, notice=notice)


@router.post("/{draw_id}/commitment")
def commit(request: Request, session: web.Issuer, draw_id: DrawId, form: web.FormDep) -> Response:
    source = plan_form.randomness(lambda name: web.field(form, name, 500))
    at = _at(request)
    try:
        write(request.app.state.engine, lambda conn: draws.commit(conn, draw_id=draw_id, source=source, at=at))
    except (ValidationError, ConflictError) as exc:
        return _plan_page(request, session, draw_id, errors=_shown(request, exc, {}), source=source,
                          status=422 if isinstance(exc, ValidationError) else 409)
    return web.redirect(f"/console/plans/{draw_id}?done=committed")


@router.post("/{draw_id}/draw")
def draw(request: Request, session: web.Issuer, draw_id: DrawId, form: web.FormDep) -> Response:
    text = web.field(form, "random_values", 2000)
    at = _at(request)
    try:
        values = plan_form.value_sets(text)
        write(request.app.state.engine, lambda conn: draws.enter_values(conn, draw_id=draw_id, values=values, at=at))
    except (ValidationError, ConflictError) as exc:
        return _plan_page(request, session, draw_id, errors=_shown(request, exc, {}), values_text=text,
                          status=422 if isinstance(exc, ValidationError) else 409)
    return web.redirect(f"/console/plans/{draw_id}?done=drawn")


def _plan_page(request: Request, session: Session, draw_id: str, *, notice: str = "", errors: list[str] | None = None,
               source: dict[str, Any] | None = None, values_text: str = "", status: int = 200) -> Response:
    lang = web.lang_of(request)
    with read(request.app.state.engine) as conn:
        d = draws.get(conn, draw_id)
        dirs = load(conn)
        villages = _villages(conn, lang)
        file = draws.published_file(conn, draw_id) if d["state"] == "published" else None
        author = queries.user_names(conn).get(d["created_by"]) or d["created_by"]
    strata = {s["id"]: s["name"] for s in d["plan"]["strata"]}
    return web.render(
        request, "plan.html", status=status, d=d, author=author, notice=notice, errors=errors or [], may_act=_may_act(session),
        matters=[(code, dirs.matters[code].name if code in dirs.matters else code) for code in d["plan"]["matters"]],
        villages=villages, risks={k: v[0 if lang == "zh" else 1] for k, v in RISK_LEVELS.items()}, strata=strata,
        source=source or {"description": "", "published_on": "", "value_sets": 2}, values_text=values_text,
        result=_result(file, strata) if file else None,
    )


def _result(file: dict[str, Any], strata: dict[str, str]) -> dict[str, Any]:
    """The draw's outcome in words: each stratum's selection in order, each entity's inspectors."""
    names = file.get("entity_names", {})
    inspectors = {i["certificate"]: i["name"] for i in file["inspectors"]}
    pools = [{"name": strata.get(p["stratum"], p["stratum"]), "key": p.get("key") or file["rfc3797"]["key"],
              "size": len(p["candidates"]), "count": p["count"],
              "selected": [(code, names.get(code, "")) for code in p["selected"]]}
             for p in file["rfc3797"]["pools"]]
    assigned = [{"entity": a["entity"], "name": names.get(a["entity"], ""), "stratum": strata.get(a["stratum"], a["stratum"]),
                 "inspectors": [(c, inspectors.get(c, "")) for c in a["inspectors"]], "short_by": a["short_by"]}
                for a in file["assignments"]["entities"]]
    return {"key": file["rfc3797"]["key"], "pools": pools, "assigned": assigned,
            "rule": file["assignments"]["rule"], "short": any(a["short_by"] for a in assigned),
            "random_values": file["random_values"], "drawn_at": file["drawn_at"]}


def _form_page(request: Request, entered: plan_form.PlanForm, errors: list[str], *, status: int = 200) -> Response:
    lang = web.lang_of(request)
    with read(request.app.state.engine) as conn:
        dirs = load(conn)
        villages = _villages(conn, lang)
    types = sorted({e.type for _, e in dirs.entities.values() if e.type})
    return web.render(
        request, "plan_new.html", status=status, form=entered, errors=errors,
        matters=sorted((m.code, m.name, m.legal_basis) for m in dirs.matters.values()),
        types=types, villages=sorted(villages.items()),
        risks=[(k, v[0 if lang == "zh" else 1]) for k, v in RISK_LEVELS.items()],
    )


def _shown(request: Request, exc: ValidationError | ConflictError, plan: dict[str, Any]) -> list[str]:
    lang = web.lang_of(request)
    t = web.translator(lang)
    if isinstance(exc, ConflictError):
        return [exc.message_zh if lang == "zh" and exc.message_zh else exc.message]
    return plan_form.problems_shown(exc, lang, lambda path: plan_form.field_label(path, plan, t))


def _villages(conn: Any, lang: str) -> dict[str, str]:
    return {v["key"]: str(v["payload"].get("name_en" if lang == "en" else "name") or v["payload"].get("name") or v["key"])
            for v in queries.reference(conn, "village")}


def _all(form: FormData) -> Any:
    def get_all(name: str) -> list[str]:
        return [v.replace("\x00", "").strip()[: plan_form.TEXT_LIMIT] for v in form.getlist(name)
                if isinstance(v, str) and v.strip()][:200]

    return get_all


def _may_act(session: Session) -> bool:
    return session.actor.role in web.ISSUERS


def _at(request: Request) -> str:
    """Now, as the API's inspection routes stamp it."""
    return web.now(request).isoformat(timespec="seconds").replace("+00:00", "Z")
