"""Random-inspection API: directories, plans and draws for the office; published draws for anyone.

Office routes check the role (managing: office reviewers and administrators;
reading: every read-all role) and, since a township's draws are the whole
office's, nothing narrower. The public routes need no sign-in and show only
published draws: ``GET /api/v1/public/draws`` (``id``, ``title``, ``drawn_at``)
and ``GET /api/v1/public/draws/{id}`` (the published draw file, the file
``xuncha-server draw verify`` takes).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response

from server.infra.clock import town_date
from server.infra.db import read
from server.infra.deps import (
    ClockDep,
    EngineDep,
    FieldActor,
    GroupWriterDep,
    OfficeActor,
    ReaderActor,
)
from server.inspections import directory_import, draws, pins, publication
from server.reference.calendar import work_calendar

router = APIRouter(prefix="/api/v1", tags=["inspections"])
DrawId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z-]+$")]
Kind = Annotated[str, Path(pattern=r"^(entities|inspectors|conflicts|matters)$")]
FileFormat = Annotated[str, Query(pattern=r"^(csv|xlsx)$")]


def _at(clock: ClockDep) -> str:
    return clock().isoformat(timespec="seconds").replace("+00:00", "Z")


@router.post("/inspections/draws", status_code=201)
def create_plan(
    plan: Annotated[dict[str, Any], Body()], actor: OfficeActor, writer: GroupWriterDep, clock: ClockDep
) -> dict[str, Any]:
    """Save a plan (matters, strata with filters and counts, inspectors per entity, deadline)."""
    at = _at(clock)
    return writer.run(lambda conn: draws.create_plan(conn, data=plan, actor=actor, at=at))


@router.get("/inspections/draws")
def list_draws(actor: ReaderActor, engine: EngineDep) -> dict[str, Any]:
    with read(engine) as conn:
        return {"draws": draws.listing(conn)}


@router.get("/inspections/draws/{draw_id}")
def get_draw(draw_id: DrawId, actor: ReaderActor, engine: EngineDep) -> dict[str, Any]:
    with read(engine) as conn:
        return draws.get(conn, draw_id)


@router.post("/inspections/draws/{draw_id}/commitment")
def commit_draw(
    draw_id: DrawId,
    body: Annotated[dict[str, Any], Body()],
    actor: OfficeActor,
    writer: GroupWriterDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """Fix the inputs and name the random source (``{"randomness": {description, published_on, value_sets}}``)."""
    at, source = _at(clock), body.get("randomness")
    return writer.run(lambda conn: draws.commit(conn, draw_id=draw_id, source=source, at=at))


@router.post("/inspections/draws/{draw_id}/random-values")
def enter_random_values(
    draw_id: DrawId,
    body: Annotated[dict[str, Any], Body()],
    actor: OfficeActor,
    writer: GroupWriterDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """Enter the source's published values (``{"random_values": [[...], ...]}``): the draw runs and is published."""
    at, values = _at(clock), body.get("random_values")
    return writer.run(lambda conn: draws.enter_values(conn, draw_id=draw_id, values=values, at=at))


@router.get("/inspections/publication")
def publication_due(actor: ReaderActor, engine: EngineDep, clock: ClockDep) -> dict[str, Any]:
    """Approved and pending inspection results with their publication due dates (due, overdue, published)."""
    with read(engine) as conn:
        return {"results": publication.office_view(conn, today=town_date(clock()), calendar=work_calendar(conn))}


@router.get("/inspections/directories/{kind}")
def export_directory(
    kind: Kind, actor: OfficeActor, engine: EngineDep, format: FileFormat = "csv"
) -> Response:
    with read(engine) as conn:
        data, media_type = directory_import.export(conn, kind=kind, file_format=format)
    disposition = f'attachment; filename="{kind}.{format}"'
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


@router.post("/inspections/directories/{kind}")
async def import_directory(
    kind: Kind,
    request: Request,
    actor: OfficeActor,
    writer: GroupWriterDep,
    clock: ClockDep,
    format: FileFormat = "csv",
) -> dict[str, Any]:
    """Import a whole CSV or XLSX file (the request body): every row valid, or nothing imported."""
    data = await request.body()
    table = directory_import.read_table(data, file_format=format)
    at = _at(clock)
    job = writer.submit(lambda conn: directory_import.import_table(conn, kind=kind, table=table, actor=actor, at=at))
    result: dict[str, Any] = await asyncio.wrap_future(job)
    return result


@router.put("/inspections/pin")
def set_pin(
    body: Annotated[dict[str, Any], Body()], actor: FieldActor, writer: GroupWriterDep, clock: ClockDep
) -> dict[str, Any]:
    """Your own PIN hash, made on your phone (``{"pin_hash": {...}}``; never the PIN): sent to the
    phones of the officers you inspect with, who check it offline."""
    at, pin_hash = _at(clock), body.get("pin_hash")
    return writer.run(lambda conn: pins.set_pin(conn, actor=actor, pin_hash=pin_hash, at=at))


@router.get("/public/draws")
def public_draws(engine: EngineDep) -> dict[str, Any]:
    """Published draws, newest first: ``id``, ``title``, ``drawn_at``. No sign-in."""
    with read(engine) as conn:
        rows = draws.listing(conn, published_only=True)
    return {
        "draws": [{"id": r["id"], "title": r["title"], "drawn_at": r["drawn_at"]} for r in rows]
    }


@router.get("/public/draws/{draw_id}")
def public_draw(draw_id: DrawId, engine: EngineDep) -> dict[str, Any]:
    """The published draw file, exactly as ``xuncha-server draw verify FILE`` takes it. No sign-in."""
    with read(engine) as conn:
        return draws.published_file(conn, draw_id)
