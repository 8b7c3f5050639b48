"""The photo store seam: where the bytes of kept photos live, each named by its SHA-256.

    PhotoBlobs (protocol)
    ├── LocalFolderBlobs   <data>/photos/<sha[:2]>/<sha>: one town, one machine (the default)
    └── S3Blobs            s3://BUCKET/PREFIX on any S3-compatible store (server.photos.s3_store)

``XUNCHA_PHOTOS_URL`` chooses: unset (or ``file:``) the local folder, ``s3://BUCKET/PREFIX``
an object store reached through the standard ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` and ``AWS_REGION`` variables.

What every implementation promises:
- ``put`` returns only once the bytes are durably stored under their name and proven to be
  the bytes that name stands for (the object store checks the SHA-256 itself). Callers
  check the image before ``put`` and add the database row after it, so a row never names
  a photo the store lacks; a crash between the two leaves an unreferenced blob, which
  ``server.photos.sweep`` finds and reports.
- ``put`` of a name already kept is harmless (same name, same bytes).
- ``names`` lists every kept photo, for the sweep and for backups.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from server.infra.settings import Settings
from xuncha_core import durable

Source = bytes | Path
_HEX = frozenset("0123456789abcdef")


def is_photo_name(name: str) -> bool:
    return len(name) == 64 and set(name) <= _HEX


class PhotoBlobs(Protocol):
    """The bytes of kept photos, by SHA-256 (see the module doc for the promises)."""

    def describe(self) -> str: ...

    def put(self, sha256: str, source: Source) -> None: ...

    def has(self, sha256: str) -> bool: ...

    def read(self, sha256: str) -> bytes: ...

    def chunks(self, sha256: str, block: int = 1 << 20) -> Iterator[bytes]:
        """The photo's bytes in blocks; FileNotFoundError at once if it is not kept."""
        ...

    def delete(self, sha256: str) -> None: ...

    def names(self) -> Iterator[str]: ...


class LocalFolderBlobs:
    """Photos as files on this machine's disk, written atomically and durably (0600)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"folder {self.folder}"

    def path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / sha256

    def put(self, sha256: str, source: Source) -> None:
        final = self.path(sha256)
        if not final.parent.is_dir():
            durable.private_folder(final.parent)
            durable.fsync_folder(final.parent.parent)
        durable.replace_file(final, source)

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def chunks(self, sha256: str, block: int = 1 << 20) -> Iterator[bytes]:
        f = open(self.path(sha256), "rb")  # noqa: SIM115 - closed by the iterator; opened now, so a missing file raises here

        def read() -> Iterator[bytes]:
            with f:
                while data := f.read(block):
                    yield data

        return read()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        if not self.folder.is_dir():
            return
        for shard in sorted(os.scandir(self.folder), key=lambda e: e.name):
            if shard.is_dir() and len(shard.name) == 2:
                for entry in sorted(os.scandir(shard.path), key=lambda e: e.name):
                    if is_photo_name(entry.name) and entry.name.startswith(shard.name):
                        yield entry.name


def photos_url(env: Mapping[str, str]) -> str:
    """``XUNCHA_PHOTOS_URL`` as given, or '' for the local folder."""
    return env.get("XUNCHA_PHOTOS_URL", "").strip()


def open_blobs(url: str, *, folder: Path, env: Mapping[str, str]) -> PhotoBlobs:
    """The store ``url`` names: '' or ``file:`` the local ``folder``, ``s3://…`` an object store."""
    if url == "" or url.startswith("file:"):
        return LocalFolderBlobs(folder)
    from server.photos.s3_store import S3Blobs, S3Location  # boto3 only where it is used

    return S3Blobs(S3Location.parse(url, env))


@functools.lru_cache(maxsize=8)
def blobs_for(settings: Settings) -> PhotoBlobs:
    """The photo store the settings name, opened once per process."""
    return open_blobs(settings.photos_url, folder=settings.photos_dir, env=dict(settings.store_env))
