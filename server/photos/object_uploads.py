"""Resumable uploads with no local disk: the state in the database, the chunks in the object store.

The same protocol as ``server.uploads`` (POST, HEAD, PATCH at ``Upload-Offset``), for
servers whose photos live in an object store, where any process may take any request:

- The ``uploads`` row holds the declared length; each acknowledged chunk is one object
  (``PREFIX/uploads/<sha>/<start>.<token>``) and one ``upload_parts`` row
  ``(sha256, start, size, object_key)``. The offset is where the parts, laid end to end
  from byte 0, stop covering the photo (parts may overlap: see below).
- A chunk is stored first (the store checks its SHA-256) and referenced second, in a
  transaction that locks the upload's row and accepts it only at the current offset. Two
  processes sending the same chunk at once: one row wins, the other object is deleted and
  its sender told 409 ``upload.offset_mismatch`` with the offset. A crash between the two
  leaves an unreferenced chunk object, which the sweep finds.
- A chunk that starts before the offset but reaches past it is taken too (the bytes are the
  same photo's; the whole is checked against its SHA-256 at the end), and the parts it
  covers are dropped. This is what a cut needs: the phone asks HEAD where to go on while
  the cut PATCH, on this or another process, may still be storing what arrived; if that
  lands after the answer, the phone's next chunk from the older offset still counts,
  instead of being refused after it was sent whole (a second chunk sent again).
- A body cut mid-way keeps what arrived (``keep_partial``); a process killed mid-chunk loses that chunk only.
- When the parts add up to the length, they are read back, checked as the photo
  (``server.photo_checks``), stored whole under its name, recorded with its ledger
  entry, and only then are the rows and chunk objects removed. Another process finishing
  the same upload at the same time records the photo once (``record_photo`` locks it).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection, Engine, select

from server.accounts.accounts import Actor
from server.infra import clock
from server.infra import tables as t
from server.infra.db import read
from server.infra.settings import Settings
from server.infra.writer import write
from server.photos import checks as photo_checks
from server.photos import store as photo_store
from server.photos import upkeep as upload_upkeep
from server.photos.s3_store import S3Blobs
from server.photos.uploads import UploadState, not_found, offset_mismatch
from xuncha_core.errors import TooLargeError, XunchaError

upload_parts = t.upload_parts
SETTLE_SECONDS = 3.0  # as long as HEAD waits for a chunk still landing (as server.photos.uploads)
# How long a PATCH's claim to be receiving holds if its process dies mid-chunk.
RECEIVING_SECONDS = 120.0


def _stamp(now: datetime | None = None) -> str:
    return clock.timestamp(now)


def _kept(engine: Engine, sha256: str) -> UploadState | None:
    with read(engine) as conn:
        receipt = photo_store.find_photo(conn, sha256)
    return None if receipt is None else UploadState(sha256, receipt.size, receipt.size, receipt)


def _lock_row(conn: Connection, sha256: str) -> int | None:
    """The upload's length, its row locked for this transaction (SQLite: the write lock)."""
    query = select(t.uploads.c.length).where(t.uploads.c.sha256 == sha256).with_for_update()
    length = conn.execute(query).scalar()
    return None if length is None else int(length)


def _parts(conn: Connection, sha256: str) -> list[tuple[int, int, str]]:
    query = (
        select(upload_parts.c.start, upload_parts.c.size, upload_parts.c.object_key)
        .where(upload_parts.c.sha256 == sha256)
        .order_by(upload_parts.c.start)
    )
    return [(int(s), int(n), k) for s, n, k in conn.execute(query)]


def _offset(parts: Sequence[tuple[int, int, str]]) -> int:
    """Where the parts (ordered by start, perhaps overlapping) stop covering from byte 0."""
    offset = 0
    for start, size, _key in parts:
        if start > offset:
            break
        offset = max(offset, start + size)
    return offset


def _adds(start: int, size: int | None, offset: int) -> bool:
    """Whether a chunk of ``size`` bytes at ``start`` goes on from ``offset`` (no gap, something new)."""
    return start == offset or (start < offset and (size is None or start + size > offset))


def _drop(conn: Connection, sha256: str) -> list[str]:
    """Delete the upload's rows; the keys of its chunk objects, to delete after commit."""
    keys = [k for _s, _n, k in _parts(conn, sha256)]
    conn.execute(upload_parts.delete().where(upload_parts.c.sha256 == sha256))
    conn.execute(t.uploads.delete().where(t.uploads.c.sha256 == sha256))
    return keys


def forget(engine: Engine, blobs: S3Blobs, sha256: str) -> None:
    """The photo is kept: remove its upload's rows and chunk objects, if any."""
    with read(engine) as conn:
        known = conn.execute(select(t.uploads.c.sha256).where(t.uploads.c.sha256 == sha256)).first()
    if known is None:
        return
    blobs.delete_keys(write(engine, lambda conn: _drop(conn, sha256)))


def _receiving_until(engine: Engine, sha256: str) -> str | None:
    with read(engine) as conn:
        return conn.execute(
            select(t.upload_receiving.c.until).where(t.upload_receiving.c.sha256 == sha256)
        ).scalar()


