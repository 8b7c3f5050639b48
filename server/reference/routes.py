"""The pull feed and reference data (villages, scoring sheets, directories, tasks, settings)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from server.infra.db import read
from server.infra.deps import ActorDep, AdminActor, EngineDep
from server.infra.schemas import error_responses
from server.infra.writer import write
from server.reference import feed as changes

router = APIRouter(prefix="/api/v1", tags=["sync"], responses=error_responses(401, 403, 404, 422))

Topic = Annotated[str, Path(max_length=32)]
Key = Annotated[str, Path(min_length=1, max_length=changes.MAX_KEY)]


@router.get("/sync/changes")
def pull_changes(
    actor: ActorDep,
    engine: EngineDep,
    after: Annotated[int, Query(ge=0, le=2**53)] = 0,
    limit: Annotated[int, Query(ge=1, le=changes.MAX_LIMIT)] = changes.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Changes after ``after`` for the caller, oldest first: ``{changes, next, more}``."""
    with read(engine) as conn:
        return changes.pull(conn, username=actor.username, after=after, limit=limit)


@router.get("/reference/{topic}")
def reference_state(topic: Topic, _actor: ActorDep, engine: EngineDep) -> dict[str, Any]:
    """The present state of one reference topic."""
    with read(engine) as conn:
        return {"topic": topic, "items": changes.current(conn, topic=topic)}


@router.put("/reference/{topic}/{key}", status_code=201)
def put_reference(
    topic: Topic, key: Key, payload: Annotated[Any, Body()], actor: AdminActor, engine: EngineDep, response: Response
) -> dict[str, Any]:
    """Set one item (201); 200 when it already held exactly this payload."""
    status, row = write(engine, lambda conn: changes.set_reference(conn, topic=topic, key=key, payload=payload, by=actor))
    response.status_code = status
    return row


@router.delete("/reference/{topic}/{key}")
def delete_reference(topic: Topic, key: Key, actor: AdminActor, engine: EngineDep) -> dict[str, Any]:
    """Delete one item: phones receive a tombstone. Deleting twice is a no-op."""
    return write(engine, lambda conn: changes.delete_reference(conn, topic=topic, key=key, by=actor))
