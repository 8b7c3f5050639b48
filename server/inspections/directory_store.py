"""The directories as the draw reads them: entities, inspectors, matters (reference data) and conflicts.

Entities and inspectors are reference items (keys like ``e-01``, ``insp-xiang-j``);
the draw knows them by their public identifiers, the credit code and the
enforcement certificate number, so each directory is also indexed that way here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from server.inspections import tables as it
from server.reference import feed as changes
from xuncha_core.inspections.directories import Conflict, Entity, Inspector, Matter


@dataclass(frozen=True)
class Directories:
    entities: dict[str, tuple[str, Entity]]  # credit code -> (reference key, entity)
    inspectors: dict[
        str, tuple[str, Inspector, str | None]
    ]  # certificate -> (key, inspector, username)
    matters: dict[str, Matter]
    conflicts: list[Conflict]


def load(conn: Connection) -> Directories:
    entities: dict[str, tuple[str, Entity]] = {}
    for row in changes.current(conn, topic="entity"):
        entity = entity_of(row["payload"])
        if entity is not None:
            entities[entity.credit_code] = (row["key"], entity)
    inspectors: dict[str, tuple[str, Inspector, str | None]] = {}
    for row in changes.current(conn, topic="inspector"):
        p = row["payload"]
        if isinstance(p.get("cert_no"), str) and p["cert_no"]:
            inspector = Inspector(
                p["cert_no"],
                str(p.get("name", "")),
                str(p.get("unit", "")),
                p.get("active", True) is not False,
            )
            inspectors[p["cert_no"]] = (row["key"], inspector, p.get("username"))
    return Directories(entities, inspectors, matters(conn), conflicts(conn))


def entity_of(payload: Mapping[str, Any]) -> Entity | None:
    code = payload.get("credit_code")
    if not isinstance(code, str):
        return None
    tags = payload.get("tags") or []
    return Entity(
        code,
        str(payload.get("name", "")),
        str(payload.get("type", "")),
        str(payload.get("address", "")),
        str(payload.get("village_id", "")),
        str(payload.get("risk_level", "")),
        tuple(str(t) for t in tags) if isinstance(tags, list) else (),
    )


def matters(conn: Connection) -> dict[str, Matter]:
    rows = [r for r in changes.current(conn, topic="setting") if r["key"] == "inspection_matters"]
    listed = rows[0]["payload"].get("matters", []) if rows else []
    return {
        m["id"]: Matter(
            m["id"], str(m.get("name", "")), str(m.get("basis", "")), str(m.get("authority", ""))
        )
        for m in listed
        if isinstance(m, dict) and isinstance(m.get("id"), str)
    }


def conflicts(conn: Connection) -> list[Conflict]:
    c = it.conflicts.c
    rows = conn.execute(
        select(c.inspector, c.entity, c.kind, c.note).order_by(c.inspector, c.entity)
    ).all()
    return [Conflict(r.inspector, r.entity, r.kind, r.note) for r in rows]
