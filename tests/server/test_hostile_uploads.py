"""Hostile photo uploads: each is refused with a clear 4xx and a stable code, and nothing is kept.

Every bad file is sent both ways a phone can send it (one PUT, or resumable
chunks) to a real server on each database backend. Afterwards no file is left
under photos/ or uploads/, there is no photos or uploads row, and the ledger has
not grown.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import PHOTOS
from tests.support.databases import backends, fresh_database
from tests.support.live_server import LiveServer
from tests.support.photos import (
    cut_with_end_marker,
    garbled,
    holdings,
    jpeg_claiming,
    lying_header,
    png_bomb,
    png_claiming,
    progressive,
    sha,
)

LIMIT = 300_000  # bytes; the real camera JPEGs (about 140 KB) fit, the 811 KB phone photo does not
CHUNK = 64 * 1024


@pytest.fixture(scope="module", params=backends())
def hostile(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """One server per backend with a small byte limit, and a supervisor's token."""
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    with fresh_database(request.param, tmp) as url:
        srv = LiveServer(tmp / "data", url, env={"XUNCHA_MAX_PHOTO_BYTES": str(LIMIT)}).start()
        try:
            srv.add_user("wang", "supervisor")
            yield srv, srv.enroll("wang")["token"]
        finally:
            srv.stop()


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(out, "GIF")
    return out.getvalue()


def _png_photo() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((240, 180), 60).convert("RGB").save(out, "PNG")
    return out.getvalue()


CAMERA = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()

