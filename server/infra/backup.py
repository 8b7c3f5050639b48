"""``xuncha-server backup --out DIR``: an online, consistent copy of the record and its photos.

While the server runs, one read-only snapshot transaction (SQLite: a WAL read
transaction; PostgreSQL: REPEATABLE READ) copies every table row by row, and signs the
ledger checkpoint as that snapshot sees it. Every photo a ``photos`` row of the snapshot
names is then copied from the photo store, hash-checked on the way (a photo is stored
before its row is written, so each one is there). The same backup restores into SQLite or
PostgreSQL (``server.infra.restore``).

    DIR/backup.json           what was taken, when, from which schema; written last, so a
                              folder without it is an unfinished backup
    DIR/checkpoint.json       the signed checkpoint the backup was taken at
    DIR/tables/<name>.jsonl   the rows, one JSON object a line (bytes as base64)
    DIR/photos/<sha[:2]>/<sha>   the photos (``photos="copy"``), or
    DIR/photos.jsonl          a manifest of them (``photos="manifest"``: for a store that
                              keeps its own copies, such as a versioned, replicated bucket)
    DIR/ledger_signing_key.pem   the signing key, when it is a file of the server's: the
                              folder is then as secret as the key itself (mode 0700)

Photos already in DIR (an earlier backup into the same folder) are not copied again:
they are immutable and named by their hash.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, LargeBinary, Table, select

from server.infra import tables as t
from server.ledger import signing
from server.photos.blobs import PhotoBlobs
from xuncha_core import durable
from xuncha_core.checkpoint import CheckpointJson
from xuncha_core.errors import IntegrityError

FORMAT = "xuncha-backup/v1"
# In-flight uploads are not part of the record: a phone whose upload is cut by a restore
# starts that photo again.
SKIPPED_TABLES = frozenset({"uploads", "upload_parts", "upload_receiving", "schema_migrations"})


@dataclass(frozen=True)
class BackupSummary:
    folder: Path
    checkpoint: CheckpointJson
    rows: dict[str, int]
    photos: int
    photos_copied: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "checkpoint": self.checkpoint,
            "rows": self.rows,
            "photos": self.photos,
            "photos_copied": self.photos_copied,
        }


def backed_up_tables() -> list[Table]:
    """The tables a backup holds, parents before children."""
    return [table for table in t.metadata.sorted_tables if table.name not in SKIPPED_TABLES]


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one consistent state of the whole database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn
        else:
            with conn.begin():
                yield conn


def to_json(table: Table, row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        value = row[column.name]
        if isinstance(column.type, LargeBinary) and value is not None:
            value = base64.b64encode(bytes(value)).decode("ascii")
        out[column.name] = value
    return out


def _dump_table(conn: Connection, table: Table, folder: Path) -> int:
    count = 0
    order = list(table.primary_key.columns) or list(table.columns)
    path = folder / f"{table.name}.jsonl"
    with durable.new_private_file(path) as out:
        rows = (
            conn.execution_options(yield_per=2000)
            .execute(select(table).order_by(*order))
            .mappings()
        )
        for row in rows:
            out.write(
                json.dumps(to_json(table, row), ensure_ascii=False, sort_keys=True).encode() + b"\n"
            )
            count += 1
        out.flush()
        os.fsync(out.fileno())
    return count


def _copy_photo(blobs: PhotoBlobs, sha256: str, size: int, folder: Path) -> bool:
    """Copy one photo into ``folder``, checking its hash; False if it was there already."""
    final = folder / sha256[:2] / sha256
    if final.is_file() and final.stat().st_size == size:
        return False
    durable.private_folder(final.parent)
    durable.replace_file(final, io.BufferedReader(_CheckedStream(blobs, sha256), 1 << 20))  # never whole in memory
    return True


class _CheckedStream(io.RawIOBase):
    """A kept photo's bytes as a stream, read block by block, that raises at its end unless
    they hash to its name (the copy being written is then dropped, never put in place)."""

    def __init__(self, blobs: PhotoBlobs, sha256: str) -> None:
        self.blobs, self.sha256 = blobs, sha256
        self.blocks = blobs.chunks(sha256)
        self.digest = hashlib.sha256()
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            block = next(self.blocks, None)
            if block is None:
                self._check()
                return 0
            self.digest.update(block)
            self.pending = block
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def _check(self) -> None:
        if self.digest.hexdigest() != self.sha256:
            raise IntegrityError(
                code="backup.photo_damaged",
                message=f"Photo {self.sha256} in {self.blobs.describe()} does not match its hash; restore it from an earlier backup, then back up again.",
                message_zh=f"照片 {self.sha256} 与其哈希值不符，请先从较早的备份恢复该照片，再重新备份。",
                detail={"sha256": self.sha256},
            )


def take_backup(
    engine: Engine,
    blobs: PhotoBlobs,
    *,
    out: Path,
    signing_key: Ed25519PrivateKey,
    signing_key_file: Path | None = None,
    photos: str = "copy",
) -> BackupSummary:
    """Write a backup of the database and photos into ``out`` (see the module doc)."""
    if photos not in ("copy", "manifest"):
        raise ValueError(photos)
    durable.private_folder(out)
    (out / "backup.json").unlink(missing_ok=True)
    tables_dir = out / "tables"
    shutil.rmtree(tables_dir, ignore_errors=True)
    durable.private_folder(tables_dir)
    rows: dict[str, int] = {}
    with snapshot(engine) as conn:
        checkpoint = signing.current_checkpoint(conn, signing_key).as_dict()
        versions = sorted(
            int(v) for v in conn.execute(select(t.schema_migrations.c.version)).scalars()
        )
        for table in backed_up_tables():
            rows[table.name] = _dump_table(conn, table, tables_dir)
        kept = [
            (r.sha256, int(r.size))
            for r in conn.execute(
                select(t.photos.c.sha256, t.photos.c.size).order_by(t.photos.c.sha256)
            )
        ]
    copied = 0
    if photos == "copy":
        for sha256, size in kept:
            copied += _copy_photo(blobs, sha256, size, out / "photos")
    else:
        manifest = b"".join(json.dumps({"sha256": s, "size": n}).encode() + b"\n" for s, n in kept)
        durable.replace_file(out / "photos.jsonl", manifest)
    if signing_key_file is not None and signing_key_file.is_file():
        durable.replace_file(out / "ledger_signing_key.pem", signing_key_file.read_bytes())
    durable.replace_file(out / "checkpoint.json", json.dumps(checkpoint, indent=2).encode())
    meta = {
        "format": FORMAT,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": engine.dialect.name,
        "schema_versions": versions,
        "checkpoint": checkpoint,
        "rows": rows,
        "photos": {"mode": photos, "count": len(kept), "store": blobs.describe()},
    }
    durable.replace_file(
        out / "backup.json", json.dumps(meta, indent=2, ensure_ascii=False).encode()
    )
    durable.fsync_folder(out)
    return BackupSummary(out, checkpoint, rows, len(kept), copied)