def _settle(engine: Engine, sha256: str) -> None:
    """Wait (SETTLE_SECONDS at most) while a chunk of this upload is being received, by
    this process or another: a PATCH cut a moment ago is still storing what arrived."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        until = _receiving_until(engine, sha256)
        if until is None or until < clock.timestamp():
            return
        time.sleep(0.05)


def status(engine: Engine, settings: Settings, *, sha256: str, settle: bool = False) -> UploadState:
    """The offset (bytes received and acknowledged), or the receipt if the photo is kept.
    ``settle``: first let a chunk being received land (what HEAD does)."""
    sha = photo_checks.normalise_sha256(sha256)
    if settle:
        _settle(engine, sha)
    kept = _kept(engine, sha)
    if kept is not None:
        return kept
    with read(engine) as conn:
        length = conn.execute(select(t.uploads.c.length).where(t.uploads.c.sha256 == sha)).scalar()
        parts = _parts(conn, sha)
    if length is None:
        raise not_found(sha)
    return UploadState(sha, int(length), _offset(parts))


def create(
    engine: Engine,
    blobs: S3Blobs,
    settings: Settings,
    *,
    sha256: str,
    length: int,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[UploadState, bool]:
    """Start (or find) the upload of this photo; True when it was created now."""
    sha = photo_checks.upload_request(sha256, length, settings=settings)
    kept = _kept(engine, sha)
    if kept is not None:
        forget(engine, blobs, sha)
        return kept, False
    try:
        current = status(engine, settings, sha256=sha)
    except XunchaError:  # upload.not_found
        current = None
    if current is None:
        upload_upkeep.sweep_now_and_then(engine, settings, now=now)
        upload_upkeep.check_open_limits(engine, settings, user_id=actor.user_id, length=length)
    elif current.length == length:
        if current.offset < length:
            return current, False
        return finish(engine, blobs, settings, sha256=sha, actor=actor), False

    def start(conn: Connection) -> tuple[int | None, list[str]]:
        known = _lock_row(conn, sha)
        stale: list[str] = []
        if known != length:
            # New, or the phone changed its mind about the length: no byte held can be trusted.
            if known is not None:
                stale = _drop(conn, sha)
            conn.execute(
                t.uploads.insert().values(
                    sha256=sha, length=length, user_id=actor.user_id, created_at=_stamp(now)
                )
            )
        return known, stale

    known, stale = write(engine, start)
    blobs.delete_keys(stale)
    return status(engine, settings, sha256=sha), known is None


@dataclass
class ObjectAppend:
    """One PATCH in progress: the chunk gathers in memory and is stored when it ends."""

    engine: Engine
    blobs: S3Blobs
    settings: Settings
    sha256: str
    length: int
    start: int
    actor: Actor
    receiving: str  # when this PATCH's claim to be receiving runs out (server.infra.clock)
    buffer: bytearray = field(default_factory=bytearray)

    def write(self, data: bytes) -> None:
        """Take more of the chunk; 413 if it would pass the declared length (chunk dropped)."""
        if self.start + len(self.buffer) + len(data) > self.length:
            self.buffer.clear()
            raise TooLargeError(
                "upload.past_length",
                f"The chunk goes past the declared length of {self.length} bytes.",
                f"分块超出声明的文件长度 {self.length} 字节。",
                {"offset": self.start, "length": self.length},
            )
        self.buffer += data

    def keep_partial(self) -> None:
        """The phone went away mid-body: keep what arrived (it resumes from HEAD's offset)."""
        if not self.buffer:
            self.abort()
            return
        try:
            self._store()
        except XunchaError as exc:
            if exc.code != "upload.offset_mismatch":
                raise
            # The phone already sent these bytes again in a later chunk: nothing to keep.

    def finish(self) -> UploadState:
        """Store and reference the chunk; keep the photo if it is now whole."""
        if self.buffer:
            offset = self._store()
        else:
            self.abort()
            offset = status(self.engine, self.settings, sha256=self.sha256).offset
        if offset < self.length:
            return UploadState(self.sha256, self.length, offset)
        return finish(self.engine, self.blobs, self.settings, sha256=self.sha256, actor=self.actor)

    def abort(self) -> None:
        self.buffer.clear()
        write(self.engine, self._let_go)

    def _let_go(self, conn: Connection) -> None:
        receiving = t.upload_receiving.c
        conn.execute(
            t.upload_receiving.delete().where(receiving.sha256 == self.sha256, receiving.until == self.receiving)
        )

    def _store(self) -> int:
        data = bytes(self.buffer)
        self.buffer.clear()
        key = self.blobs.location.key(
            "uploads", self.sha256, f"{self.start:012d}.{uuid.uuid4().hex[:12]}"
        )
        self.blobs.put_bytes(key, data)

        end = self.start + len(data)

        def reference(conn: Connection) -> tuple[list[str], int]:
            self._let_go(conn)
            if _lock_row(conn, self.sha256) is None:
                raise not_found(self.sha256)
            parts = _parts(conn, self.sha256)
            offset = _offset(parts)
            if not _adds(self.start, len(data), offset):
                raise offset_mismatch(self.start, offset)
            covered = [k for s, n, k in parts if s >= self.start and s + n <= end]
            conn.execute(
                upload_parts.delete().where(
                    upload_parts.c.sha256 == self.sha256, upload_parts.c.object_key.in_(covered)
                )
            )
            conn.execute(
                upload_parts.insert().values(
                    sha256=self.sha256,
                    start=self.start,
                    size=len(data),
                    object_key=key,
                    created_at=_stamp(),
                )
            )
            return covered, _offset(_parts(conn, self.sha256))

        try:
            covered, offset = write(self.engine, reference)
        except BaseException:
            self.blobs.delete_keys([key])  # not referenced: the store keeps nothing of it
            write(self.engine, self._let_go)
            raise
        self.blobs.delete_keys(covered)
        return offset


def begin_append(
    engine: Engine,
    blobs: S3Blobs,
    settings: Settings,
    *,
    sha256: str,
    offset: int,
    content_length: int | None,
    actor: Actor,
) -> ObjectAppend | UploadState:
    """Check a chunk may go at ``offset``; an UploadState if the photo is already kept."""
    sha = photo_checks.normalise_sha256(sha256)
    current = status(engine, settings, sha256=sha)
    if current.complete:
        forget(engine, blobs, sha)
        return current
    if not _adds(offset, content_length, current.offset):
        raise offset_mismatch(offset, current.offset)
    if content_length is not None and offset + content_length > current.length:
        raise TooLargeError(
            "upload.past_length",
            f"The chunk ({content_length} bytes at {offset}) goes past the declared length of {current.length} bytes.",
            f"分块（从第 {offset} 字节起 {content_length} 字节）超出声明的文件长度 {current.length} 字节。",
            {"offset": current.offset, "length": current.length},
        )
    until = clock.timestamp(clock.utc_now() + timedelta(seconds=RECEIVING_SECONDS))

    def claim(conn: Connection) -> None:
        conn.execute(t.upload_receiving.delete().where(t.upload_receiving.c.sha256 == sha))
        conn.execute(t.upload_receiving.insert().values(sha256=sha, until=until))

    write(engine, claim)
    return ObjectAppend(engine, blobs, settings, sha, current.length, offset, actor, until)


def finish(
    engine: Engine, blobs: S3Blobs, settings: Settings, *, sha256: str, actor: Actor
) -> UploadState:
    """The parts add up to the length: check the photo, keep it, then forget the upload."""
    with read(engine) as conn:
        length = conn.execute(
            select(t.uploads.c.length).where(t.uploads.c.sha256 == sha256)
        ).scalar()
        parts = _parts(conn, sha256)
    kept = _kept(engine, sha256)
    if kept is not None or length is None:
        if kept is None:
            raise not_found(sha256)
        forget(engine, blobs, sha256)
        return kept
    data = bytearray()
    for start, size, key in parts:
        if start > len(data):
            break
        if start + size > len(data):  # overlapping parts hold the same bytes: take what is new
            data += blobs.get_object(key)[len(data) - start :]
    if len(data) < int(length):  # a part went missing (another process finished it?)
        return _kept(engine, sha256) or status(engine, settings, sha256=sha256)
    whole = bytes(data)
    try:
        photo = photo_checks.inspect_photo(whole, settings=settings, expected_sha256=sha256)
    except XunchaError as exc:
        blobs.delete_keys(write(engine, lambda conn: _drop(conn, sha256)))
        exc.detail = {**exc.detail, "upload_deleted": True}
        exc.message += " The upload was discarded; start it again."
        exc.message_zh += "本次上传已作废，请重新开始上传。"
        raise
    blobs.put(sha256, whole)  # stored (and checked by the store) before any row names it

    def keep(conn: Connection) -> tuple[photo_store.PhotoReceipt, list[str]]:
        return photo_store.record_photo(conn, photo, uploaded_by=actor.username), _drop(conn, sha256)

    receipt, keys = write(engine, keep)
    blobs.delete_keys(keys)
    return UploadState(sha256, int(length), int(length), receipt)


def sweep_expired(
    engine: Engine, blobs: S3Blobs, settings: Settings, *, now: datetime
) -> list[str]:
    """Delete uploads with no chunk received for the expiry time; the hashes deleted."""
    cutoff = _stamp(
        datetime.fromtimestamp(now.timestamp() - settings.upload_expiry_days * 86400, UTC)
    )
    with read(engine) as conn:
        rows = list(conn.execute(select(t.uploads.c.sha256, t.uploads.c.created_at)))
        latest = dict(
            conn.execute(
                select(upload_parts.c.sha256, upload_parts.c.created_at).order_by(
                    upload_parts.c.created_at
                )
            ).all()
        )
    deleted = []
    for sha, created in rows:
        if max(created, latest.get(sha, "")) < cutoff:
            blobs.delete_keys(write(engine, partial(_drop, sha256=sha)))
            deleted.append(sha)
    return deleted
