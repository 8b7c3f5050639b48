"""Settings from environment variables, with documented defaults.

| variable | default | meaning |
|---|---|---|
| XUNCHA_DATA_DIR | ./data | folder for the SQLite file, photos, uploads and the signing key |
| XUNCHA_DATABASE_URL | sqlite:///{XUNCHA_DATA_DIR}/xuncha.sqlite3 | SQLAlchemy URL; postgresql+psycopg://… for larger deployments |
| XUNCHA_MAX_PHOTO_BYTES | 20000000 | largest photo accepted, in bytes |
| XUNCHA_MAX_PHOTO_PIXELS | 50000000 | largest photo accepted, in pixels (decompression bombs are refused) |
| XUNCHA_UPLOAD_CHUNK_BYTES | 262144 | chunk size the server advises for resumable uploads |
| XUNCHA_UPLOAD_EXPIRY_DAYS | 7 | a resumable upload with no byte received for this many days is deleted |
| XUNCHA_MAX_OPEN_UPLOADS | 50 | unfinished resumable uploads one user may have at once |
| XUNCHA_MAX_OPEN_UPLOAD_BYTES | 200000000 | their declared lengths added up, per user |
| XUNCHA_SQLITE_SYNCHRONOUS | FULL | SQLite synchronous pragma; FULL survives power loss, NORMAL only a crash |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from xuncha_core import durable


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    max_photo_bytes: int = 20_000_000
    max_photo_pixels: int = 50_000_000
    upload_chunk_bytes: int = 256 * 1024
    upload_expiry_days: float = 7.0
    max_open_uploads: int = 50
    max_open_upload_bytes: int = 200_000_000
    sqlite_synchronous: str = "FULL"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "ledger_signing_key.pem"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("XUNCHA_DATA_DIR", "./data")).resolve()
        url = env.get("XUNCHA_DATABASE_URL") or f"sqlite:///{data_dir / 'xuncha.sqlite3'}"
        return cls(
            data_dir=data_dir,
            database_url=url,
            max_photo_bytes=int(env.get("XUNCHA_MAX_PHOTO_BYTES", 20_000_000)),
            max_photo_pixels=int(env.get("XUNCHA_MAX_PHOTO_PIXELS", 50_000_000)),
            upload_chunk_bytes=int(env.get("XUNCHA_UPLOAD_CHUNK_BYTES", 256 * 1024)),
            upload_expiry_days=float(env.get("XUNCHA_UPLOAD_EXPIRY_DAYS", 7)),
            max_open_uploads=int(env.get("XUNCHA_MAX_OPEN_UPLOADS", 50)),
            max_open_upload_bytes=int(env.get("XUNCHA_MAX_OPEN_UPLOAD_BYTES", 200_000_000)),
            sqlite_synchronous=env.get("XUNCHA_SQLITE_SYNCHRONOUS", "FULL").upper(),
        )

    def ensure_dirs(self) -> None:
        """Make the data folders, 0700: only the server's account may enter them (one that
        exists from before is tightened, so its files are out of others' reach too)."""
        for d in (self.data_dir, self.photos_dir, self.uploads_dir):
            durable.private_folder(d, tighten=True)
