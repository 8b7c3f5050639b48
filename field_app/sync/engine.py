"""One sync pass: push the outbox, pull the server's changes, send the photos it lacks.

``run_pass`` promises: every outbox revision it hears a receipt for is receipted in the
store (and so leaves the outbox) before it goes on; a conflict is stored as a conflict with
both versions; a refusal is stored with the server's message; each pulled page is stored
with its cursor; each photo the server confirms is marked sent; a pass that ends
cleanly stores the server's time as the last successful sync. It raises ``Offline`` when
the link fails (the scheduler retries later) and ``DeviceRevoked`` on a 401, having stored
everything it had heard before. Nothing here reads the device clock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from field_app.sync import faults
from field_app.sync.errors import Refused
from field_app.sync.transport import ServerApi
from field_app.sync.uploads import ChunkSizer, find_photo, read_photo, upload_photo

BATCH = 200  # the server's limit per /records/batch
PAGE = 500
SENDABLE = ("waiting", "sending")


class SyncStore(Protocol):
    """What a pass needs from the phone's local store (``field_app.store.LocalStore``)."""

    def outbox(self) -> list[dict[str, Any]]: ...
    def set_outbox_state(self, record_id: str, revision: int, state: str, error: Any = None) -> Any: ...
    def record_receipt(self, record_id: str, revision: int, receipt: dict[str, Any]) -> Any: ...
    def record_conflict(self, record_id: str, revision: int, server_envelope: dict[str, Any]) -> Any: ...
    def cursor(self) -> int: ...
    def apply_changes(self, changes: list[dict[str, Any]], next_cursor: int) -> Any: ...
    def photos_pending(self) -> list[dict[str, Any]]: ...
    def set_photo_progress(self, sha256: str, offset: int, length: int | None = None) -> Any: ...
    def mark_photo_uploaded(self, sha256: str, receipt: dict[str, Any] | None = None) -> Any: ...
    def record_sync_success(self, at: str) -> Any: ...


@dataclass(frozen=True)
class Progress:
    """Where a pass stands, for the progress bar: records and bytes."""

    phase: str = "idle"  # push, pull, photos, done
    records_done: int = 0
    records_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    photos_done: int = 0
    photos_total: int = 0


@dataclass
class PassResult:
    receipts: int = 0
    replayed: int = 0
    conflicts: list[str] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    changes: int = 0
    photos_sent: int = 0
    photos_already_there: int = 0
    photos_unreadable: list[str] = field(default_factory=list)
    bytes_sent: int = 0


