"""Fixtures every group of tests shares: paths, fresh databases on each backend, live servers.

Nothing here imports SQLAlchemy or FastAPI at module level, so the phone's tests
(tests/field_app) run with only the phone's dependencies installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.databases import backends, fresh_database
from tests.support.live_server import LiveServer

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PHOTOS = SHARED / "testdata" / "photos"


@pytest.fixture(params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend (SQLite file, real PostgreSQL)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'xuncha.sqlite3'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each backend."""
    from server.infra.db import make_engine
    from server.infra.migrations import migrate

    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """A real server process on 127.0.0.1, on each backend."""
    srv = LiveServer(tmp_path / "data", database_url).start()
    yield srv
    srv.stop()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server process on an embedded SQLite file (for client-side and fault tests)."""
    srv = LiveServer(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'xuncha.sqlite3'}").start()
    yield srv
    srv.stop()
