"""Schema migrations: numbered functions, each applied once, recorded in ``schema_migrations``.

``migrate(engine)`` runs at every start and applies what is missing, each in its
own transaction. Never edit a migration that has shipped; add the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from server import tables as t
from server.db import is_sqlite, write

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


def _m0003_sign_in_failures(conn: Connection) -> None:
    t.sign_in_failures.create(conn)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial schema with append-only ledger", _m0001_initial),
    (3, "sign-in throttle: failures per account and address", _m0003_sign_in_failures),
]


def migrate(engine: Engine) -> list[int]:
    """Apply every missing migration; return the versions applied now."""
    with write(engine) as conn:
        t.schema_migrations.create(conn, checkfirst=True)
    applied: list[int] = []
    for version, name, fn in MIGRATIONS:
        with write(engine) as conn:
            done = conn.execute(
                select(t.schema_migrations.c.version).where(t.schema_migrations.c.version == version)
            ).first()
            if done:
                continue
            fn(conn)
            conn.execute(
                t.schema_migrations.insert().values(
                    version=version, name=name, applied_at=datetime.now(UTC).isoformat()
                )
            )
            applied.append(version)
    return applied