class SyncPass:
    """One pass over the outbox, the pull feed and the pending photos."""

    def __init__(
        self,
        store: SyncStore,
        api: ServerApi,
        data_dir: Path,
        *,
        on_progress: Callable[[Progress], None] = lambda p: None,
        sizer: ChunkSizer | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.api = api
        self.data_dir = Path(data_dir)
        self.on_progress = on_progress
        self.sizer = sizer or ChunkSizer()
        self.cancel = cancel or threading.Event()
        self.progress = Progress()
        self.result = PassResult()

    def run(self) -> PassResult:
        self.push_records()
        self.pull_changes()
        self.send_photos()
        if self.api.server_time:
            self.store.record_sync_success(self.api.server_time)
        self._report(phase="done")
        return self.result

    # records ------------------------------------------------------------------------
    def push_records(self) -> None:
        total = sum(1 for item in self.store.outbox() if item["state"] in SENDABLE)
        self._report(phase="push", records_total=total, records_done=0)
        while not self.cancel.is_set():
            batch = self._next_batch()
            if not batch:
                return
            for item in batch:
                if item["state"] != "sending":
                    self.store.set_outbox_state(item["record_id"], item["revision"], "sending")
            faults.point("before_send")
            results = self.api.push_batch([item["envelope"] for item in batch])
            faults.point("after_commit")
            progressed = False
            for item, answer in zip(batch, results, strict=True):
                progressed |= self._settle(item, answer)
            if not progressed:
                return  # everything left waits on something (a base, a person)

    def _next_batch(self) -> list[dict[str, Any]]:
        """Up to BATCH sendable revisions in save order; a revision whose earlier revision
        is stuck (conflict, refused) waits behind it."""
        batch: list[dict[str, Any]] = []
        blocked: set[str] = set()
        for item in self.store.outbox():
            rid = item["record_id"]
            if item["state"] not in SENDABLE:
                blocked.add(rid)
            elif rid not in blocked:
                batch.append(item)
                if len(batch) == BATCH:
                    break
        return batch

    def _settle(self, item: dict[str, Any], answer: dict[str, Any]) -> bool:
        """Store what the server said about one revision; True if it left the outbox."""
        rid, rev = item["record_id"], item["revision"]
        if "receipt" in answer:
            receipt = answer["receipt"]
            self.store.record_receipt(rid, rev, receipt)
            self.result.receipts += 1
            self.result.replayed += bool(receipt.get("replayed"))
            self._report(records_done=self.progress.records_done + 1)
            return True
        error = answer.get("error") or {}
        code = error.get("code", "")
        if code == "record.revision_conflict":
            self.store.record_conflict(rid, rev, (error.get("detail") or {}).get("server_envelope") or {})
            self.result.conflicts.append(rid)
        elif code == "record.base_missing":
            self.store.set_outbox_state(rid, rev, "waiting")
        else:
            self.store.set_outbox_state(rid, rev, "error", error=error)
            self.result.refused.append((rid, rev, code))
        return False

    # pull ----------------------------------------------------------------------------
    def pull_changes(self) -> None:
        self._report(phase="pull")
        cursor = self.store.cursor()
        while not self.cancel.is_set():
            page = self.api.changes(after=cursor, limit=PAGE)
            changes = list(page.get("changes") or [])
            next_cursor = int(page.get("next", cursor))
            if changes or next_cursor != cursor:
                self.store.apply_changes(changes, next_cursor)
                self.result.changes += len(changes)
            faults.point("mid_pull")
            if not page.get("more") or next_cursor == cursor:
                return
            cursor = next_cursor

    # photos --------------------------------------------------------------------------
    def send_photos(self) -> None:
        pending = {m["sha256"]: m for m in self.store.photos_pending()}
        if not pending:
            return
        self._report(phase="photos")
        missing = set(self.api.photos_missing(list(pending)))
        for sha in pending:
            if sha not in missing:
                self.store.mark_photo_uploaded(sha, None)
                self.result.photos_already_there += 1
        todo: list[tuple[str, bytes]] = []
        for sha in (s for s in pending if s in missing):
            path = find_photo(self.data_dir, sha, pending[sha])
            try:
                if path is None:
                    raise Refused("sync.photo_file_missing", f"photo {sha[:12]}… is not on this phone")
                todo.append((sha, read_photo(path, sha)))
            except (Refused, OSError):
                self.result.photos_unreadable.append(sha)
        self._report(
            photos_total=len(todo),
            photos_done=0,
            bytes_total=self.progress.bytes_done + sum(len(d) for _, d in todo),
        )
        for sha, data in todo:
            if self.cancel.is_set():
                return
            receipt = upload_photo(
                self.api,
                sha,
                data,
                self.sizer,
                on_bytes=self._count_bytes,
                on_offset=functools.partial(self._photo_offset, sha, len(data)),
            )
            self.store.mark_photo_uploaded(sha, receipt)
            self.result.photos_sent += 1
            self._report(photos_done=self.progress.photos_done + 1)

    def _photo_offset(self, sha256: str, length: int, offset: int) -> None:
        self.store.set_photo_progress(sha256, offset, length)

    # progress ------------------------------------------------------------------------
    def _count_bytes(self, n: int) -> None:
        self.result.bytes_sent += n
        self._report(bytes_done=self.progress.bytes_done + n)

    def _report(self, **changes: Any) -> None:
        self.progress = replace(self.progress, **changes)
        self.on_progress(self.progress)


def run_pass(store: SyncStore, api: ServerApi, data_dir: Path, **kw: Any) -> PassResult:
    """Run one pass; see the module docstring for what it promises."""
    return SyncPass(store, api, data_dir, **kw).run()
