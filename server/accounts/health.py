"""Each phone's health, as the office sees it: when it was last heard of, its app version,
and how many records it said were still waiting to be sent.

A phone says so on every pull of the feed (``X-Xuncha-App-Version``, ``X-Xuncha-Outbox``);
the server writes it down at most once a minute per device unless something changed, so a
phone syncing often costs no more writes than one that syncs rarely. Every signed-in request,
whatever it asks, also notes when its device was last seen (``devices.last_seen_at``), at
most once a minute per device too: what the dashboard and the sync lag read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from server.accounts.accounts import Actor
from server.infra import tables as t
from server.infra.clock import timestamp
from server.infra.db import is_sqlite, read
from server.infra.writer import write

STAMP_EVERY = timedelta(minutes=1)


def heard_from(engine: Engine, *, actor: Actor, at: datetime, app_version: str | None, outbox: int | None) -> None:
    """Note that ``actor``'s device was heard from now (a write only when due or changed)."""
    h = t.device_health
    with read(engine) as conn:
        row = conn.execute(select(h).where(h.c.device_id == actor.device_id)).first()
    if row is not None and (row.app_version, row.outbox) == (app_version, outbox) and (
        at - datetime.fromisoformat(row.last_seen_at) < STAMP_EVERY
    ):
        return
    write(engine, lambda conn: _upsert(conn, actor.device_id, timestamp(at), app_version, outbox))


def seen_due(last_seen_at: str | None, at: datetime) -> bool:
    """Whether a device last seen at ``last_seen_at`` should be noted as seen again ``at``."""
    if last_seen_at is None:
        return True
    try:
        return at - datetime.fromisoformat(last_seen_at) >= STAMP_EVERY
    except ValueError:
        return True


def note_seen(conn: Connection, *, device_id: str, at: datetime) -> None:
    """Note the device as seen ``at`` (never earlier than another process already noted)."""
    d, stamp = t.devices, timestamp(at)
    conn.execute(
        d.update()
        .where(d.c.id == device_id, or_(d.c.last_seen_at.is_(None), d.c.last_seen_at < stamp))
        .values(last_seen_at=stamp)
    )


def _upsert(conn: Connection, device_id: str, at: str, app_version: str | None, outbox: int | None) -> None:
    h = t.device_health
    values = {"last_seen_at": at, "app_version": app_version, "outbox": outbox}
    insert = (sqlite.insert(h) if is_sqlite(conn) else postgresql.insert(h)).values(device_id=device_id, **values)
    conn.execute(insert.on_conflict_do_update(index_elements=[h.c.device_id], set_=values))
