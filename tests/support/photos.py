"""Photo upload helpers for tests: hostile files built on the spot, and what the server holds."""

from __future__ import annotations

import contextlib
import hashlib
import io
import socket
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.support.waits import DEADLINE, wait_until

if TYPE_CHECKING:
    from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT.parent / "shared" / "testdata" / "photos"  # real photos, shared by every checkout



def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, idat: bytes) -> bytes:
    """A grey PNG with this header and these compressed pixel rows."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels."""
    return png(width, height, zlib.compress(b"\0" * 64))


def png_bomb(side: int) -> bytes:
    """A real decompression bomb: ``side`` x ``side`` black pixels, all of them compressed."""
    packer = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte + pixels
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return png(side, side, body)


def jpeg_claiming(real_jpeg: bytes, width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOFn) is rewritten to declare ``width`` x ``height``."""
    data = bytearray(real_jpeg)
    pos = 2
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        seg_len = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            data[pos + 5 : pos + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        pos += 2 + seg_len
    raise ValueError("no SOF marker")


def progressive(real_jpeg: bytes) -> bytes:
    """The same picture as a progressive JPEG, as the phone writes its evidence photos."""
    from PIL import Image

    out = io.BytesIO()
    with Image.open(io.BytesIO(real_jpeg)) as image:
        image.save(out, "JPEG", quality=85, progressive=True, optimize=True)
    return out.getvalue()


def cut_with_end_marker(jpeg: bytes, fraction: float = 0.6) -> bytes:
    """The first ``fraction`` of a JPEG with an end-of-image marker appended: libjpeg then
    only warns and decodes the rest as grey."""
    return jpeg[: int(len(jpeg) * fraction)] + b"\xff\xd9"


def lying_header(width: int = 7000, height: int = 7000) -> bytes:
    """A whole 240x240 JPEG whose frame header declares ``width`` x ``height``."""
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((240, 240), 40).convert("RGB").save(out, "JPEG", quality=90)
    return jpeg_claiming(out.getvalue(), width, height)


def garbled(jpeg: bytes, at: float = 0.5, length: int = 60) -> bytes:
    """A JPEG with ``length`` bytes of its image data overwritten by others (no 0xFF)."""
    data = bytearray(jpeg)
    start = int(len(data) * at)
    for i in range(start, start + length):
        data[i] = (data[i] * 7 + 91) % 255
    return bytes(data)


def bad_huffman_code(jpeg: bytes, at: float = 0.5) -> bytes:
    """A JPEG with 64 one-bits (stuffed 0xFF bytes) put into its image data at ``at``: no
    Huffman table has an all-ones code, so a decoder meets a code no table defines."""
    where = _in_image_data(jpeg, at)
    return jpeg[:where] + b"\xff\x00" * 8 + jpeg[where:]


def junk_before_end(jpeg: bytes, count: int) -> bytes:
    """A JPEG with ``count`` stray bytes after its last block, before the end marker."""
    assert jpeg.endswith(b"\xff\xd9")
    return jpeg[:-2] + bytes(0x12 + i for i in range(count)) + b"\xff\xd9"


def junk_between_scans(jpeg: bytes, count: int, scan: int = 3) -> bytes:
    """A progressive JPEG with ``count`` stray bytes right after the image data of scan
    ``scan - 1``, before the marker that follows it."""
    headers = [i for i in range(len(jpeg) - 1) if jpeg[i] == 0xFF and jpeg[i + 1] == 0xDA]
    where = headers[scan - 2] + 2 + int.from_bytes(jpeg[headers[scan - 2] + 2 : headers[scan - 2] + 4], "big")
    while not (jpeg[where] == 0xFF and jpeg[where + 1] not in (0x00, 0xFF, *range(0xD0, 0xD8))):
        where += 1
    return jpeg[:where] + bytes(0x12 + i for i in range(count)) + jpeg[where:]


def _in_image_data(jpeg: bytes, at: float) -> int:
    """An offset ``at`` of the way into the file, moved off any marker or 0xFF byte."""
    where = int(len(jpeg) * at)
    while 0xFF in jpeg[where - 1 : where + 1]:
        where += 1
    return where


@dataclass(frozen=True)
class Holdings:
    """What the server keeps: files under photos/ and uploads/, photos rows, ledger size."""

    files: frozenset[str]
    photo_rows: frozenset[str]
    upload_rows: frozenset[str]
    ledger_size: int


def holdings(server: LiveServer) -> Holdings:
    import sqlalchemy as sa  # the server's side only: phone tests never come here

    files = frozenset(
        str(p.relative_to(server.data_dir))
        for folder in ("photos", "uploads")
        for p in (server.data_dir / folder).rglob("*")
        if p.is_file()
    )
    engine = sa.create_engine(server.database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            photos = frozenset(conn.execute(sa.text("SELECT sha256 FROM photos")).scalars())
            ups = frozenset(conn.execute(sa.text("SELECT sha256 FROM uploads")).scalars())
            size = conn.execute(sa.text("SELECT count(*) FROM ledger_entries")).scalar_one()
    finally:
        engine.dispose()
    return Holdings(files, photos, ups, int(size))


def blob(server: LiveServer, digest: str) -> Path:
    return server.data_dir / "photos" / digest[:2] / digest


def upload_in_chunks(
    c: httpx.Client, data: bytes, chunk: int, *, start: int = 0, digest: str | None = None
) -> httpx.Response:
    """PATCH ``data`` from byte ``start`` in chunks of ``chunk`` bytes (to the upload ``digest``,
    by default its own hash); the last response."""
    digest = digest or sha(data)
    offset = start
    while True:
        piece = data[offset : offset + chunk]
        r = c.patch(f"/api/v1/uploads/{digest}", content=piece, headers={"Upload-Offset": str(offset)})
        if r.status_code != 200 or offset + len(piece) >= len(data):
            return r
        offset = r.json()["offset"]


def send_rest(c: httpx.Client, data: bytes, chunk: int) -> tuple[httpx.Response, int]:
    """Finish an upload as a phone does after a cut: ask the offset, send from there.

    Answers the last response and how many body bytes were sent.
    """
    digest = sha(data)
    sent = 0
    head = c.head(f"/api/v1/uploads/{digest}")
    head.raise_for_status()
    offset = int(head.headers["Upload-Offset"])
    for _ in range(10_000):
        piece = data[offset : offset + chunk]
        r = c.patch(f"/api/v1/uploads/{digest}", content=piece, headers={"Upload-Offset": str(offset)})
        sent += len(piece)
        if r.status_code in (200, 201) and r.json().get("complete"):
            return r, sent
        if r.status_code == 200:
            offset = r.json()["offset"]
        elif r.status_code == 409 and r.json()["error"]["code"] == "upload.offset_mismatch":
            offset = r.json()["error"]["detail"]["offset"]
        elif r.status_code == 409 and r.json()["error"]["code"] == "upload.busy":
            # the server has not yet noticed the cut connection: wait until it lets go
            offset = wait_until(lambda at=offset: _offset_when_free(c, digest, at), "the cut upload to be let go") - 1
        else:
            return r, sent
    raise AssertionError("upload did not finish")


def cut_patch(url: str, token: str, digest: str, offset: int, body: bytes, send: int) -> None:
    """A PATCH whose connection drops after ``send`` of its ``len(body)`` bytes (a 2G cut)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        head = (
            f"PATCH /api/v1/uploads/{digest} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Upload-Offset: {offset}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        s.sendall(head.encode() + body[:send])
        # The line drops after these bytes: the server reads them, then the end of the
        # connection, and closes its side once it has dealt with the cut request.
        s.shutdown(socket.SHUT_WR)
        s.settimeout(DEADLINE)
        with contextlib.suppress(ConnectionError):
            while s.recv(65536):
                pass


def _offset_when_free(c: httpx.Client, digest: str, offset: int) -> int:
    """1 + the server's offset of the upload once a zero-byte PATCH is no longer refused as
    busy (0 while it still is)."""
    r = c.patch(f"/api/v1/uploads/{digest}", content=b"", headers={"Upload-Offset": str(offset)})
    if r.status_code == 409 and r.json()["error"]["code"] == "upload.busy":
        return 0
    return int(c.head(f"/api/v1/uploads/{digest}").headers["Upload-Offset"]) + 1
