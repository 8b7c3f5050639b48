"""Inspectors' PINs: the hash an officer's phone sets, sent to the phones of the officers they work with.

The PIN is hashed on the officer's own phone (``xuncha_core.inspections.pin``); the
server keeps only that hash (``inspection_pins``), appends a ``pin.changed`` ledger
entry naming nobody, and sends the hash as a feed row (topic ``pin``, key the
username) to each officer who shares an assigned inspection with them, and only to
them: the phone that records the inspection checks the second officer's PIN
offline. A new draw sends each team's hashes with its inspections
(``send_for_team``); a changed PIN reaches every colleague of an open inspection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from server import ledger
from server.accounts.accounts import Actor
from server.infra import tables as t
from server.inspections import tables as it
from server.reference import feed as changes
from xuncha_core import ledger_entries
from xuncha_core.canonical import canonical_text
from xuncha_core.inspections.pin import check_pin_hash

TOPIC = "pin"


def set_pin(conn: Connection, *, actor: Actor, pin_hash: Any, at: str) -> dict[str, Any]:
    """Keep ``actor``'s new PIN hash and send it to their colleagues' phones; answer ``{username, set_at}``."""
    checked = check_pin_hash(pin_hash)
    text = canonical_text(checked)
    row = conn.execute(select(it.pins.c.pin_hash, it.pins.c.set_at).where(it.pins.c.username == actor.username)).first()
    if row is not None and row.pin_hash == text:
        return {"username": actor.username, "set_at": row.set_at}  # a retry: nothing changes
    ledger.append(conn, ledger_entries.pin_changed(username=actor.username, at=at))
    if row is None:
        conn.execute(it.pins.insert().values(username=actor.username, pin_hash=text, set_at=at))
    else:
        conn.execute(it.pins.update().where(it.pins.c.username == actor.username).values(pin_hash=text, set_at=at))
    for colleague in sorted(_colleagues(conn, actor.username)):
        _send(conn, actor.username, checked, to=colleague)
    return {"username": actor.username, "set_at": at}


def send_for_team(conn: Connection, usernames: Iterable[str]) -> None:
    """Each member's PIN hash (where set) to every other member's phone.

    The caller has appended its ledger entry in this transaction (``feed.publish``)."""
    team = sorted(set(usernames))
    hashes = _hashes(conn, team)
    for owner in team:
        if owner in hashes:
            for colleague in team:
                if colleague != owner:
                    _send(conn, owner, hashes[owner], to=colleague)


def _send(conn: Connection, owner: str, pin_hash: dict[str, Any], *, to: str) -> None:
    changes.publish(conn, topic=TOPIC, key=owner, payload={"username": owner, "pin_hash": pin_hash}, audience=to)


def _hashes(conn: Connection, usernames: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(it.pins.c.username, it.pins.c.pin_hash).where(it.pins.c.username.in_(usernames)))
    return {r.username: json.loads(r.pin_hash) for r in rows}


def _colleagues(conn: Connection, username: str) -> set[str]:
    """Everyone who shares an inspection sent to ``username``'s phone."""
    c = t.changes.c
    rows = conn.execute(select(c.payload).where(c.topic == "task", c.audience == username, c.deleted.is_(False)))
    out: set[str] = set()
    for (payload,) in rows:
        for member in json.loads(payload).get("inspectors", []):
            name = member.get("username")
            if isinstance(name, str) and name and name != username:
                out.add(name)
    return out
