"""Migration 8: the sync lag per device reads a device's last record by an index on the device,
not by reading every revision (issue 12)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from server.infra.db import is_sqlite, read
from server.infra.metrics import last_heard
from server.infra.migrations import migrate
from server.infra.writer import write

INDEX = "ix_record_revisions_device"


def _indexes(engine: Engine) -> dict[str, list[str | None]]:
    with read(engine) as conn:
        return {i["name"] or "": i["column_names"] for i in inspect(conn).get_indexes("record_revisions")}


def test_migration_8_indexes_revisions_by_device_on_a_database_made_before_it(engine: Engine) -> None:
    assert _indexes(engine)[INDEX] == ["device_id", "received_at"]

    def back_to_7(conn) -> None:  # the database as migration 7 left it
        conn.execute(text(f"DROP INDEX {INDEX}"))
        conn.execute(text("DELETE FROM schema_migrations WHERE version = 8"))

    write(engine, back_to_7)
    assert INDEX not in _indexes(engine)
    assert migrate(engine) == [8]
    assert _indexes(engine)[INDEX] == ["device_id", "received_at"]
    with read(engine) as conn:
        assert last_heard(conn) == {}


def test_the_last_record_of_a_device_is_found_by_the_index(engine: Engine) -> None:
    query = (
        "SELECT device_id, max(received_at) FROM record_revisions "
        "WHERE device_id IN ('a', 'b') GROUP BY device_id"
    )
    with engine.connect() as conn, conn.begin() as tx:
        if is_sqlite(engine):
            plan = [str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")]
        else:  # a table this small is read whole unless that is ruled out
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = [str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {query}")]
        tx.rollback()
    assert any(INDEX in line for line in plan), plan