# name -> (bytes, hash the phone claims (None: the true one), status, code)
CASES: dict[str, Callable[[], tuple[bytes, str | None, int, str]]] = {
    "text file": lambda: (b"Village 7: all clean, see photos.\n" * 40, None, 422, "photo.not_an_image"),
    "gif": lambda: (_gif(), None, 422, "photo.not_an_image"),
    "heif from an iPhone": lambda: ((PHOTOS / "heic_samplefilehub.heif").read_bytes(), None, 422, "photo.not_an_image"),
    "jpeg cut in half": lambda: (CAMERA[: len(CAMERA) // 2], None, 422, "photo.truncated"),
    "jpeg missing its last bytes": lambda: (CAMERA[:-64], None, 422, "photo.truncated"),
    # Issue 7: libjpeg only warns about these and decodes the missing part as grey.
    "jpeg cut at 60% with an end marker appended": lambda: (cut_with_end_marker(CAMERA), None, 422, "photo.truncated"),
    "progressive jpeg cut at 60% with an end marker appended": lambda: (
        cut_with_end_marker(progressive(CAMERA)),
        None,
        422,
        "photo.truncated",
    ),
    "240x240 jpeg whose header says 7000x7000": lambda: (lying_header(7000, 7000), None, 422, "photo.truncated"),
    "jpeg with garbage in its image data": lambda: (garbled(CAMERA), None, 422, "photo.corrupt"),
    "progressive jpeg with garbage in its image data": lambda: (garbled(progressive(CAMERA)), None, 422, "photo.corrupt"),
    "png cut short": lambda: (_png_photo()[:-2000], None, 422, "photo.truncated"),
    "oversized phone photo": lambda: ((PHOTOS / "mobile_jolla.jpg").read_bytes(), None, 413, "photo.too_large"),
    "png declaring 30000x30000": lambda: (png_claiming(30000, 30000), None, 422, "photo.too_many_pixels"),
    "png bomb of 8000x8000 zeros": lambda: (png_bomb(8000), None, 422, "photo.too_many_pixels"),
    "jpeg declaring 65000x65000": lambda: (jpeg_claiming(CAMERA, 65000, 65000), None, 422, "photo.too_many_pixels"),
    "wrong hash": lambda: (CAMERA, sha(b"another photo"), 422, "photo.hash_mismatch"),
}


def _send_whole(c: httpx.Client, data: bytes, digest: str) -> httpx.Response:
    return c.put(f"/api/v1/photos/{digest}", content=data)


def _send_resumable(c: httpx.Client, data: bytes, digest: str) -> httpx.Response:
    created = c.post("/api/v1/uploads", json={"sha256": digest, "length": len(data)})
    if created.status_code != 201:
        return created
    last = None
    offset = 0
    while offset < len(data):
        last = c.patch(
            f"/api/v1/uploads/{digest}", content=data[offset : offset + CHUNK], headers={"Upload-Offset": str(offset)}
        )
        if last.status_code != 200:
            return last
        offset = last.json()["offset"]
    assert last is not None
    return last


@pytest.mark.parametrize("how", ["whole", "resumable"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_refused_with_its_code_and_nothing_is_kept(
    hostile: tuple[LiveServer, str], case: str, how: str
) -> None:
    srv, token = hostile
    data, claimed, status, code = CASES[case]()
    before = holdings(srv)
    send = _send_whole if how == "whole" else _send_resumable
    with srv.client(token) as c:
        r = send(c, data, claimed or sha(data))
        after = holdings(srv)
        follow_up = c.post("/api/v1/photos/missing", json={"hashes": [claimed or sha(data)]}).json()
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    err = r.json()["error"]
    assert err["message"] and err["message_zh"] and err["message"] != err["message_zh"]
    assert after == before
    assert not any(f.endswith((".tmp", ".part")) for f in after.files)
    assert follow_up["missing"] == [claimed or sha(data)]


def test_empty_file_is_not_a_photo_either_way(hostile: tuple[LiveServer, str]) -> None:
    srv, token = hostile
    before = holdings(srv)
    with srv.client(token) as c:
        whole = c.put(f"/api/v1/photos/{sha(b'')}", content=b"")
        resumable = c.post("/api/v1/uploads", json={"sha256": sha(b""), "length": 0})
    for r in (whole, resumable):
        assert r.status_code == 422 and r.json()["error"]["code"] == "photo.not_an_image", r.text
    assert holdings(srv) == before


def test_heif_refusal_tells_the_user_the_app_sends_jpeg(hostile: tuple[LiveServer, str]) -> None:
    srv, token = hostile
    data = (PHOTOS / "heic_samplefilehub.heif").read_bytes()
    with srv.client(token) as c:
        err = c.put(f"/api/v1/photos/{sha(data)}", content=data).json()["error"]
    assert "JPEG" in err["message"] and "JPEG" in err["message_zh"] and err["detail"]["format"] == "heif"


def test_oversized_stream_without_length_is_cut_off_at_the_limit(hostile: tuple[LiveServer, str]) -> None:
    srv, token = hostile
    data = (PHOTOS / "mobile_jolla.jpg").read_bytes()
    before = holdings(srv)

    def body() -> Iterator[bytes]:  # no Content-Length: the server only finds out by counting
        for i in range(0, len(data), 16 * 1024):
            yield data[i : i + 16 * 1024]

    with srv.client(token) as c:
        r = c.put(f"/api/v1/photos/{sha(data)}", content=body())
    assert r.status_code == 413 and r.json()["error"]["code"] == "photo.too_large"
    assert r.json()["error"]["detail"]["limit"] == LIMIT
    assert holdings(srv) == before


def test_resumable_upload_longer_than_the_limit_is_refused_at_creation(hostile: tuple[LiveServer, str]) -> None:
    srv, token = hostile
    before = holdings(srv)
    with srv.client(token) as c:
        r = c.post("/api/v1/uploads", json={"sha256": sha(b"x"), "length": LIMIT + 1})
    assert r.status_code == 413 and r.json()["error"]["code"] == "photo.too_large"
    assert holdings(srv) == before


def test_chunk_past_the_declared_length_is_refused_and_undone(hostile: tuple[LiveServer, str]) -> None:
    srv, token = hostile
    data = CAMERA
    with srv.client(token) as c:
        c.post("/api/v1/uploads", json={"sha256": sha(data), "length": 1000})
        r = c.patch(f"/api/v1/uploads/{sha(data)}", content=data[:5000], headers={"Upload-Offset": "0"})
        head = c.head(f"/api/v1/uploads/{sha(data)}")
    assert r.status_code == 413 and r.json()["error"]["code"] == "upload.past_length"
    assert head.headers["Upload-Offset"] == "0"


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_decompression_bombs_are_refused_without_decoding_them(hostile: tuple[LiveServer, str]) -> None:
    srv, token = hostile
    assert srv.proc is not None
    bombs = [png_bomb(8000), png_claiming(30000, 30000), jpeg_claiming(CAMERA, 65000, 65000)]
    with srv.client(token) as c:
        half = CAMERA[: len(CAMERA) // 2]
        c.put(f"/api/v1/photos/{sha(half)}", content=half)  # warm the decoder up
        # Reset the peak (argon2 sign-ins alone reach 64 MB), so only what follows is measured.
        Path(f"/proc/{srv.proc.pid}/clear_refs").write_text("5")
        peak_before = _peak_rss_kb(srv.proc.pid)
        codes = [c.put(f"/api/v1/photos/{sha(b)}", content=b).json()["error"]["code"] for b in bombs]
    grown_mb = (_peak_rss_kb(srv.proc.pid) - peak_before) / 1024
    assert codes == ["photo.too_many_pixels"] * 3
    # Decoding the smallest bomb would need 64 MB (8000 x 8000 grey bytes); the largest, 12 GB.
    assert grown_mb < 32, f"server peak memory grew by {grown_mb:.0f} MB"


def test_jpeg_whose_only_flaw_is_unterminated_xmp_is_kept_since_every_pixel_decodes(
    hostile: tuple[LiveServer, str],
) -> None:
    # invalid_image01551.jpg is labelled broken, but its JPEG structure and scan are whole (its XMP
    # packet lacks the closing "?>"); the server judges pixels, not metadata, so it keeps it as sent.
    srv, token = hostile
    data = (PHOTOS / "invalid_image01551.jpg").read_bytes()
    with srv.client(token) as c:
        r = c.put(f"/api/v1/photos/{sha(data)}", content=data)
        back = c.get(f"/api/v1/photos/{sha(data)}")
    assert r.status_code in (200, 201), r.text
    assert (r.json()["width"], r.json()["height"], r.json()["mime"]) == (61, 58, "image/jpeg")
    assert back.status_code == 200 and sha(back.content) == sha(data)


def test_only_field_roles_may_upload(hostile: tuple[LiveServer, str]) -> None:
    srv, _ = hostile
    srv.add_user("zhao", "office_reviewer")
    token = srv.enroll("zhao")["token"]
    before = holdings(srv)
    with srv.client(token) as c:
        put = c.put(f"/api/v1/photos/{sha(CAMERA)}", content=CAMERA)
        post = c.post("/api/v1/uploads", json={"sha256": sha(CAMERA), "length": len(CAMERA)})
    with httpx.Client(base_url=srv.url) as anonymous:
        anon = anonymous.put(f"/api/v1/photos/{sha(CAMERA)}", content=CAMERA)
    assert [put.status_code, post.status_code, anon.status_code] == [403, 403, 401]
    assert holdings(srv) == before
