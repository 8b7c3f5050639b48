"""What the console adds to the schema, applied by one numbered migration in the server's list.

The sessions table (``sessions.console_sessions``), and two indexes on ``records`` for the
review queue's default order (latest change first) and for the monthly figures (a month's
records of one kind in one review state). The indexes are made with plain SQL, not declared
on the shared table, so that the first migration of a new database does not make them first.
"""

from __future__ import annotations

from sqlalchemy import Connection

from server.console import sessions

INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_records_updated ON records (updated_at, record_id)",
    "CREATE INDEX IF NOT EXISTS ix_records_month_kind_state ON records (month, kind, review_state)",
)


def migrate_console(conn: Connection) -> None:
    sessions.create_table(conn)
    for statement in INDEXES:
        conn.exec_driver_sql(statement)
