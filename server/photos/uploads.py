"""Resumable photo uploads (tus-style): a slow, cut-prone link never sends a byte twice needlessly.

The protocol, as the phone sees it:

1. ``POST /uploads {sha256, length}`` creates (or finds) the upload and answers the
   server's ``offset``; if the photo is already kept it answers ``complete``.
2. ``PATCH /uploads/{sha256}`` with ``Upload-Offset: N`` appends the body at byte N of
   ``<data>/uploads/<sha256>.part``; the part file is fsynced before the new offset is
   answered, so an acknowledged offset survives a kill. If N is not the server's offset
   the answer is 409 ``upload.offset_mismatch`` with the server's offset (header and
   ``detail.offset``): a replayed chunk whose response was lost is refused harmlessly and
   the phone skips ahead. A body cut mid-way keeps the bytes that arrived.
3. ``HEAD /uploads/{sha256}`` answers ``Upload-Offset`` after any cut; the phone sends
   from exactly that byte. If a cut PATCH is still writing what reached the server, HEAD
   waits (a few seconds at most) until it has let go, so the offset is not stale.
4. When the offset reaches the length, the whole is hashed and checked as an image
   (``server.photos.checks``) and kept (``server.photos.store``); on failure the part is deleted and the error says
   why. An empty PATCH at ``offset == length`` (or a repeated POST) finishes an upload
   whose last step was interrupted.

State is the ``uploads`` row (length) plus the part file (its size is the offset).
After a crash either may exist without the other: a row without a part is at offset
0; a part without a row is adopted by the next POST (its bytes are checked at the end
anyway). Every change to a part file happens under an exclusive ``flock`` on it
(``server.photos.part_files``), so two requests for the same photo never interleave; the
second is told 409 ``upload.busy``.

Whatever completes a photo removes its upload; abandoned uploads expire and each user
has a cap on unfinished ones (``server.photos.upkeep``).

With photos in an object store (``XUNCHA_PHOTOS_URL=s3://…``) the same protocol keeps
its state in the database and its chunks in the store instead, so that any server
process may take any request (``server.photos.object_uploads``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy.exc
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
from server.photos.part_files import PartFile, part_path
from server.photos.store import PhotoReceipt
from xuncha_core import durable

if TYPE_CHECKING:
    from server.photos.object_uploads import ObjectAppend
from xuncha_core.errors import (
    ConflictError,
    NotFoundError,
    TooLargeError,
    XunchaError,
)

SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class UploadState:
    """Where an upload stands; ``receipt`` once the photo is kept."""

    sha256: str
    length: int
    offset: int
    receipt: PhotoReceipt | None = None

    @property
    def complete(self) -> bool:
        return self.receipt is not None

    def as_dict(self, settings: Settings) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sha256": self.sha256,
            "offset": self.offset,
            "length": self.length,
            "chunk_size": settings.upload_chunk_bytes,
            "complete": self.complete,
        }
        if self.receipt is not None:
            out.update({k: v for k, v in self.receipt.as_dict().items() if k != "sha256"})
        return out


def _kept(engine: Engine, settings: Settings, sha256: str) -> UploadState | None:
    with read(engine) as conn:
        receipt = photo_store.find_photo(conn, sha256)
    if receipt is None:
        return None
    return UploadState(sha256, receipt.size, receipt.size, receipt)


def _row_length(engine: Engine, sha256: str) -> int | None:
    with read(engine) as conn:
        return conn.execute(select(t.uploads.c.length).where(t.uploads.c.sha256 == sha256)).scalar()


def not_found(sha256: str) -> XunchaError:
    return NotFoundError(
        "upload.not_found",
        f"No upload of photo {sha256} is in progress. Start it with POST /api/v1/uploads.",
        "没有正在进行的该照片上传，请先创建上传（POST /api/v1/uploads）。",
    )


def offset_mismatch(sent: int, offset: int) -> XunchaError:
    return ConflictError(
        "upload.offset_mismatch",
        f"The chunk was sent for byte {sent}, but the server has {offset} bytes. Continue from byte {offset}.",
        f"分块起点为第 {sent} 字节，但服务器已收到 {offset} 字节，请从第 {offset} 字节继续。",
        {"offset": offset, "sent_offset": sent},
    )


def create(
    engine: Engine,
    settings: Settings,
    *,
    sha256: str,
    length: int,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[UploadState, bool]:
    """Start (or find) the upload of this photo; True when it was created now.

    ``now`` (the server's clock unless a test moves it) stamps a new upload and decides
    which abandoned ones have expired.
    """
    now = now or clock.utc_now()
    if settings.photos_in_object_store:
        from server.photos import object_uploads
        from server.photos.s3_store import object_store_for

        return object_uploads.create(
            engine, object_store_for(settings), settings, sha256=sha256, length=length, actor=actor, now=now
        )
    sha = photo_checks.upload_request(sha256, length, settings=settings)
    kept = _kept(engine, settings, sha)
    if kept is not None:
        upload_upkeep.forget(engine, settings, sha)  # a whole PUT overtook it, or a kill came after the commit
        return kept, False
    upload_upkeep.sweep_now_and_then(engine, settings, now=now)
    if _row_length(engine, sha) == length:
        current = status(engine, settings, sha256=sha)
        if current.offset < length:  # the common retry: no lock needed to report it
            return current, False
    durable.private_folder(settings.uploads_dir)
    part = PartFile(part_path(settings, sha))
    try:
        known = _row_length(engine, sha)
        if known != length:
            # A new upload, or a client that changed its mind about the length: whatever bytes
            # are there cannot be trusted past the new length.
            if known is None:
                upload_upkeep.check_open_limits(engine, settings, user_id=actor.user_id, length=length)
            if known is not None or part.size > length:
                part.truncate(0)
                part.sync()
            _put_row(engine, sha, length, actor, now)
        created = known is None
        if part.size == length:
            return _finish(engine, settings, part, sha, length, actor), created
        return UploadState(sha, length, part.size), created
    finally:
        part.close()


def _put_row(engine: Engine, sha256: str, length: int, actor: Actor, now: datetime) -> None:
    try:
        def put(conn: Connection) -> None:
            upload_upkeep.delete_row(conn, sha256)
            conn.execute(
                t.uploads.insert().values(
                    sha256=sha256, length=length, user_id=actor.user_id, created_at=clock.timestamp(now)
                )
            )

        write(engine, put)
    except sqlalchemy.exc.IntegrityError:  # a concurrent create on PostgreSQL won; we hold the part lock, so it matches
        pass


def status(engine: Engine, settings: Settings, *, sha256: str) -> UploadState:
    """The upload's offset (durable bytes received), or the receipt if the photo is kept."""
    if settings.photos_in_object_store:
        from server.photos import object_uploads

        return object_uploads.status(engine, settings, sha256=sha256, settle=True)
    sha = photo_checks.normalise_sha256(sha256)
    kept = _kept(engine, settings, sha)
    if kept is not None:
        return kept
    length = _row_length(engine, sha)
    if length is None:
        raise not_found(sha)
    path = part_path(settings, sha)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return UploadState(sha, length, 0)
    try:
        # A PATCH cut a moment ago may still be writing the bytes that reached us: answer
        # once it has let go, or the phone would resend from a stale offset.
        if _wait_unlocked(fd) and os.fstat(fd).st_nlink == 0:
            kept = _kept(engine, settings, sha)  # finished (and the part removed) meanwhile
            if kept is not None:
                return kept
        offset = os.fstat(fd).st_size
        os.fsync(fd)  # what we report must survive a power cut too
        return UploadState(sha, length, offset)
    finally:
        os.close(fd)  # releases the shared lock


def _wait_unlocked(fd: int) -> bool:
    """Take a shared lock on the part file, waiting up to SETTLE_SECONDS for an append
    to let go; True if it had to wait. (After that, answer anyway: the phone copes.)"""
    waited = False
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return waited
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN) or time.monotonic() > deadline:
                return waited
        waited = True
        time.sleep(0.02)


