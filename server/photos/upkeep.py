"""Keeping resumable uploads from piling up: forgotten once complete, expired when abandoned, capped per user.

* ``forget``: once a photo is kept, by whatever route (a whole ``PUT``, the last
  ``PATCH``, a ``POST`` that finds it kept), its upload row and part file go.
* ``sweep_expired``: an upload that received no byte for ``upload_expiry_days``
  (the later of its creation and its part file's last write) is deleted, row and part,
  and so is a part file left without a row for as long. Run at start and, lazily, on
  ``POST /uploads`` at most once an hour; never from a background thread. An upload
  whose part is locked (a request is writing it) is never touched.
* ``check_open_limits``: before a new upload is created, the user's unfinished uploads
  and their declared bytes are counted: 429 ``upload.limit_reached`` past
  ``max_open_uploads`` or ``max_open_upload_bytes``.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from server.infra import clock
from server.infra import tables as t
from server.infra.db import read
from server.infra.settings import Settings
from server.infra.writer import write
from server.photos.part_files import PartFile, part_path
from xuncha_core.errors import RateLimitedError, XunchaError

SWEEP_EVERY_SECONDS = 3600.0
_last_sweep: dict[str, float] = {}
_sweep_lock = threading.Lock()


def forget(engine: Engine, settings: Settings, sha256: str) -> None:
    """The photo is kept: remove its upload row and part file, if any.

    If a request is writing the part right now it is left alone: that request finds the
    photo kept when it finishes, and removes both itself.
    """
    path = part_path(settings, sha256)
    part = None
    if path.exists():
        try:
            part = PartFile(path)
        except XunchaError:  # upload.busy
            return
    try:
        with read(engine) as conn:
            known = conn.execute(select(t.uploads.c.sha256).where(t.uploads.c.sha256 == sha256)).first()
        if known is not None:
            forget_row(engine, sha256)
        if part is not None:
            part.delete()
    finally:
        if part is not None:
            part.close()


def sweep_expired(engine: Engine, settings: Settings, *, now: datetime) -> list[str]:
    """Delete uploads (and stray part files) with no byte received for the expiry time;
    return the hashes deleted."""
    cutoff = (now - timedelta(days=settings.upload_expiry_days)).timestamp()
    with read(engine) as conn:
        rows = {sha: created for sha, created in conn.execute(select(t.uploads.c.sha256, t.uploads.c.created_at))}
    strays = []
    if settings.uploads_dir.is_dir():
        strays = [p.name[: -len(".part")] for p in settings.uploads_dir.glob("*.part")]
    deleted = []
    for sha in sorted(set(rows) | set(strays)):
        created = datetime.fromisoformat(rows[sha]).timestamp() if sha in rows else 0.0
        if max(created, _last_write(settings, sha)) < cutoff and _delete_if_idle(engine, settings, sha):
            deleted.append(sha)
    return deleted


def _last_write(settings: Settings, sha256: str) -> float:
    try:
        return os.stat(part_path(settings, sha256)).st_mtime
    except FileNotFoundError:
        return 0.0


def _delete_if_idle(engine: Engine, settings: Settings, sha256: str) -> bool:
    try:
        part = PartFile(part_path(settings, sha256))
    except XunchaError:  # a request is writing it: not abandoned
        return False
    try:
        forget_row(engine, sha256)
        part.delete()
    finally:
        part.close()
    return True


def sweep_now_and_then(engine: Engine, settings: Settings, *, now: datetime | None = None) -> None:
    """``sweep_expired`` if this process has not swept this data folder in the last hour."""
    key = str(settings.data_dir)
    with _sweep_lock:
        if time.monotonic() - _last_sweep.get(key, -SWEEP_EVERY_SECONDS) < SWEEP_EVERY_SECONDS:
            return
        _last_sweep[key] = time.monotonic()
    sweep_expired(engine, settings, now=now or clock.utc_now())


def check_open_limits(engine: Engine, settings: Settings, *, user_id: int, length: int) -> None:
    """429 ``upload.limit_reached`` if one more upload of ``length`` bytes would pass the
    user's limits on unfinished uploads."""
    with read(engine) as conn:
        count, total = conn.execute(
            select(func.count(), func.coalesce(func.sum(t.uploads.c.length), 0)).where(t.uploads.c.user_id == user_id)
        ).one()
    count, total = int(count), int(total)
    if count < settings.max_open_uploads and total + length <= settings.max_open_upload_bytes:
        return
    days = f"{settings.upload_expiry_days:g}"
    raise RateLimitedError(
        "upload.limit_reached",
        f"You have {count} unfinished photo uploads ({total} bytes); at most "
        f"{settings.max_open_uploads} ({settings.max_open_upload_bytes} bytes) may be open at once. "
        f"Let the app finish sending the photos it has started, or wait: unfinished uploads "
        f"are deleted after {days} days without progress.",
        f"您有 {count} 个未完成的照片上传（共 {total} 字节），同时最多允许 "
        f"{settings.max_open_uploads} 个（{settings.max_open_upload_bytes} 字节）。"
        f"请先让 App 传完已开始的照片，或等待：未完成的上传在 {days} 天无进展后会被删除。",
        {
            "open_uploads": count,
            "open_bytes": total,
            "max_open_uploads": settings.max_open_uploads,
            "max_open_upload_bytes": settings.max_open_upload_bytes,
        },
        retry_after=3600,
    )


def forget_row(engine: Engine, sha256: str) -> None:
    """Forget the upload's row (its part file is the caller's to delete)."""
    write(engine, lambda conn: delete_row(conn, sha256))


def delete_row(conn: Connection, sha256: str) -> None:
    conn.execute(t.uploads.delete().where(t.uploads.c.sha256 == sha256))
