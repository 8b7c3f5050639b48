"""Waiting on states, never on time: a test waits until what it needs is true (or fails
after a generous deadline that only a hung run reaches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
DEADLINE = 60.0


def wait_until(probe: Callable[[], T], what: str, *, deadline: float = DEADLINE, every: float = 0.02) -> T:
    """Ask ``probe`` until it answers something true; answer that. Fails naming ``what``."""
    give_up = time.monotonic() + deadline
    while not (answer := probe()):
        assert time.monotonic() < give_up, f"still waiting for {what} after {deadline} s"
        threading.Event().wait(every)
    return answer


class StatusWatch:
    """Follows a ``SyncScheduler``'s status changes; ``until`` wakes on each one."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.changed = threading.Condition()
        scheduler.on_change(self._seen)

    def _seen(self, _: dict[str, Any]) -> None:
        with self.changed:
            self.changed.notify_all()

    def until(self, wanted: Callable[[dict[str, Any]], bool], *, deadline: float = DEADLINE) -> dict[str, Any]:
        with self.changed:
            ok = self.changed.wait_for(lambda: wanted(self.scheduler.status()), deadline)
        status = self.scheduler.status()
        assert ok, f"the sync status never reached the wanted state: {status}"
        return status