@dataclass
class Append:
    """One PATCH in progress: the locked part file and where the chunk started."""

    engine: Engine
    settings: Settings
    sha256: str
    length: int
    start: int
    part: PartFile
    actor: Actor
    received: int = 0

    def write(self, data: bytes) -> None:
        """Append bytes of the chunk; 413 if they would pass the declared length (chunk undone)."""
        if self.start + self.received + len(data) > self.length:
            self.part.truncate(self.start)
            self.part.sync()
            raise TooLargeError(
                "upload.past_length",
                f"The chunk goes past the declared length of {self.length} bytes.",
                f"分块超出声明的文件长度 {self.length} 字节。",
                {"offset": self.start, "length": self.length},
            )
        self.part.write(data)
        self.received += len(data)

    def keep_partial(self) -> None:
        """The client went away mid-body: keep what arrived (it resumes from HEAD's offset)."""
        try:
            self.part.sync()
        finally:
            self.part.close()

    def finish(self) -> UploadState:
        """Make the chunk durable; keep the photo if it is now whole. Releases the lock."""
        try:
            self.part.sync()
            offset = self.part.size
            if offset < self.length:
                return UploadState(self.sha256, self.length, offset)
            return _finish(self.engine, self.settings, self.part, self.sha256, self.length, self.actor)
        finally:
            self.part.close()

    def abort(self) -> None:
        self.part.close()


