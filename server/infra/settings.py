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
| XUNCHA_CONSOLE_IDLE_MINUTES | 30 | an office console session unused this long ends (sign in again) |
| XUNCHA_PHOTOS_URL | (the photos folder) | s3://BUCKET/PREFIX: photos in an S3-compatible store, reached through AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION |
| XUNCHA_SIGNING_KEY_FILE | {XUNCHA_DATA_DIR}/ledger_signing_key.pem (made if absent) | the ledger signing key every process shares, made once with `xuncha-server key new` |
| XUNCHA_SIGNING_KEY | (none) | the same key as PEM text, from a secret store (before the file) |
| XUNCHA_METRICS_TOKEN | (none: /metrics is off) | the bearer token a Prometheus scrape of /metrics carries |
| XUNCHA_LOG_FORMAT | json (text on a terminal) | `json`: one JSON object a line; `text`: plain lines |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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
    console_idle_minutes: float = 30.0
    photos_url: str = ""
    # The AWS_* variables the object store is reached with, kept here so that one Settings
    # says everything a process (or a test's server) uses.
    store_env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    signing_key_pem: str = field(default="", repr=False)
    signing_key_file: Path | None = None
    metrics_token: str = field(default="", repr=False)

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
            console_idle_minutes=float(env.get("XUNCHA_CONSOLE_IDLE_MINUTES", 30)),
            photos_url=env.get("XUNCHA_PHOTOS_URL", "").strip(),
            store_env=tuple(sorted((k, v) for k, v in env.items() if k.startswith("AWS_"))),
            signing_key_pem=env.get("XUNCHA_SIGNING_KEY", "").strip(),
            signing_key_file=Path(env["XUNCHA_SIGNING_KEY_FILE"]) if env.get("XUNCHA_SIGNING_KEY_FILE") else None,
            metrics_token=env.get("XUNCHA_METRICS_TOKEN", ""),
        )

    @property
    def photos_in_object_store(self) -> bool:
        return self.photos_url.startswith("s3:")

    def ensure_dirs(self) -> None:
        """Make the data folders, 0700: only the server's account may enter them (one that
        exists from before is tightened, so its files are out of others' reach too)."""
        for d in (self.data_dir, self.photos_dir, self.uploads_dir):
            durable.private_folder(d, tighten=True)
