"""Fixtures for tests that run the phone against a live server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer
from tests.support.phone import Phone


@pytest.fixture
def phone_server(sqlite_server: LiveServer) -> LiveServer:
    """The server the ``phone`` is enrolled with; a module may override it (with ``server``
    for both databases)."""
    return sqlite_server


@pytest.fixture
def phone(phone_server: LiveServer, tmp_path: Path) -> Iterator[Phone]:
    """A supervisor's phone, signed in to ``phone_server``, with an empty store."""
    phone_server.add_user("wang", "supervisor")
    p = Phone(phone_server, tmp_path / "phone", "wang")
    yield p
    p.close()
