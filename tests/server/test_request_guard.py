"""The request guard checks the caller once per request, before the body (issue 7, hole 8)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.accounts import accounts
from tests.support.app_server import AppServer, ManualClock


@pytest.fixture
def guarded(tmp_path: Path, sqlite_url: str) -> Iterator[AppServer]:
    with AppServer(tmp_path / "data", sqlite_url, ManualClock()) as srv:
        srv.add_user("wang")
        yield srv


def test_a_signed_in_request_looks_its_token_up_once(guarded: AppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    token = guarded.enroll({"username": "wang", "password": "password-123"}).json()["token"]
    lookups: list[str | None] = []
    real = accounts.authenticate

    def counted(conn: Any, token: str | None) -> accounts.Actor:
        lookups.append(token)
        return real(conn, token)

    monkeypatch.setattr(accounts, "authenticate", counted)
    with httpx.Client(base_url=guarded.url, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/api/v1/auth/me").json()["username"] == "wang"
        assert c.post("/api/v1/photos/missing", json={"hashes": []}).status_code == 200
    assert lookups == [token, token]
