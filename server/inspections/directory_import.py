"""Importing and exporting the directories as CSV or XLSX files, each change a ledger entry.

A file is checked whole before anything is written (``xuncha_core.inspections.directory_rows``
and, here, the villages it names): one bad row and nothing is imported. Rows are added
or updated by their public identifier (credit code, certificate number, matter code,
inspector and entity); rows the file leaves out are kept. Entities, inspectors and
matters are reference data, so each change is a ``reference.changed`` entry and reaches
the phones; a conflict of interest is private to the office: ``conflict.changed``,
salted, never in the feed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from server import ledger
from server.accounts.accounts import Actor
from server.inspections import tables as it
from server.inspections.directory_store import load
from server.inspections.spreadsheets import XLSX_MIME, read_xlsx, write_xlsx
from server.reference import feed as changes
from xuncha_core import ledger_entries
from xuncha_core.inspections.directories import Entity
from xuncha_core.inspections.directory_files import Table, read_csv, write_csv
from xuncha_core.inspections.directory_rows import (
    parse_conflicts,
    parse_entities,
    parse_inspectors,
    parse_matters,
    table_of,
)

CSV_MIME = "text/csv; charset=utf-8"


def read_table(data: bytes, *, file_format: str) -> Table:
    return read_xlsx(data) if file_format == "xlsx" else read_csv(data)


def import_table(
    conn: Connection, *, kind: str, table: Table, actor: Actor, at: str
) -> dict[str, Any]:
    """Import every row of ``table`` or none; answer how many rows changed."""
    importer = {
        "entities": _entities,
        "inspectors": _inspectors,
        "matters": _matters,
        "conflicts": _conflicts,
    }[kind]
    changed = importer(conn, table, actor, at)
    return {
        "kind": kind,
        "rows": len(table.rows),
        "changed": changed,
        "unchanged": len(table.rows) - changed,
    }


def export(conn: Connection, *, kind: str, file_format: str) -> tuple[bytes, str]:
    dirs = load(conn)
    villages = {
        r["key"]: r["payload"].get("name", r["key"]) for r in changes.current(conn, topic="village")
    }
    items: list[Any]
    if kind == "entities":
        items = [
            _with_village_name(e, villages)
            for _, e in sorted(dirs.entities.values(), key=lambda x: x[1].credit_code)
        ]
    elif kind == "inspectors":
        items = [i for _, i, _ in sorted(dirs.inspectors.values(), key=lambda x: x[1].certificate)]
    elif kind == "matters":
        items = sorted(dirs.matters.values(), key=lambda m: m.code)
    else:
        items = dirs.conflicts
    header, rows = table_of(kind, items)
    if file_format == "xlsx":
        return write_xlsx(header, rows), XLSX_MIME
    return write_csv(header, rows), CSV_MIME


def _stored(conn: Connection, topic: str, key: str, payload: dict[str, Any], actor: Actor) -> bool:
    """Store one row of a directory; True when that changed what was stored (answered 201)."""
    return changes.set_reference(conn, topic=topic, key=key, payload=payload, by=actor)[0] == 201


def _entities(conn: Connection, table: Table, actor: Actor, at: str) -> int:
    villages = changes.current(conn, topic="village")
    by_name = {r["key"]: r["key"] for r in villages} | {r["payload"].get("name"): r["key"] for r in villages}
    rows = parse_entities(table, villages=set(by_name))
    existing = load(conn).entities
    changed = 0
    for e in rows:
        key = existing[e.credit_code][0] if e.credit_code in existing else e.credit_code
        payload = {
            "name": e.name,
            "type": e.type,
            "credit_code": e.credit_code,
            "village_id": by_name[e.village],
            "address": e.address,
            "risk_level": e.risk,
            "tags": list(e.tags),
        }
        changed += _stored(conn, "entity", key, payload, actor)
    return changed


def _inspectors(conn: Connection, table: Table, actor: Actor, at: str) -> int:
    rows = parse_inspectors(table)
    current = {r["payload"].get("cert_no"): r for r in changes.current(conn, topic="inspector")}
    changed = 0
    for i in rows:
        old = current.get(i.certificate)
        key = old["key"] if old else f"insp-{i.certificate}"
        payload = {
            **(old["payload"] if old else {}),
            "name": i.name,
            "cert_no": i.certificate,
            "unit": i.unit,
            "active": i.active,
        }
        changed += _stored(conn, "inspector", key, payload, actor)
    return changed


def _matters(conn: Connection, table: Table, actor: Actor, at: str) -> int:
    rows = parse_matters(table)
    listed = {m.code: m for m in load(conn).matters.values()}
    before = dict(listed)
    listed.update({m.code: m for m in rows})
    payload = {
        "matters": [
            {"id": m.code, "name": m.name, "basis": m.legal_basis, "authority": m.authority}
            for m in listed.values()
        ]
    }
    changes.set_reference(
        conn, topic="setting", key="inspection_matters", payload=payload, by=actor
    )
    return sum(1 for m in rows if before.get(m.code) != m)


def _conflicts(conn: Connection, table: Table, actor: Actor, at: str) -> int:
    dirs = load(conn)
    rows = parse_conflicts(table, inspectors=set(dirs.inspectors), entities=set(dirs.entities))
    c = it.conflicts.c
    changed = 0
    for conflict in rows:
        old = conn.execute(
            select(c.kind, c.note).where(
                c.inspector == conflict.inspector, c.entity == conflict.entity
            )
        ).first()
        if old is not None and (old.kind, old.note) == (conflict.kind, conflict.note):
            continue
        ledger.append(
            conn,
            ledger_entries.conflict_changed(
                inspector=conflict.inspector,
                entity=conflict.entity,
                kind=conflict.kind,
                note=conflict.note,
                by=actor.username,
                at=at,
            ),
        )
        values = {
            "kind": conflict.kind,
            "note": conflict.note,
            "updated_by": actor.username,
            "updated_at": at,
        }
        if old is None:
            conn.execute(
                it.conflicts.insert().values(
                    inspector=conflict.inspector, entity=conflict.entity, **values
                )
            )
        else:
            conn.execute(
                it.conflicts.update()
                .where(c.inspector == conflict.inspector, c.entity == conflict.entity)
                .values(**values)
            )
        changed += 1
    return changed


def _with_village_name(entity: Entity, villages: dict[str, Any]) -> Entity:
    return Entity(
        entity.credit_code,
        entity.name,
        entity.type,
        entity.address,
        str(villages.get(entity.village, entity.village)),
        entity.risk,
        entity.tags,
    )
