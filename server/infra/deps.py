"""FastAPI dependencies as Annotated aliases: the engine, settings, the clock, and the caller's role."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from server.accounts import accounts, health
from server.accounts.accounts import Actor
from server.infra.clock import utc_now
from server.infra.db import is_sqlite, read
from server.infra.settings import Settings
from server.infra.writer import GroupWriter, writer_for
from xuncha_core.errors import ForbiddenError

log = logging.getLogger("xuncha.accounts")


# The getters are async because they do no I/O: FastAPI runs a sync dependency in a
# thread-pool hop, which costs more than the whole lookup.
async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_group_writer(request: Request) -> GroupWriter:
    return request.app.state.group_writer


async def get_clock(request: Request) -> Callable[[], datetime]:
    return request.app.state.clock


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
GroupWriterDep = Annotated[GroupWriter, Depends(get_group_writer)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
# A pull's cursor: the ``next`` of the page before (0 for the first page).
PullCursor = Annotated[int, Query(ge=0, le=2**53)]


def _bearer(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get("xuncha_token") or None


async def current_actor(request: Request, engine: EngineDep) -> Actor:
    """The caller, looked up on every request (a revoked device is refused at once).

    ``server.infra.request_guard`` has usually looked them up already, before the body
    was read, and left them in ``request.state``; only a route it does not guard
    (none today) pays for the lookup here.
    """
    actor = getattr(request.state, "actor", None)
    if isinstance(actor, Actor):
        return actor
    return await actor_of(request, engine)


async def actor_of(request: HTTPConnection, engine: Engine) -> Actor:
    """The actor behind the request's device token, or AuthError (401) saying why not.

    The device is noted as seen now when it was last noted more than a minute ago, so a
    phone's requests cost one write a minute at most, whatever they ask.
    """
    token = _bearer(request)
    if is_sqlite(engine):
        # A SQLite WAL read never waits for a writer and takes ~0.1 ms: cheaper here, on
        # the event loop, than the thread-pool hop, which cost several times the lookup.
        actor = _authenticate(engine, token)
    else:
        actor = await run_in_threadpool(_authenticate, engine, token)
    app = request.scope.get("app")
    now = getattr(app.state, "clock", utc_now)() if app is not None else utc_now()
    if health.seen_due(actor.last_seen_at, now):
        try:
            # Handed to the one writer straight from the event loop: no thread-pool hop.
            await asyncio.wrap_future(writer_for(engine).submit(partial(health.note_seen, device_id=actor.device_id, at=now)))
        except Exception:  # the request goes on: when a device was last seen is not worth refusing it
            log.warning("could not note device %s as seen", actor.device_id, exc_info=True)
    return actor


def _authenticate(engine: Engine, token: str | None) -> Actor:
    with read(engine) as conn:
        return accounts.authenticate(conn, token)


ActorDep = Annotated[Actor, Depends(current_actor)]


def require_roles(*roles: str) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that lets only these roles through (403 with the roles that may)."""
    allowed = frozenset(roles)

    async def check(actor: ActorDep) -> Actor:
        if actor.role not in allowed:
            names = "、".join(accounts.ROLES[r] for r in roles)
            raise ForbiddenError(
                "auth.forbidden",
                f"Your role ({actor.role}) may not do this; it needs one of: {', '.join(roles)}.",
                f"您的角色（{accounts.ROLES.get(actor.role, actor.role)}）无权执行此操作，需要：{names}。",
            )
        return actor

    return check


FieldActor = Annotated[Actor, Depends(require_roles(*accounts.FIELD_ROLES))]
AdminActor = Annotated[Actor, Depends(require_roles("admin"))]
OfficeActor = Annotated[Actor, Depends(require_roles("office_reviewer", "admin"))]
ReviewerActor = Annotated[Actor, Depends(require_roles("office_reviewer", "legal_reviewer"))]
ReaderActor = Annotated[Actor, Depends(require_roles(*accounts.READ_ALL_ROLES))]
