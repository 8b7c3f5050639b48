"""When sync runs: by itself in the background, periodically, and on "sync now".

``SyncScheduler`` runs passes in one daemon thread, so the UI never waits on the network.
It starts a pass as soon as it is started (and so as soon as there is a connection),
then every ``period`` seconds; ``sync_now()`` (the button, a save, a network change) wakes
it at once. After a failure it waits ``backoff(failures)``: exponential, capped, with full
jitter so that a village's phones do not all come back at the same second. A revoked
device stops it until a new token is stored. ``status()`` is a plain dict for the UI;
``on_change`` callbacks run on the sync thread (the UI marshals them to its own).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from field_app import clock
from field_app.messages import fail
from field_app.sync.engine import Progress, SyncPass, SyncStore
from field_app.sync.errors import DeviceRevoked, Offline
from field_app.sync.transport import ServerApi, build_client
from field_app.sync.uploads import ChunkSizer
from xuncha_core.errors import XunchaError

log = logging.getLogger("xuncha.sync")


def backoff(failures: int, *, base: float = 2.0, cap: float = 600.0, rng: random.Random | None = None) -> float:
    """Seconds to wait after ``failures`` failures in a row: full jitter over base·2ⁿ, capped."""
    rng = rng or random.Random()
    ceiling = min(cap, base * 2 ** max(0, failures - 1))
    return rng.uniform(base / 2, max(base / 2, ceiling))


class SyncScheduler:
    def __init__(
        self,
        store: Any,
        data_dir: Path,
        *,
        period: float = 300.0,
        base_delay: float = 2.0,
        max_delay: float = 600.0,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.data_dir = Path(data_dir)
        self.period = period
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.transport = transport
        self.rng = rng or random.Random()
        self.sizer = ChunkSizer()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._thread: threading.Thread | None = None
        self._revoked_token: str | None = None
        self._next_at: float | None = None
        self._status: dict[str, Any] = {
            "state": "idle",  # idle, running, offline, revoked, not_signed_in, error
            "online": None,
            "progress": asdict(Progress()),
            "last_success_at": None,
            "last_error": None,
            "failures": 0,
            "passes": 0,
        }

    # for the UI ---------------------------------------------------------------------
    def start(self) -> SyncScheduler:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="xuncha-sync", daemon=True)
            self._thread.start()
        return self

    def sync_now(self) -> None:
        """Run a pass as soon as possible (the current one, if any, finishes first)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> dict[str, Any]:
        """A snapshot: state, online, progress (records and bytes), last success (server
        time), last error {code, message, message_zh}, seconds to the next attempt."""
        with self._lock:
            snap = dict(self._status)
            snap["progress"] = dict(snap["progress"])
        snap["next_attempt_in"] = None if self._next_at is None else max(0.0, self._next_at - clock.monotonic())
        return snap

    def on_change(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self._listeners.append(callback)

    # the thread ---------------------------------------------------------------------
    def _loop(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            self._next_at = clock.monotonic() + delay
            self._wake.wait(timeout=delay)
            self._wake.clear()
            self._next_at = None
            if self._stop.is_set():
                return
            delay = self.run_once()

    def run_once(self) -> float:
        """Run one pass now, in this thread; answer how long to wait before the next."""
        server_url = self.store.get_setting("server_url")
        token = self.store.get_setting("device_token")
        if not server_url or not token:
            self._set(state="not_signed_in")
            return self.period
        if token == self._revoked_token:
            return self.period  # only a new sign-in (a new token) wakes sync up again
        self._set(state="running", last_error=None, passes=self._status["passes"] + 1)
        api = ServerApi(build_client(server_url, token, transport=self.transport))
        try:
            sync = SyncPass(self._store(), api, self.data_dir, on_progress=self._progress, sizer=self.sizer, cancel=self._cancel)
            sync.run()
        except DeviceRevoked as exc:
            self._revoked_token = token
            self._set(state="revoked", online=True, last_error=_error(exc))
            return self.period
        except Offline as exc:
            return self._failed("offline", exc, online=False)
        except XunchaError as exc:
            return self._failed("error", exc, online=True)
        except Exception as exc:  # a bug must not kill the sync thread for good
            log.exception("sync pass failed")
            return self._failed("error", fail(XunchaError, "sync.internal", reason=str(exc)), online=None)
        finally:
            api.close()
        at = api.server_time
        self._set(state="idle", online=True, failures=0, last_success_at=at)
        return self.period

    def _store(self) -> SyncStore:
        return self.store

    def _failed(self, state: str, exc: XunchaError, *, online: bool | None) -> float:
        failures = self._status["failures"] + 1
        self._set(state=state, online=online, failures=failures, last_error=_error(exc))
        return backoff(failures, base=self.base_delay, cap=self.max_delay, rng=self.rng)

    def _progress(self, progress: Progress) -> None:
        self._set(progress=asdict(progress))

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._status.update(changes)
        snap = self.status()
        for callback in list(self._listeners):
            try:
                callback(snap)
            except Exception:
                log.exception("sync status listener failed")


def _error(exc: XunchaError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "message_zh": exc.message_zh or exc.message}
