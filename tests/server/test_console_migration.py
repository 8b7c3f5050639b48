"""Migration 4 on a database made before it: each remediation check gets its score on its record
(the monthly ranking reads nothing else), and the console's tables appear (issue 10)."""

from __future__ import annotations

from sqlalchemy import select, text

from server.accounts.accounts import Actor, create_user
from server.infra import tables as t
from server.infra.db import make_engine, read
from server.infra.migrations import migrate
from server.infra.writer import write
from server.records import intake
from tests.support.records import remediation_content

AUTHOR = Actor(user_id=1, username="wang", display_name="王", role="supervisor", device_id="phone-1")


def _envelope(record_id: str, score: float, kind: str = "remediation_check") -> dict:
    return {"record_id": record_id, "kind": kind, "revision": 1, "base_revision": None, "author": "wang",
            "device_id": "phone-1", "device_time": "2026-11-14T09:30:00+08:00", "gps_time": None,
            "content": remediation_content("v1", "2026-11", total_score=score), "photos": []}


def test_migration_4_gives_every_existing_check_its_score(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    write(engine, lambda conn: create_user(conn, username="wang", role="supervisor", password=None))
    ids = ["0b7c1e7a-0000-4000-8000-000000000001", "0b7c1e7a-0000-4000-8000-000000000002"]
    for rid, score in zip(ids, (87.5, 100), strict=True):
        write(engine, lambda conn, rid=rid, score=score: intake.submit(conn, actor=AUTHOR, data=_envelope(rid, score)))
    with read(engine) as conn:
        assert [r.score for r in conn.execute(select(t.records.c.score).order_by(t.records.c.record_id))] == ["87.5", "100"]

    def back_to_3(conn) -> None:  # the database as migration 3 left it
        for statement in ("DROP INDEX ix_records_monthly", "DROP INDEX ix_records_updated", "DROP TABLE console_sessions",
                          "DROP TABLE device_health", "ALTER TABLE records DROP COLUMN score",
                          "DELETE FROM schema_migrations WHERE version = 4"):
            conn.execute(text(statement))

    write(engine, back_to_3)
    assert migrate(engine) == [4]
    with read(engine) as conn:
        scores = [r.score for r in conn.execute(select(t.records.c.score).order_by(t.records.c.record_id))]
        assert conn.execute(select(t.console_sessions)).all() == []
    assert scores == ["87.5", "100"]
    engine.dispose()
