"""The sync pass's store writer: what the server said, stored in order on one thread while
the next request is on the wire."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from field_app.clock import monotonic

# Photos the server confirmed are marked sent in groups: one store write per this many
# marks or this many seconds, and the rest when the pass ends. A group lost to a kill costs
# nothing but a re-check: the next pass asks the server which photos it lacks first.
MARK_GROUP = 32
MARK_SECONDS = 1.0


class StoreWriter:
    """Stores what the server said, in order, on one thread, while the next request is on
    the wire. ``close`` waits for every write and re-raises the first failure. A kill before
    a write lands only means that item is sent again and answered as a replay.

    ``collect`` gathers facts that stand alone (a photo the server holds) and stores them in
    one call per group of ``MARK_GROUP`` or ``MARK_SECONDS`` (and the rest at ``close``), so
    a thousand photos cost a few dozen writes, not a thousand. Only facts that the server can
    tell again may be gathered: a group lost to a kill must cost a re-check, never data."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._gathered: dict[Callable[[list[Any]], Any], list[Any]] = {}
        self._queued: set[Callable[[list[Any]], Any]] = set()  # a flush for this kind waits in the queue
        self._since: dict[Callable[[list[Any]], Any], float] = {}  # when the open group began
        self.thread = threading.Thread(target=self._run, name="xuncha-sync-writer", daemon=True)
        self.thread.start()

    def put(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((fn, args))

    def collect(self, bulk: Callable[[list[Any]], Any], item: Any) -> None:
        with self._lock:
            items = self._gathered.setdefault(bulk, [])
            items.append(item)
            now = monotonic()
            began = self._since.setdefault(bulk, now)
            if bulk in self._queued or (len(items) < MARK_GROUP and now - began < MARK_SECONDS):
                return  # a queued flush takes this one too, or the group is still open
            self._queued.add(bulk)
        self.put(self._flush, bulk)

    def _flush(self, bulk: Callable[[list[Any]], Any]) -> None:
        with self._lock:
            items = self._gathered.pop(bulk, [])
            self._queued.discard(bulk)
            self._since.pop(bulk, None)
        if items:
            bulk(items)

    def close(self) -> None:
        with self._lock:
            open_groups = [bulk for bulk, items in self._gathered.items() if items and bulk not in self._queued]
            self._queued.update(open_groups)
        for bulk in open_groups:
            self.queue.put((self._flush, (bulk,)))
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (job := self.queue.get()) is not None:
            if self.error is None:
                try:
                    job[0](*job[1])
                except BaseException as exc:
                    self.error = exc

