"""Editing reference data: villages, cleaners, scoring sheets and the working-day calendar.

Each save is ``feed.set_reference`` (a deletion ``delete_reference``): one ledger entry
and one row of the pull feed, so phones receive it on their next sync, exactly as through
the API. A scoring sheet is parsed and a calendar year checked before anything is saved.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from server.console import queries, web
from server.infra.db import read
from server.infra.writer import write
from server.reference import feed
from xuncha_core import workday_settings
from xuncha_core.errors import Problem, ValidationError
from xuncha_core.sheet import parse_sheet
from xuncha_core.workdays import CHINA

router = APIRouter(prefix="/console/reference", include_in_schema=False)
Key = Annotated[str, Path(min_length=1, max_length=feed.MAX_KEY)]
# topic: the form's fields as (name, kind): text, int, number, bool
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "village": (("name", "text"), ("name_en", "text"), ("population", "int"), ("lat", "number"), ("lon", "number")),
    "cleaner": (("name", "text"), ("village_id", "text"), ("active", "bool")),
}


@router.get("")
def overview(request: Request, session: web.Reader, done: str = "") -> Response:
    t = web.translator(web.lang_of(request))
    with read(request.app.state.engine) as conn:
        lists = {topic: queries.reference(conn, topic) for topic in ("village", "cleaner", "scoring_sheet")}
        years = sorted({*CHINA.years, *(int(r["payload"].get("year", 0)) for r in queries.reference(conn, "setting")
                                         if str(r["key"]).startswith(workday_settings.KEY_PREFIX))})
    notice = t(f"ref.{done}") if done in ("saved", "unchanged", "deleted") else ""
    return web.render(request, "reference.html", lists=lists, years=years, builtin=CHINA.years, notice=notice,
                      next_year=max(years) + 1 if years else 2027)


@router.get("/{topic}/{key}")
def edit_page(request: Request, session: web.Admin, topic: str, key: Key) -> Response:
    if topic == "calendar":
        return _calendar_page(request, key)
    if topic not in (*FIELDS, "scoring_sheet"):
        raise ValidationError("console.bad_topic", "No such reference data.", "没有这类基础数据。")
    with read(request.app.state.engine) as conn:
        current = queries.reference_map(conn, topic).get(key, {}) if key != "new" else {}
    return web.render(request, "reference_edit.html", topic=topic, key="" if key == "new" else key, payload=current,
                      fields=FIELDS.get(topic, ()), sheet_json=json.dumps(current, ensure_ascii=False, indent=1) if current else "",
                      errors=[])


@router.post("/{topic}")
def save(request: Request, session: web.Admin, topic: str, form: web.FormDep) -> Response:
    key = web.field(form, "key", feed.MAX_KEY)
    if topic == "calendar":
        setting = workday_settings.parse_schedule({
            "year": _int(web.field(form, "year", 4)),
            "holidays": _lines(web.field(form, "holidays", 20_000)),
            "makeup_workdays": _lines(web.field(form, "makeup_workdays", 20_000)),
        })
        topic, key, payload = "setting", workday_settings.key_for(setting.year), setting.payload()
    elif topic == "scoring_sheet":
        payload = _sheet(web.field(form, "sheet_json", 500_000))
        key = str(payload.get("id", key))
    elif topic in FIELDS:
        with read(request.app.state.engine) as conn:
            payload = dict(queries.reference_map(conn, topic).get(key, {}))
        payload.update(_fields(form, FIELDS[topic]))
    else:
        raise ValidationError("console.bad_topic", "No such reference data.", "没有这类基础数据。")
    status, _row = write(
        request.app.state.engine,
        lambda conn: feed.set_reference(conn, topic=topic, key=key, payload=payload, by=session.actor),
    )
    return web.redirect(f"/console/reference?done={'saved' if status == 201 else 'unchanged'}")


@router.post("/{topic}/{key}/delete")
def delete(request: Request, session: web.Admin, topic: str, key: Key, form: web.FormDep) -> Response:
    write(request.app.state.engine, lambda conn: feed.delete_reference(conn, topic=topic, key=key, by=session.actor))
    return web.redirect("/console/reference?done=deleted")


def _calendar_page(request: Request, key: str) -> Response:
    year = _int(key) or 0
    with read(request.app.state.engine) as conn:
        current = queries.reference_map(conn, "setting").get(workday_settings.key_for(year), {})
    return web.render(request, "calendar_edit.html", year=year, holidays="\n".join(current.get("holidays", [])),
                      makeup="\n".join(current.get("makeup_workdays", [])))


def _fields(form: FormData, spec: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    problems = []
    for name, kind in spec:
        raw = web.field(form, name, 200)
        if kind == "bool":
            out[name] = raw == "on"
        elif not raw:
            out[name] = None
        elif kind == "text":
            out[name] = raw
        else:
            try:
                out[name] = int(raw) if kind == "int" else float(raw)
            except ValueError:
                problems.append(Problem(name, "console.bad_number", f"{name} must be a number", f"{name} 须为数字"))
    if problems:
        raise ValidationError.of(problems, code="console.bad_form")
    lat, lon = out.pop("lat", None), out.pop("lon", None)
    if "lat" in dict(spec):
        out["location"] = {"lat": lat, "lon": lon} if lat is not None and lon is not None else None
    return {k: v for k, v in out.items() if v is not None or k == "location"}


def _sheet(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError:
        raise ValidationError("console.bad_sheet", "The scoring sheet is not valid JSON.", "评分表不是有效的 JSON。") from None
    if not isinstance(payload, dict):
        raise ValidationError("console.bad_sheet", "The scoring sheet must be a JSON object.", "评分表必须是 JSON 对象。")
    parse_sheet(payload)  # ValidationError naming every problem
    return payload


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None
