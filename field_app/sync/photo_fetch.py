"""Photos of her records that this phone did not take: fetched when a screen shows them.

Her own records arrive on a new phone without their photos (``field_app.store.own_records``):
a history screen shows a thumbnail, fetched the first time it is shown and then kept
beside the phone's own (``photos/<sha256>.thumb.jpg``); the full-size photo is fetched
when she opens it and kept as ``photos/<sha256>.jpg``, checked against its hash first.
A photo the phone took itself is never fetched. The server decides who may read which
photo; a photo it does not hold (yet) is answered as None, as is a phone that is offline.

    thumbnail(store, data_dir, sha256) -> Path | None   the thumbnail (a file on the phone)
    thumbnails(store, data_dir, hashes) -> {sha256: Path | None}  many, on one connection, 4 at once
    full_photo(store, data_dir, sha256) -> Path | None  the full-size photo (a file on the phone)

Both block on the network: call them off the UI thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from field_app.paths import photos_dir
from field_app.photos.files import evidence_name, thumbnail_name, write_atomically
from field_app.sync.errors import DeviceRevoked, Offline, Refused
from field_app.sync.transport import ServerApi, build_client
from xuncha_core.records import SHA256_RE

JPEG_START = b"\xff\xd8"
FETCHES_AT_ONCE = 4


def thumbnail(store: Any, data_dir: Path, sha256: str, *, transport: httpx.BaseTransport | None = None) -> Path | None:
    """The photo's thumbnail on this phone: its own, one fetched before, or fetched now."""
    return thumbnails(store, data_dir, [sha256], transport=transport).get(sha256)


def thumbnails(
    store: Any, data_dir: Path, hashes: list[str], *, transport: httpx.BaseTransport | None = None
) -> dict[str, Path | None]:
    """``thumbnail`` for many photos: those not on the phone are fetched on one connection,
    a few at once (a history screen shows a page of them)."""
    folder = photos_dir(data_dir)
    found: dict[str, Path | None] = {}
    wanted = []
    for sha in dict.fromkeys(hashes):
        local = _on_phone(folder, sha)
        if local is not None or not SHA256_RE.fullmatch(sha):
            found[sha] = local
        else:
            wanted.append(sha)
    api = _api(store, transport)
    if api is None:
        return {**found, **dict.fromkeys(wanted)}
    try:
        with ThreadPoolExecutor(max_workers=FETCHES_AT_ONCE) as pool:
            for sha, data in zip(wanted, pool.map(lambda s: _get(api, s, thumbnail=True), wanted), strict=True):
                ok = data is not None and data.startswith(JPEG_START)
                found[sha] = write_atomically(folder, thumbnail_name(sha), data) if ok and data else None
    finally:
        api.close()
    return found


def _on_phone(folder: Path, sha: str) -> Path | None:
    for name in (thumbnail_name(sha), evidence_name(sha)):
        if (folder / name).is_file():
            return folder / name
    return None


def full_photo(store: Any, data_dir: Path, sha256: str, *, transport: httpx.BaseTransport | None = None) -> Path | None:
    """The full-size photo on this phone: its own, or fetched now and checked against its hash."""
    if not SHA256_RE.fullmatch(sha256):
        return None
    folder = photos_dir(data_dir)
    if (folder / evidence_name(sha256)).is_file():
        return folder / evidence_name(sha256)
    data = _fetch(store, sha256, thumbnail=False, transport=transport)
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return write_atomically(folder, evidence_name(sha256), data)


def _api(store: Any, transport: httpx.BaseTransport | None) -> ServerApi | None:
    server, token = store.get_setting("server_url"), store.get_setting("device_token")
    if not server or not token:
        return None
    return ServerApi(build_client(server, token, transport=transport, timeout=20.0))


def _get(api: ServerApi, sha256: str, *, thumbnail: bool) -> bytes | None:
    try:
        return api.photo_bytes(sha256, thumbnail=thumbnail)
    except (Offline, Refused, DeviceRevoked):
        return None


def _fetch(store: Any, sha256: str, *, thumbnail: bool, transport: httpx.BaseTransport | None) -> bytes | None:
    api = _api(store, transport)
    if api is None:
        return None
    try:
        return _get(api, sha256, thumbnail=thumbnail)
    finally:
        api.close()
