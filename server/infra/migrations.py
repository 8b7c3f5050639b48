"""Schema migrations: numbered functions, each applied once, recorded in ``schema_migrations``.

``migrate(engine)`` runs at every start and applies what is missing, each in its
own transaction. Never edit a migration that has shipped; add the next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, inspect, select

from server.infra import clock
from server.infra import tables as t
from server.infra.db import is_sqlite
from server.infra.writer import write
from server.inspections import tables as inspection_tables
from xuncha_core.scoring import stored_total

_PG_MIGRATION_LOCK = 0x78756E6368610002  # "xuncha" + 2: one migrator at a time on PostgreSQL
APPEND_ONLY_TABLES = ("ledger_entries", "ledger_nodes")


def _m0001_initial(conn: Connection) -> None:
    t.metadata.create_all(
        conn,
        tables=[
            t.users,
            t.devices,
            t.enrollment_codes,
            t.record_revisions,
            t.records,
            t.record_photos,
            t.photos,
            t.uploads,
            t.reviews,
            t.ledger_entries,
            t.ledger_nodes,
            t.changes,
        ],
    )
    for table in APPEND_ONLY_TABLES:
        _refuse_changes(conn, table)


def _refuse_changes(conn: Connection, table: str) -> None:
    """The database itself refuses UPDATE and DELETE (and TRUNCATE) on an append-only table."""
    if is_sqlite(conn):
        for op in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
            )
        return
    conn.exec_driver_sql(
        f"""
        CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{table} is append-only: %% refused', TG_OP;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    conn.exec_driver_sql(
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )
    conn.exec_driver_sql(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    )


def _m0002_ledger_contents(conn: Connection) -> None:
    """Entries commit to their content by digest; contents are kept beside the ledger.

    Entries already in the ledger cannot change (their leaf hashes are in receipts, and
    the triggers refuse it): each one's whole text is copied here as its content, marked
    legacy, and the public endpoint withholds it from now on.
    """
    t.ledger_contents.create(conn)
    _refuse_changes(conn, "ledger_contents")
    e = t.ledger_entries.c
    start = 0
    while True:
        rows = conn.execute(select(e.idx, e.entry).where(e.idx >= start).order_by(e.idx).limit(2000)).all()
        if not rows:
            return
        conn.execute(t.ledger_contents.insert(), [_legacy_content(int(r.idx), r.entry) for r in rows])
        start = int(rows[-1].idx) + 1


def _legacy_content(index: int, text: str) -> dict[str, Any]:
    try:
        entry = json.loads(text)
    except ValueError:
        entry = None
    entry = entry if isinstance(entry, dict) else {}
    kind = entry.get("type")
    record_id = None
    if kind == "record.accepted" and isinstance(entry.get("record"), dict):
        record_id = entry["record"].get("record_id")
    elif kind == "review.recorded":
        record_id = entry.get("record_id")
    return {
        "idx": index,
        "type": kind[:40] if isinstance(kind, str) else "unknown",
        "record_id": record_id if isinstance(record_id, str) and len(record_id) <= 36 else None,
        "content": text,
        "salt": None,
        "legacy": True,
    }


def _m0003_sign_in_failures(conn: Connection) -> None:
    t.sign_in_failures.create(conn)


def _m0004_console(conn: Connection) -> None:
    """The office console's sessions, each phone's health, each check's score on its record, and
    two indexes on records: the review queue's default order (latest change first), and a month's
    records of one kind in one review state with their village and score (the ranking reads no more). The
    indexes are plain SQL, not declared on the table, so a new database's first migration
    does not make them before this one does."""
    t.console_sessions.create(conn)
    t.device_health.create(conn)
    _add_record_scores(conn)
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_records_updated ON records (updated_at, record_id)")
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_records_monthly ON records (month, kind, review_state, village_id, score)"
    )


def _add_record_scores(conn: Connection) -> None:
    """``records.score``: added to a database made before it (a new one has it from migration 1),
    and filled in from each remediation check's head revision."""
    if "score" in {c["name"] for c in inspect(conn).get_columns("records")}:
        return
    conn.exec_driver_sql("ALTER TABLE records ADD COLUMN score VARCHAR(16)")
    r, rv = t.records, t.record_revisions
    heads = (
        select(r.c.record_id, rv.c.envelope)
        .join(rv, (rv.c.record_id == r.c.record_id) & (rv.c.revision == r.c.head_revision))
        .where(r.c.kind == "remediation_check")
        .order_by(r.c.record_id)
    )
    after = ""
    while rows := conn.execute(heads.where(r.c.record_id > after).limit(2000)).all():
        scores = [(row.record_id, stored_total("remediation_check", json.loads(row.envelope)["content"])) for row in rows]
        conn.execute(
            r.update().where(r.c.record_id == bindparam("rid")).values(score=bindparam("s")),
            [{"rid": rid, "s": score} for rid, score in scores],
        )
        after = rows[-1].record_id


def _m0005_scale_out(conn: Connection) -> None:
    """Several processes: upload chunks in an object store, and the one signing key pinned."""
    t.upload_parts.create(conn)
    t.upload_receiving.create(conn)
    t.ledger_signing_key.create(conn)


def _m0008_revisions_by_device(conn: Connection) -> None:
    """The sync lag per device (``/metrics``) finds a device's last record by the device, not by
    reading every revision. Plain SQL, as in migration 4."""
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_record_revisions_device ON record_revisions (device_id, received_at)"
    )


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial schema with append-only ledger", _m0001_initial),
    (2, "ledger entries commit to contents kept beside the ledger", _m0002_ledger_contents),
    (3, "sign-in throttle: failures per account and address", _m0003_sign_in_failures),
    (4, "office console: sessions, device health, indexes for the review queue and monthly figures", _m0004_console),
    (5, "scale-out: upload chunks in an object store, the pinned signing key", _m0005_scale_out),
    (6, "random inspections: conflicts of interest and draws", inspection_tables.create),
    (7, "random inspections: inspectors' PIN hashes", inspection_tables.create_pins),
    (8, "sync lag: record revisions indexed by device", _m0008_revisions_by_device),
]


def migrate(engine: Engine) -> list[int]:
    """Apply every missing migration; return the versions applied now."""
    write(engine, _create_migrations_table)
    applied: list[int] = []
    for version, name, fn in MIGRATIONS:
        if write(engine, partial(_apply, version=version, name=name, fn=fn)):
            applied.append(version)
    return applied


def _take_turns(conn: Connection) -> None:
    # Several processes starting at once on one PostgreSQL migrate one after another
    # (the lock is the transaction's); SQLite's write lock already does this.
    if not is_sqlite(conn):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")


def _create_migrations_table(conn: Connection) -> None:
    _take_turns(conn)
    t.schema_migrations.create(conn, checkfirst=True)


def _apply(conn: Connection, *, version: int, name: str, fn: Callable[[Connection], None]) -> bool:
    """Apply one migration unless it is recorded as applied; True if applied now."""
    _take_turns(conn)
    done = conn.execute(select(t.schema_migrations.c.version).where(t.schema_migrations.c.version == version)).first()
    if done:
        return False
    fn(conn)
    conn.execute(t.schema_migrations.insert().values(version=version, name=name, applied_at=clock.timestamp()))
    return True
