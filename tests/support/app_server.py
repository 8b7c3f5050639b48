"""The server app on a real uvicorn in a thread of the test process, for tests that must hand it
something a separate process cannot take: a clock they move by hand."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

from server.accounts import accounts
from server.app import create_app
from server.infra.settings import Settings
from tests.support.databases import write
from tests.support.live_server import free_port


@dataclass
class ManualClock:
    """A clock that stands still until the test moves it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class AppServer:
    """``with AppServer(data_dir, url, clock) as srv:`` serves ``create_app`` on 127.0.0.1."""

    def __init__(self, data_dir: Path, database_url: str, clock: ManualClock) -> None:
        self.settings = Settings(data_dir=data_dir, database_url=database_url)
        self.clock = clock
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> AppServer:
        self.app = create_app(self.settings, clock=self.clock)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:  # uvicorn's own flag, polled with a generous deadline
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the in-process server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self.app.state.group_writer.close()
        self.app.state.engine.dispose()

    def add_user(self, username: str, password: str = "password-123", role: str = "supervisor") -> None:
        with write(self.app.state.engine) as conn:
            accounts.create_user(conn, username=username, role=role, password=password)

    def enroll(self, body: dict[str, str], *, address: str = "192.0.2.10") -> httpx.Response:
        """POST /api/v1/auth/enroll as a client at ``address`` (uvicorn trusts X-Forwarded-For
        from 127.0.0.1, as it would from a reverse proxy on the same machine)."""
        return httpx.post(
            f"{self.url}/api/v1/auth/enroll", json=body, headers={"X-Forwarded-For": address}, timeout=30
        )
