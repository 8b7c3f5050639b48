"""The pull feed and reference data (villages, scoring sheets, directories, tasks, settings)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response
from pydantic import BaseModel, Field

from server.accounts import health
from server.infra.clock import town_date
from server.infra.db import read
from server.infra.deps import ActorDep, AdminActor, ClockDep, EngineDep, OfficeActor, PullCursor
from server.infra.schemas import error_responses, model_of
from server.infra.writer import write
from server.reference import calendar, shapes
from server.reference import feed as changes

router = APIRouter(prefix="/api/v1", tags=["sync"], responses=error_responses(401, 403, 404, 422))

Topic = Annotated[str, Path(max_length=32)]
Key = Annotated[str, Path(min_length=1, max_length=changes.MAX_KEY)]


@router.get("/sync/changes", response_model=model_of(shapes.ChangesPage))
def pull_changes(
    actor: ActorDep,
    engine: EngineDep,
    clock: ClockDep,
    after: PullCursor = 0,
    limit: Annotated[int, Query(ge=1, le=changes.MAX_LIMIT)] = changes.DEFAULT_LIMIT,
    app_version: Annotated[str | None, Header(alias="X-Xuncha-App-Version", max_length=32, pattern=r"^[\x20-\x7e]*$")] = None,
    outbox: Annotated[int | None, Header(alias="X-Xuncha-Outbox", ge=0, le=10**7)] = None,
) -> shapes.ChangesPage:
    """Changes after ``after`` for the caller, oldest first: ``{changes, next, more}``.

    A phone may say its app version and how many records wait in its outbox; the office
    sees them with when it was last heard from (``server.accounts.health``).
    """
    with read(engine) as conn:
        page = changes.pull(conn, username=actor.username, after=after, limit=limit)
    health.heard_from(engine, actor=actor, at=clock(), app_version=app_version, outbox=outbox)
    return page


@router.get("/reference/{topic}", response_model=model_of(shapes.TopicState))
def reference_state(topic: Topic, _actor: ActorDep, engine: EngineDep) -> shapes.TopicState:
    """The present state of one reference topic."""
    with read(engine) as conn:
        return {"topic": topic, "items": changes.current(conn, topic=topic)}


@router.put("/reference/{topic}/{key}", status_code=201, response_model=model_of(shapes.ItemWritten))
def put_reference(
    topic: Topic, key: Key, payload: Annotated[Any, Body()], actor: AdminActor, engine: EngineDep, response: Response
) -> shapes.ItemWritten:
    """Set one item (201); 200 when it already held exactly this payload."""
    status, row = write(engine, lambda conn: changes.set_reference(conn, topic=topic, key=key, payload=payload, by=actor))
    response.status_code = status
    return row


@router.delete("/reference/{topic}/{key}", response_model=model_of(shapes.ItemWritten))
def delete_reference(topic: Topic, key: Key, actor: AdminActor, engine: EngineDep) -> shapes.ItemWritten:
    """Delete one item: phones receive a tombstone. Deleting twice is a no-op."""
    return write(engine, lambda conn: changes.delete_reference(conn, topic=topic, key=key, by=actor))


class YearSchedule(BaseModel):
    """One year's official schedule: days off (a date or a span ``first..last``) and make-up workdays."""

    holidays: list[Annotated[str, Field(max_length=32)]] = Field(max_length=366)
    makeup_workdays: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=366)


@router.get("/calendar", tags=["calendar"], response_model=model_of(shapes.CalendarYears))
def calendar_years(_actor: ActorDep, engine: EngineDep, clock: ClockDep) -> shapes.CalendarYears:
    """The years the working-day calendar knows; from November on, a warning if next year is missing."""
    with read(engine) as conn:
        return calendar.calendar_years(conn, today=town_date(clock()))


@router.put("/calendar/{year}", status_code=201, tags=["calendar"], response_model=model_of(shapes.ItemWritten))
def add_calendar_year(
    year: Annotated[int, Path(ge=2000, le=2100)], schedule: YearSchedule, actor: OfficeActor, engine: EngineDep,
    response: Response,
) -> shapes.ItemWritten:
    """Add (or correct) one year's schedule: checked, kept as the setting ``workdays-YYYY`` with a ledger
    entry, and sent to every phone on its next sync. 201 when it changed, 200 when it already was so."""
    status, row = write(engine, lambda conn: calendar.add_year(conn, year=year, schedule=schedule.model_dump(), by=actor))
    response.status_code = status
    return row
