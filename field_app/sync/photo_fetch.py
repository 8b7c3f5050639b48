"""Photos of her records that this phone did not take: fetched when a screen shows them.

Her own records arrive on a new phone without their photos (``field_app.store.own_records``):
a history screen shows a thumbnail, fetched the first time it is shown and then kept
beside the phone's own (``photos/<sha256>.thumb.jpg``); the full-size photo is fetched
when she opens it and kept as ``photos/<sha256>.jpg``, checked against its hash first.
A photo the phone took itself is never fetched. The server decides who may read which
photo; a photo it does not hold (yet) is answered as None, as is a phone that is offline.

    thumbnail(store, data_dir, sha256) -> Path | None   the thumbnail (a file on the phone)
    full_photo(store, data_dir, sha256) -> Path | None  the full-size photo (a file on the phone)

Both block on the network: call them off the UI thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

from field_app.paths import photos_dir
from field_app.photos.files import evidence_name, thumbnail_name, write_atomically
from field_app.sync.errors import DeviceRevoked, Offline, Refused
from field_app.sync.transport import ServerApi, build_client
from xuncha_core.records import SHA256_RE

JPEG_START = b"\xff\xd8"


def thumbnail(store: Any, data_dir: Path, sha256: str, *, transport: httpx.BaseTransport | None = None) -> Path | None:
    """The photo's thumbnail on this phone: its own, one fetched before, or fetched now."""
    if not SHA256_RE.fullmatch(sha256):
        return None
    folder = photos_dir(data_dir)
    for name in (thumbnail_name(sha256), evidence_name(sha256)):
        if (folder / name).is_file():
            return folder / name
    data = _fetch(store, sha256, thumbnail=True, transport=transport)
    if data is None or not data.startswith(JPEG_START):
        return None
    path = write_atomically(folder, thumbnail_name(sha256), data)
    store.add_photo({"sha256": sha256, "thumbnail": path.name, "fetched": True})
    return path


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


def _fetch(store: Any, sha256: str, *, thumbnail: bool, transport: httpx.BaseTransport | None) -> bytes | None:
    server, token = store.get_setting("server_url"), store.get_setting("device_token")
    if not server or not token:
        return None
    api = ServerApi(build_client(server, token, transport=transport, timeout=20.0))
    try:
        return api.photo_bytes(sha256, thumbnail=thumbnail)
    except (Offline, Refused, DeviceRevoked):
        return None
    finally:
        api.close()
