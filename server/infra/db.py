"""The one module that builds the SQL engine.

SQLite (WAL, foreign keys, a busy timeout) is the embedded default; PostgreSQL
works through the same SQLAlchemy Core code. Reads take a snapshot (``read``);
writes go through the one writer (``server.infra.writer``), whose connection on
SQLite takes the write lock at BEGIN (``BEGIN IMMEDIATE``, ``writer_connection``)
so that it never deadlocks upgrading a read lock; on PostgreSQL the ledger takes
its own advisory lock (see ``server.ledger``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, make_url

from xuncha_core import durable

_SQLITE_BEGIN = "sqlite_begin"


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
        )
        sync = sqlite_synchronous if sqlite_synchronous in ("FULL", "NORMAL", "EXTRA") else "FULL"

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sync}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _private_sqlite_file(url: str) -> None:
    """Make the database file 0600 (and its folder 0700) before SQLite opens it.

    SQLite creates a new database 0644 less the umask, and its -wal and -shm files with
    the database's own mode: a file made here first keeps all three private. A file
    from before, and its -wal and -shm, are tightened to match.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    durable.private_folder(path.parent)
    try:
        durable.new_private_file(path).close()
    except FileExistsError:
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            durable.restrict(name)


def is_sqlite(conn_or_engine: Connection | Engine) -> bool:
    return conn_or_engine.dialect.name == "sqlite"


def writer_connection(engine: Engine) -> Connection:
    """A connection whose every ``begin()`` is a write transaction (as in ``write``), for a
    long-lived writer that runs many transactions on it; the caller closes it."""
    return engine.connect().execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot."""
    with engine.connect() as conn, conn.begin():
        yield conn


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT made."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the statement inserted no row")
    return int(key[0])
