"""Fresh databases for tests: a SQLite file in tmp_path, or a new database on a real PostgreSQL.

PostgreSQL is found through XUNCHA_TEST_PG_URL (an admin URL such as
postgresql+psycopg://xuncha:xuncha@127.0.0.1/postgres; .ci/run starts the
server and sets it). Every storage test runs on both backends; to run only
SQLite on a machine without PostgreSQL, set XUNCHA_TEST_BACKENDS=sqlite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the phone's tests import this module without the server's extras
    from sqlalchemy import Connection, Engine

DEFAULT_PG_ADMIN = "postgresql+psycopg://xuncha:xuncha@127.0.0.1/postgres"


def backends() -> list[str]:
    wanted = os.environ.get("XUNCHA_TEST_BACKENDS", "sqlite,postgres")
    return [b.strip() for b in wanted.split(",") if b.strip()]


def pg_admin_url() -> str:
    return os.environ.get("XUNCHA_TEST_PG_URL", DEFAULT_PG_ADMIN)


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'xuncha.sqlite3'}"
        return
    if backend != "postgres":
        raise ValueError(backend)
    from sqlalchemy import create_engine, text

    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"xuncha_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - says how to fix the machine
        raise RuntimeError(
            f"PostgreSQL is not reachable at {pg_admin_url()}: {exc}. "
            "Start it as .ci/run does, or set XUNCHA_TEST_BACKENDS=sqlite."
        ) from exc
    base = pg_admin_url().rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction beside the server's one writer, as another process would open one
    (to seed or damage a database under test)."""
    from server.infra.db import writer_connection

    with writer_connection(engine) as conn, conn.begin():
        yield conn
