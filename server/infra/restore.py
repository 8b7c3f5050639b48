"""``xuncha-server restore DIR``: a backup (``server.infra.backup``) into an empty database and store.

The database must be empty (a restore never merges into a record that is already in
use). It is migrated to this version's schema, which must be the backup's; the rows go in
parents first, in batches, in one transaction; PostgreSQL's id sequences are moved past the
restored ids. Then the restored ledger is checked against the signed checkpoint the backup
was taken at (same size, same root: the phones' receipts and the auditors' checkpoints
still prove), and every photo is put back into the store, hash-checked (or, from a
manifest, found there).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Integer, LargeBinary, Table, func, select

from server.infra.backup import FORMAT, backed_up_tables
from server.infra.db import read
from server.infra.migrations import MIGRATIONS, migrate
from server.infra.writer import write
from server.ledger import proofs, store
from server.photos.blobs import PhotoBlobs
from xuncha_core.checkpoint import Checkpoint, verify
from xuncha_core.errors import ConflictError, IntegrityError, NotFoundError

_BATCH = 1000


@dataclass(frozen=True)
class RestoreSummary:
    checkpoint: dict[str, Any]
    rows: dict[str, int]
    photos: int

    def as_dict(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "rows": self.rows, "photos": self.photos}


def _fail(
    code: str, message: str, message_zh: str, cls: type = IntegrityError, **detail: Any
) -> Exception:
    error: Exception = cls(code=code, message=message, message_zh=message_zh, detail=detail)
    return error


def read_backup(folder: Path) -> dict[str, Any]:
    """The backup's description, once it is a finished backup this version can restore."""
    try:
        meta = json.loads((folder / "backup.json").read_text("utf-8"))
    except FileNotFoundError:
        raise _fail(
            "restore.not_a_backup",
            f"{folder} holds no finished backup (backup.json is missing). Choose a complete backup folder.",
            f"{folder} 中没有完整的备份（缺少 backup.json），请选择一个完整的备份文件夹。",
            NotFoundError,
        ) from None
    if meta.get("format") != FORMAT:
        raise _fail(
            "restore.unknown_format",
            f"{folder} is not a {FORMAT} backup.",
            f"{folder} 不是可识别的备份格式。",
        )
    ours = sorted(version for version, _name, _fn in MIGRATIONS)
    if meta.get("schema_versions") != ours:
        raise _fail(
            "restore.other_version",
            f"The backup has schema versions {meta.get('schema_versions')}, this server {ours}. "
            "Restore with the server version that took the backup, then upgrade.",
            "备份的数据库结构版本与本服务器不同，请用做备份时的服务器版本恢复后再升级。",
            ConflictError,
        )
    return meta


def _check_empty(engine: Engine) -> None:
    with read(engine) as conn:
        used = {
            table.name
            for table in backed_up_tables()
            if conn.execute(select(func.count()).select_from(table)).scalar()
        }
    if used:
        raise _fail(
            "restore.not_empty",
            f"The database already holds data ({', '.join(sorted(used))}); a backup is restored only into an empty database.",
            "目标数据库已有数据；备份只能恢复到空数据库中。",
            ConflictError,
            tables=sorted(used),
        )


def _from_json(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for column in table.columns:
        if isinstance(column.type, LargeBinary) and out.get(column.name) is not None:
            out[column.name] = base64.b64decode(out[column.name])
    return out


def _load_rows(conn: Connection, folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in backed_up_tables():
        path = folder / "tables" / f"{table.name}.jsonl"
        counts[table.name] = 0
        if not path.exists():
            continue
        batch: list[dict[str, Any]] = []
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                batch.append(_from_json(table, json.loads(line)))
                if len(batch) >= _BATCH:
                    conn.execute(table.insert(), batch)
                    counts[table.name] += len(batch)
                    batch = []
        if batch:
            conn.execute(table.insert(), batch)
            counts[table.name] += len(batch)
    if conn.dialect.name == "postgresql":
        for table in backed_up_tables():
            for column in table.primary_key.columns:
                if isinstance(column.type, Integer) and column.autoincrement is not False:
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
    return counts


def _check_ledger(conn: Connection, checkpoint: Checkpoint) -> None:
    size = store.size(conn)
    root = proofs.root_at(conn, checkpoint.size) if size >= checkpoint.size else b""
    if size != checkpoint.size or root != checkpoint.root:
        raise _fail(
            "restore.ledger_mismatch",
            f"The restored ledger (size {size}) is not the one the backup's checkpoint signs (size {checkpoint.size}). The backup is damaged: use another.",
            "恢复后的账本与备份检查点不符，备份已损坏，请换用其他备份。",
        )


def _restore_photos(blobs: PhotoBlobs, folder: Path, meta: dict[str, Any]) -> int:
    manifest = folder / "photos.jsonl"
    wanted = (
        [json.loads(line)["sha256"] for line in manifest.read_text().splitlines()]
        if manifest.exists()
        else []
    )
    if meta["photos"]["mode"] == "manifest":
        missing = [sha for sha in wanted if not blobs.has(sha)]
        if missing:
            raise _fail(
                "restore.photos_missing",
                f"{len(missing)} photos the backup names are not in {blobs.describe()}; restore them into the store first.",
                f"备份所列照片中有 {len(missing)} 张不在照片存储中，请先将其恢复到存储。",
                missing=missing[:20],
            )
        return len(wanted)
    count = 0
    for path in sorted((folder / "photos").glob("*/*")):
        with open(path, "rb") as f:  # read in blocks: a photo is never held whole in memory
            actual = hashlib.file_digest(f, "sha256").hexdigest()
        if actual != path.name:
            raise _fail(
                "restore.photo_damaged",
                f"The backup's copy of photo {path.name} is damaged. Use another backup.",
                "备份中的照片副本已损坏，请换用其他备份。",
                sha256=path.name,
            )
        blobs.put(path.name, path)  # streamed from the file (an object store checks the hash again)
        count += 1
    return count


def restore_backup(engine: Engine, blobs: PhotoBlobs, *, folder: Path) -> RestoreSummary:
    """Restore ``folder`` into the empty database behind ``engine`` and into ``blobs``."""
    meta = read_backup(folder)
    checkpoint = Checkpoint.from_dict(meta["checkpoint"])
    verify(checkpoint)
    migrate(engine)
    _check_empty(engine)
    photos = _restore_photos(blobs, folder, meta)  # first: a row never names a missing photo

    def load(conn: Connection) -> dict[str, int]:  # all rows or none
        rows = _load_rows(conn, folder)
        _check_ledger(conn, checkpoint)
        if meta["photos"]["mode"] == "copy" and photos < rows.get("photos", 0):
            raise _fail(
                "restore.photos_missing",
                f"The backup holds {photos} photos but its record names {rows['photos']}. Use a complete backup.",
                "备份中的照片数量少于记录所引用的数量，请使用完整的备份。",
            )
        return rows

    rows = write(engine, load)
    return RestoreSummary(meta["checkpoint"], rows, photos)
