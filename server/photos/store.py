"""Evidence photos kept: content-addressed blobs, their rows and ledger entries.

A photo is named by the SHA-256 of its bytes and is first proven to be that
photo and a real image within limits (``server.photos.checks``; each failure a
4xx ``XunchaError`` that leaves nothing behind). Only then is the blob written to
``<data>/photos/<sha[:2]>/<sha>`` (``xuncha_core.durable``: temp file in the same
folder, fsync, rename, fsync folder) and, after that, the ``photos`` row and the
``photo.received`` ledger entry are added in one transaction. The file comes
first so a row never exists without its file; a file without a row (a crash
between the two) is harmless, since the same bytes will be written under the
same name again. Storing a photo that is already kept returns its original
receipt. Who may read a kept photo is ``server.accounts.access``'s to say.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, select

from server import ledger
from server.infra import clock
from server.infra import tables as t
from server.infra.db import is_sqlite, read
from server.infra.settings import Settings
from server.infra.writer import write
from server.photos.checks import CheckedPhoto, Source, check_hash, inspect_photo, normalise_sha256
from xuncha_core import durable, ledger_entries, receipts


@dataclass(frozen=True)
class PhotoReceipt:
    """What the server answers for a kept photo; ``replayed`` when it was already kept."""

    sha256: str
    size: int
    mime: str
    width: int
    height: int
    uploaded_by: str
    received_at: str
    ledger_index: int
    leaf_hash: str
    replayed: bool = False

    def as_dict(self) -> receipts.PhotoReceipt:
        return cast(receipts.PhotoReceipt, asdict(self))


# -- blobs ----------------------------------------------------------------------------


def photo_path(settings: Settings, sha256: str) -> Path:
    """Where the photo named ``sha256`` is kept (whether or not it is there)."""
    return settings.photos_dir / sha256[:2] / sha256


def write_blob(settings: Settings, sha256: str, source: Source) -> Path:
    """Write the bytes to the photo's path atomically and durably; returns the path."""
    final = photo_path(settings, sha256)
    if not final.parent.is_dir():
        durable.private_folder(final.parent)
        durable.fsync_folder(final.parent.parent)
    return durable.replace_file(final, source)  # 0600: evidence is the server's alone to serve


def sweep_temp_files(settings: Settings) -> int:
    """Delete temp files a killed process left behind in photos/ and uploads/; returns how many."""
    removed = durable.remove_temp_files(settings.photos_dir, pattern="*/.*.tmp")
    removed += durable.remove_temp_files(settings.uploads_dir, pattern="*.tmp")
    return len(removed)


# -- rows and ledger --------------------------------------------------------------------


def find_photo(conn: Connection, sha256: str) -> PhotoReceipt | None:
    """The receipt of a kept photo, or None."""
    row = conn.execute(select(t.photos).where(t.photos.c.sha256 == sha256)).mappings().first()
    if row is None:
        return None
    return PhotoReceipt(
        sha256=row["sha256"],
        size=int(row["size"]),
        mime=row["mime"],
        width=int(row["width"]),
        height=int(row["height"]),
        uploaded_by=row["uploaded_by"],
        received_at=row["received_at"],
        ledger_index=int(row["ledger_index"]),
        leaf_hash=row["leaf_hash"],
    )


def missing_photos(conn: Connection, hashes: list[str]) -> list[str]:
    """Those of ``hashes`` (normalised, deduplicated, in order) that the server does not keep."""
    wanted = list(dict.fromkeys(normalise_sha256(h) for h in hashes))
    kept: set[str] = set()
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        kept.update(conn.execute(select(t.photos.c.sha256).where(t.photos.c.sha256.in_(batch))).scalars())
    return [h for h in wanted if h not in kept]


def _lock_photo(conn: Connection, sha256: str) -> None:
    # SQLite writers already hold the database lock (BEGIN IMMEDIATE); on PostgreSQL two
    # transactions keeping the same photo must not both pass the "already kept?" check.
    if not is_sqlite(conn):
        key = int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")


def record_photo(conn: Connection, photo: CheckedPhoto, *, uploaded_by: str) -> PhotoReceipt:
    """Add the photos row and its ``photo.received`` entry, in the caller's transaction.

    The blob must already be written. If the photo is kept already, its original receipt.
    """
    _lock_photo(conn, photo.sha256)
    existing = find_photo(conn, photo.sha256)
    if existing is not None:
        return replace(existing, replayed=True)
    facts: dict[str, Any] = {
        "sha256": photo.sha256,
        "size": photo.size,
        "mime": photo.mime,
        "width": photo.width,
        "height": photo.height,
        "uploaded_by": uploaded_by,
        "received_at": clock.timestamp(),
    }
    appended = ledger.append(conn, ledger_entries.photo_received(**facts))
    receipt = PhotoReceipt(**facts, ledger_index=appended.index, leaf_hash=appended.leaf_hash)
    row = {name: value for name, value in asdict(receipt).items() if name != "replayed"}
    conn.execute(t.photos.insert().values(**row))
    return receipt


def _replay(settings: Settings, existing: PhotoReceipt, source: Source) -> PhotoReceipt:
    """An already kept photo sent again: confirm the bytes, restore a lost blob, same receipt."""
    check_hash(source, settings=settings, expected_sha256=existing.sha256)
    if not photo_path(settings, existing.sha256).is_file():
        write_blob(settings, existing.sha256, source)
    return replace(existing, replayed=True)


def store_photo(
    conn: Connection, *, settings: Settings, source: Source, expected_sha256: str, uploaded_by: str
) -> PhotoReceipt:
    """Check and keep one photo within the caller's transaction (see the module doc).

    For callers that already hold a write transaction (demo data, tools). The HTTP
    routes use ``keep_photo``, which checks the image before taking the write lock.
    """
    sha = normalise_sha256(expected_sha256)
    existing = find_photo(conn, sha)
    if existing is not None:
        return _replay(settings, existing, source)
    photo = inspect_photo(source, settings=settings, expected_sha256=sha)
    write_blob(settings, sha, source)
    return record_photo(conn, photo, uploaded_by=uploaded_by)


def keep_photo(
    engine: Engine, *, settings: Settings, source: Source, expected_sha256: str, uploaded_by: str
) -> PhotoReceipt:
    """``store_photo`` in its own transaction, decoding the image outside the write lock."""
    sha = normalise_sha256(expected_sha256)
    with read(engine) as conn:
        existing = find_photo(conn, sha)
    if existing is not None:
        return _replay(settings, existing, source)
    photo = inspect_photo(source, settings=settings, expected_sha256=sha)
    write_blob(settings, sha, source)
    return write(engine, lambda conn: record_photo(conn, photo, uploaded_by=uploaded_by))