def begin_append(
    engine: Engine,
    settings: Settings,
    *,
    sha256: str,
    offset: int,
    content_length: int | None,
    actor: Actor,
) -> Append | ObjectAppend | UploadState:
    """Lock the part file for a chunk at ``offset``; an UploadState if the photo is already kept.
    With photos in an object store, an ``ObjectAppend`` (the same methods) instead."""
    if settings.photos_in_object_store:
        from server.photos import object_uploads
        from server.photos.s3_store import object_store_for

        return object_uploads.begin_append(
            engine,
            object_store_for(settings),
            settings,
            sha256=sha256,
            offset=offset,
            content_length=content_length,
            actor=actor,
        )
    sha = photo_checks.normalise_sha256(sha256)
    kept = _kept(engine, settings, sha)
    if kept is not None:
        upload_upkeep.forget(engine, settings, sha)
        return kept
    length = _row_length(engine, sha)
    if length is None:
        raise not_found(sha)
    part = PartFile(part_path(settings, sha))
    try:
        size = part.size
        if offset != size:
            part.sync()
            raise offset_mismatch(offset, size)
        if content_length is not None and offset + content_length > length:
            raise TooLargeError(
                "upload.past_length",
                f"The chunk ({content_length} bytes at {offset}) goes past the declared length of {length} bytes.",
                f"分块（从第 {offset} 字节起 {content_length} 字节）超出声明的文件长度 {length} 字节。",
                {"offset": size, "length": length},
            )
        os.lseek(part.fd, size, os.SEEK_SET)
        return Append(engine, settings, sha, length, size, part, actor)
    except BaseException:
        part.close()
        raise


def _finish(
    engine: Engine, settings: Settings, part: PartFile, sha256: str, length: int, actor: Actor
) -> UploadState:
    """The part is whole: check it, keep the photo, forget the upload. Caller holds the lock."""
    try:
        photo = photo_checks.inspect_photo(part.path, settings=settings, expected_sha256=sha256)
    except XunchaError as exc:
        part.delete()
        upload_upkeep.forget_row(engine, sha256)
        exc.detail = {**exc.detail, "upload_deleted": True}
        exc.message += " The upload was discarded; start it again."
        exc.message_zh += "本次上传已作废，请重新开始上传。"
        raise
    photo_store.write_blob(settings, sha256, part.path)

    def keep(conn: Connection) -> PhotoReceipt:
        kept = photo_store.record_photo(conn, photo, uploaded_by=actor.username)
        upload_upkeep.delete_row(conn, sha256)
        return kept

    receipt = write(engine, keep)
    part.delete()
    return UploadState(sha256, length, length, receipt)

