"""One sync pass: push the outbox, pull the server's changes, send the photos it lacks.

Records and the pull run on one thread, photos on the calling thread: after the records
and the pull, or, on a fast link, from the moment the first batch is answered.

``SyncPass.run`` promises: every outbox revision it hears a receipt for is receipted in the
store (and so leaves the outbox) before it goes on; a conflict is stored as a conflict with
both versions; a refusal is stored with the server's message; each pulled page is stored
with its cursor; each photo the server confirms is marked sent (in groups: a mark lost to a
kill only costs the next pass a look at the server's missing list); a pass that ends
cleanly stores the server's time as the last successful sync. It raises ``Offline`` when
the link fails (the scheduler retries later) and ``DeviceRevoked`` on a 401, having stored
everything it had heard before. Nothing here reads the device clock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from field_app.clock import monotonic
from field_app.messages import fail
from field_app.store.sendable import next_batch, sendable_count
from field_app.sync import faults
from field_app.sync.errors import Refused
from field_app.sync.store_writer import StoreWriter
from field_app.sync.transport import ServerApi
from field_app.sync.uploads import ChunkSizer, find_photo, read_photo, upload_photo
from xuncha_core.canonical import canonical_bytes
from xuncha_core.json_limits import MAX_BATCH_BODY_BYTES

BATCH = 200  # the server's limit per /records/batch
# Half the server's cap on a batch's body: room for JSON that is not canonical (escapes).
BATCH_BYTES = MAX_BATCH_BODY_BYTES // 2
PAGE = 500
OWN_PAGE = 50  # her own records come with their content: smaller pages
# Photos on the wire at once: while one waits for the server to check and store it, the
# others' bytes keep the link busy. Bounded so a phone never floods a weak server or link.
UPLOADS_AT_ONCE = 4
# A full batch answered this fast means a fast link: the photos need not wait for the rest
# of the records (on 2G a full batch takes many seconds, and records keep the link first).
FAST_BATCH_SECONDS = 1.0


class SyncStore(Protocol):
    """What a pass needs from the phone's local store (``field_app.store.LocalStore``)."""

    def outbox(self) -> list[dict[str, Any]]: ...
    def set_outbox_state(self, record_id: str, revision: int, state: str, error: Any = None) -> Any: ...
    def record_receipts(self, receipts: list[tuple[str, int, dict[str, Any]]]) -> Any: ...
    def record_conflict(self, record_id: str, revision: int, server_envelope: dict[str, Any]) -> Any: ...
    def cursor(self) -> int: ...
    def apply_changes(self, changes: list[dict[str, Any]], next_cursor: int) -> Any: ...
    def own_records_cursor(self) -> int: ...
    def apply_own_records(self, records: list[dict[str, Any]], next_cursor: int) -> Any: ...
    def photos_pending(self) -> list[dict[str, Any]]: ...
    def set_photo_progress(self, sha256: str, offset: int, length: int | None = None) -> Any: ...
    def mark_photos_uploaded(self, shas: list[str], receipts: dict[str, Any] | None = None) -> Any: ...
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
    own_records: int = 0
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
        clock: Callable[[], float] = monotonic,
        batch_bytes: int = BATCH_BYTES,
    ) -> None:
        self.store = store
        self.batch_bytes = batch_bytes
        self.clock = clock  # times a batch's round trip, to tell a fast link
        self.api = api
        self.data_dir = Path(data_dir)
        self.on_progress = on_progress
        self.sizer = sizer or ChunkSizer()
        self.cancel = cancel or threading.Event()
        self.progress = Progress()
        self.result = PassResult()
        self._settled: set[tuple[str, int]] = set()
        self._receipts: list[tuple[str, int, dict[str, Any]]] = []
        self._receipted: tuple[int, int] | None = None  # smallest, largest ledger index receipted
        self._lock = threading.RLock()
        self._writer = StoreWriter()
        self._stop = threading.Event()  # one side of the pass failed: the other stops too
        self._first_batch = threading.Event()
        self._photos_early = False

    def run(self) -> PassResult:
        self._writer = StoreWriter()
        self._stop, self._first_batch, self._photos_early = threading.Event(), threading.Event(), False
        self._receipted = None
        try:
            self._records_then_photos()
        finally:
            self._writer.close()  # every receipt heard is stored before the pass returns or raises
        if self.api.server_time:
            self.store.record_sync_success(self.api.server_time)
        self._report(phase="done")
        return self.result

    def _records_then_photos(self) -> None:
        """Records, then the pull, on their own thread; the photos after them, or on a fast
        link as soon as the first batch is answered. A failure on either side stops both and
        is raised once both have stopped (the records' first)."""
        failed: list[BaseException] = []

        def records() -> None:
            try:
                self.push_records()
                self.pull_changes()
                self.pull_own_records()
            except BaseException as exc:
                failed.append(exc)
                self._stop.set()
            finally:
                self._first_batch.set()

        thread = threading.Thread(target=records, name="xuncha-sync-records", daemon=True)
        thread.start()
        self._first_batch.wait()
        if not self._photos_early:
            thread.join()
        try:
            if not failed:
                self.send_photos()
        except BaseException:
            self._stop.set()
            thread.join()
            if failed:
                raise failed[0] from None
            raise
        thread.join()
        if failed:
            raise failed[0]

    def _stopped(self) -> bool:
        return self.cancel.is_set() or self._stop.is_set()

    # records ------------------------------------------------------------------------
    def push_records(self) -> None:
        total = sendable_count(self.store.outbox())
        self._report(phase="push", records_total=total, records_done=0)
        while not self._stopped():
            batch = self._next_batch()
            if not batch:
                return
            faults.point("before_send")
            started = self.clock()
            results = self.api.push_batch([item["envelope"] for item in batch])
            seconds = self.clock() - started
            fast = len(batch) == BATCH and seconds < FAST_BATCH_SECONDS
            # The batch's round trip is a first measure of the link: the first photos go in
            # chunks sized for it, not in the cautious default that sends them resumable.
            self.sizer.observe(sum(len(canonical_bytes(item["envelope"])) for item in batch), seconds)
            faults.point("after_commit")
            progressed = False
            self._receipts = []
            for item, answer in zip(batch, results, strict=True):
                progressed |= self._settle(item, answer)
            if self._receipts:
                self._writer.put(self.store.record_receipts, self._receipts)  # one write for the batch
            if not self._first_batch.is_set():
                self._photos_early = fast
                self._first_batch.set()
            if not progressed:
                return  # everything left waits on something (a base, a person)

    def _next_batch(self) -> list[dict[str, Any]]:
        return next_batch(self.store.outbox(), settled=self._settled, max_items=BATCH, max_bytes=self.batch_bytes)

    def _settle(self, item: dict[str, Any], answer: dict[str, Any]) -> bool:
        """Store what the server said about one revision; True if it left the outbox."""
        rid, rev = item["record_id"], item["revision"]
        self._settled.add((rid, rev))
        if "receipt" in answer:
            receipt = answer["receipt"]
            self._receipts.append((rid, rev, receipt))
            self._note_place(receipt.get("ledger_index"))
            self.result.receipts += 1
            self.result.replayed += bool(receipt.get("replayed"))
            self._report(records_done=self.progress.records_done + 1)
            return True
        error = answer.get("error") or {}
        code = error.get("code", "")
        # Either the server holds another version of this revision, or the revision was built
        # on a version of its base the server does not hold: both are hers to choose between.
        if code in ("record.revision_conflict", "record.base_mismatch"):
            self._writer.put(self.store.record_conflict, rid, rev, (error.get("detail") or {}).get("server_envelope") or {})
            self.result.conflicts.append(rid)
        elif code == "record.base_missing":
            self._settled.discard((rid, rev))  # may go later in this pass, after its base
        else:
            self._writer.put(self.store.set_outbox_state, rid, rev, "error", error)
            self.result.refused.append((rid, rev, code))
        return False

    def _note_place(self, index: Any) -> None:
        """Widen the span of ledger indexes this pass got receipts for (replays too)."""
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            low, high = self._receipted or (index, index)
            self._receipted = (min(low, index), max(high, index))

    # pull ----------------------------------------------------------------------------
    def pull_changes(self) -> None:
        self._report(phase="pull")
        cursor = self.store.cursor()
        while not self._stopped():
            page = self.api.changes(after=cursor, limit=PAGE, outbox=len(self.store.outbox()))
            changes = list(page.get("changes") or [])
            next_cursor = int(page.get("next", cursor))
            if changes or next_cursor != cursor:
                self.store.apply_changes(changes, next_cursor)
                self.result.changes += len(changes)
            faults.point("mid_pull")
            if not page.get("more") or next_cursor == cursor:
                return
            cursor = next_cursor

    def pull_own_records(self) -> None:
        """Her records as the server holds them, page by page after the stored cursor (a
        server that does not offer them yet answers 404: there is nothing to pull).

        After a push, the revisions this pass got receipts for are not fetched back (issue
        12): the pull asks the server to leave out this device's own revisions from the
        smallest receipted ledger index on (``mine_since``), and, once it reaches the end,
        stores the cursor at least at the largest, so the next pass does not fetch them
        either. Safe because this phone holds every revision it got a receipt for in this
        pass (and every other revision made under its device id: a user's partition stays
        on the phone across sign-out, and a new phone enrolls with a new device id); any
        other change to such a record (a review, another device's revision) still brings it.
        Without receipts in the pass nothing is left out: a new phone gets everything."""
        cursor = self.store.own_records_cursor()
        mine_since, mine_until = self._receipted or (None, None)
        while not self._stopped():
            try:
                page = self.api.own_records(after=cursor, limit=OWN_PAGE, mine_since=mine_since)
            except Refused as exc:
                if exc.status == 404:
                    return
                raise
            records = list(page.get("records") or [])
            next_cursor = int(page.get("next", cursor))
            at_end = not page.get("more")
            if at_end and mine_until is not None:
                next_cursor = max(next_cursor, mine_until)  # ledger indexes are in commit order
            if records or next_cursor != cursor:
                self.store.apply_own_records(records, next_cursor)
                self.result.own_records += len(records)
            if at_end or next_cursor == cursor:
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
                self._writer.collect(self._mark_uploaded, (sha, None))
                self.result.photos_already_there += 1
        todo: list[tuple[str, Path]] = []
        size = 0
        for sha in (s for s in pending if s in missing):
            path = find_photo(self.data_dir, sha, pending[sha])
            try:
                if path is None:
                    raise fail(Refused, "sync.photo_file_missing", sha=sha[:12])
                size += path.stat().st_size
                todo.append((sha, path))
            except (Refused, OSError):
                self.result.photos_unreadable.append(sha)
        self._report(photos_total=len(todo), photos_done=0, bytes_total=self.progress.bytes_done + size)
        # Each photo is read and hashed once, by the thread that sends it, just before it
        # goes: a thousand photos are never all in memory, and reading overlaps sending.
        with ThreadPoolExecutor(max_workers=UPLOADS_AT_ONCE, thread_name_prefix="xuncha-upload") as pool:
            running = set()
            for sha, path in todo:
                if self._stopped():
                    break
                running.add(pool.submit(self._upload, sha, path))
                if len(running) >= UPLOADS_AT_ONCE:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    self._photos_done(done)
            self._photos_done(wait(running).done)

    def _upload(self, sha: str, path: Path) -> tuple[str, dict[str, Any] | None]:
        try:
            data = read_photo(path, sha)
        except (Refused, OSError):
            return sha, None  # changed or gone since it was listed: reported, never sent
        receipt = upload_photo(
            self.api,
            sha,
            data,
            self.sizer,
            on_bytes=self._count_bytes,
            on_offset=functools.partial(self._photo_offset, sha, len(data)),
        )
        return sha, receipt

    def _photos_done(self, done: set[Future[tuple[str, dict[str, Any] | None]]]) -> None:
        for future in done:
            sha, receipt = future.result()  # re-raises Offline, DeviceRevoked, …
            if receipt is None:
                self.result.photos_unreadable.append(sha)
                continue
            faults.point("photo_acked")
            self._writer.collect(self._mark_uploaded, (sha, receipt))
            self.result.photos_sent += 1
            self._report(photos_done=self.progress.photos_done + 1)

    def _mark_uploaded(self, marks: list[tuple[str, dict[str, Any] | None]]) -> None:
        """Store that the server holds these photos, in one bulk write."""
        self.store.mark_photos_uploaded([sha for sha, _ in marks], {sha: r for sha, r in marks if r is not None})

    def _photo_offset(self, sha256: str, length: int, offset: int) -> None:
        self._writer.put(self.store.set_photo_progress, sha256, offset, length)

    # progress ------------------------------------------------------------------------
    def _count_bytes(self, n: int) -> None:
        with self._lock:
            self.result.bytes_sent += n
            self._report(bytes_done=self.progress.bytes_done + n)

    def _report(self, **changes: Any) -> None:
        with self._lock:
            self.progress = replace(self.progress, **changes)
            self.on_progress(self.progress)
