"""Sending one photo so that a cut costs at most one chunk.

A photo that fits in one chunk goes in a single PUT (a cut re-sends at most that chunk).
A bigger one goes through the server's resumable upload: the server keeps every byte it
received, even of a PATCH cut half-way, and answers where it stands; the phone carries on
from that offset. The chunk size follows the measured link speed, so that a chunk takes
a few seconds on 2G and a big one flies on Wi-Fi.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from field_app import clock
from field_app.messages import fail
from field_app.paths import photos_dir
from field_app.sync.errors import Offline, Refused
from field_app.sync.transport import ServerApi

MIN_CHUNK = 16 * 1024
MIN_SLICE, MAX_SLICE = 16 * 1024, 1024 * 1024
MAX_CHUNK = 1024 * 1024
SECONDS_PER_CHUNK = 4.0
# How many cuts one photo may suffer within a pass before the pass gives up (and backs off).
RETRIES_PER_PASS = 3


class ChunkSizer:
    """Picks the next chunk size from the throughput seen so far (bytes per second)."""

    def __init__(self, initial: int = 64 * 1024) -> None:
        self.rate: float | None = None
        self.initial = initial
        self.largest = 0  # the biggest chunk handed out: what one cut may cost at most

    def size(self) -> int:
        size = self.initial if self.rate is None else int(max(MIN_CHUNK, min(MAX_CHUNK, self.rate * SECONDS_PER_CHUNK)))
        self.largest = max(self.largest, size)
        return size

    def slice(self) -> int:
        """How much of a body to hand the socket at a time: about a quarter second of sending,
        so the progress bar moves smoothly on 2G and a fast link is not fed crumbs."""
        if self.rate is None:
            return MIN_SLICE
        return int(max(MIN_SLICE, min(MAX_SLICE, self.rate / 4)))

    def observe(self, sent: int, seconds: float) -> None:
        if sent < 4096 or seconds <= 0:
            return
        rate = sent / seconds
        self.rate = rate if self.rate is None else 0.5 * self.rate + 0.5 * rate

    def cut(self) -> None:
        """A cut: be more careful with the next chunk."""
        if self.rate is not None:
            self.rate /= 2


def find_photo(data_dir: Path, sha256: str, meta: dict[str, Any] | None = None) -> Path | None:
    """The file holding the photo with this hash, if the phone still has it."""
    folder = photos_dir(data_dir)
    candidates: list[Path] = []
    for key in ("path", "file", "evidence_path"):
        value = (meta or {}).get(key)
        if isinstance(value, str) and value:
            p = Path(value)
            candidates.append(p if p.is_absolute() else folder / p)
    candidates += [folder / f"{sha256}.jpg", folder / sha256, folder / sha256[:2] / sha256]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:  # another extension: scanning the folder costs a listing of every photo
        found = next((p for p in sorted(folder.glob(f"{sha256}.*")) if p.is_file()), None)
    return found


def read_photo(path: Path, sha256: str) -> bytes:
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise fail(Refused, "sync.photo_corrupt", name=path.name, sha=sha256[:12])
    return data


def upload_photo(
    api: ServerApi,
    sha256: str,
    data: bytes,
    sizer: ChunkSizer,
    on_bytes: Callable[[int], None],
    on_offset: Callable[[int], None] = lambda offset: None,
) -> dict[str, Any]:
    """Send one photo; return the server's receipt. Raises ``Offline`` after repeated cuts."""
    cuts = 0
    while True:
        try:
            return _attempt(api, sha256, data, sizer, on_bytes, on_offset, resume=cuts > 0)
        except Offline:
            sizer.cut()
            cuts += 1
            if cuts > RETRIES_PER_PASS:
                raise


def _attempt(
    api: ServerApi,
    sha256: str,
    data: bytes,
    sizer: ChunkSizer,
    on_bytes: Callable[[int], None],
    on_offset: Callable[[int], None],
    *,
    resume: bool,
) -> dict[str, Any]:
    if len(data) <= sizer.size():
        started = clock.monotonic()
        receipt = api.put_photo(sha256, data, on_bytes, sizer.slice())
        sizer.observe(len(data), clock.monotonic() - started)
        return receipt
    offset = _server_offset(api, sha256) if resume else None
    if offset is None:
        state = api.start_upload(sha256, len(data))
        if state.get("complete"):
            return state
        offset = int(state["offset"])
    busy = 0
    while True:
        on_offset(offset)
        chunk = data[offset : offset + sizer.size()]
        started = clock.monotonic()
        try:
            answer = api.patch_upload(sha256, offset, chunk, on_bytes, sizer.slice())
        except Refused as exc:
            if exc.code == "upload.busy" and busy < RETRIES_PER_PASS:
                busy += 1  # our own earlier, cut request still holds it on the server
                time.sleep(1.0)
                held = _server_offset(api, sha256)
                offset = offset if held is None else held
                continue
            if exc.code == "upload.offset_mismatch" and "offset" in exc.detail:
                offset = int(exc.detail["offset"])  # a duplicated or half-heard PATCH: go on from the server's offset
                continue
            if exc.status == 404:  # the upload finished (or expired) meanwhile: ask again
                state = api.start_upload(sha256, len(data))
                if state.get("complete"):
                    return state
                offset = int(state["offset"])
                continue
            raise
        sizer.observe(len(chunk), clock.monotonic() - started)
        if answer.get("complete"):
            return answer
        offset = int(answer["offset"])


def _server_offset(api: ServerApi, sha256: str) -> int | None:
    """Where the server's copy of an interrupted upload ends (HEAD); None if it has none."""
    try:
        return api.upload_offset(sha256)
    except Refused:
        return None


__all__ = ["ChunkSizer", "find_photo", "read_photo", "upload_photo"]
