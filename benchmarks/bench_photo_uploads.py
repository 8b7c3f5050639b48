"""Server-side photo intake figures (run by hand: ``python benchmarks/bench_photo_uploads.py``).

Makes N distinct camera-like JPEGs of about 300 KB (a real phone photo, resized, one pixel
changed each), then, against a real server on an SQLite data folder over loopback:

1. the check alone, in process: re-hash + header + full decode (1/8-scale DCT for JPEG);
2. whole uploads (PUT), one client;
3. resumable uploads (POST + PATCH in 256 KB chunks, each fsynced), one client;
4. the raw baseline: the same bytes PUT to a bare uvicorn app that only reads the body.

Prints photos/s and MB/s for each, and each upload path as a ratio of the raw baseline in
the same run. Options: --photos N, --chunk BYTES, --source JPEG.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.infra.settings import Settings  # noqa: E402
from server.photos.checks import inspect_photo  # noqa: E402
from tests.support.live_server import LiveServer, free_port  # noqa: E402

SINK = textwrap.dedent(
    """
    import sys, uvicorn
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    """
)


def make_photos(source: Path, count: int) -> list[bytes]:
    base = Image.open(source).convert("RGB").resize((1600, 1200))
    photos = []
    for i in range(count):
        img = base.copy()
        img.putpixel((i % 1600, i // 1600), (i % 256, 0, 0))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=88)
        photos.append(out.getvalue())
    return photos


def rate(label: str, seconds: float, photos: list[bytes], raw: float | None = None) -> float:
    mb = sum(map(len, photos)) / 1e6
    ratio = f"  {raw / seconds:.2f} of raw throughput" if raw else ""
    print(f"{label:<34} {len(photos) / seconds:8.1f} photos/s  {mb / seconds:7.1f} MB/s{ratio}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--chunk", type=int, default=256 * 1024)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared/testdata/photos/mobile_jolla.jpg")
    args = parser.parse_args()
    photos = make_photos(args.source, args.photos * 2)
    put_set, patch_set = photos[: args.photos], photos[args.photos :]
    print(f"{args.photos} photos per run, mean {sum(map(len, put_set)) / len(put_set) / 1e3:.0f} KB")

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url="unused")
        t0 = time.perf_counter()
        for p in put_set:
            inspect_photo(p, settings=settings, expected_sha256=hashlib.sha256(p).hexdigest())
        rate("check only (hash + decode)", time.perf_counter() - t0, put_set)

        port = free_port()
        sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)])
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
                for _ in range(50):
                    try:
                        c.get("/")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                t0 = time.perf_counter()
                for p in put_set:
                    c.put("/raw", content=p)
                raw = rate("raw PUT to a bare uvicorn app", time.perf_counter() - t0, put_set)
        finally:
            sink.terminate()
            sink.wait()

        srv = LiveServer(Path(tmp) / "data", f"sqlite:///{tmp}/data/xuncha.sqlite3").start()
        try:
            srv.add_user("bench", "supervisor")
            token = srv.enroll("bench")["token"]
            with srv.client(token) as c:
                t0 = time.perf_counter()
                for p in put_set:
                    assert c.put(f"/api/v1/photos/{hashlib.sha256(p).hexdigest()}", content=p).status_code == 201
                rate("whole upload (PUT)", time.perf_counter() - t0, put_set, raw)
                t0 = time.perf_counter()
                for p in patch_set:
                    digest = hashlib.sha256(p).hexdigest()
                    c.post("/api/v1/uploads", json={"sha256": digest, "length": len(p)}).raise_for_status()
                    for offset in range(0, len(p), args.chunk):
                        r = c.patch(
                            f"/api/v1/uploads/{digest}",
                            content=p[offset : offset + args.chunk],
                            headers={"Upload-Offset": str(offset)},
                        )
                        r.raise_for_status()
                    assert r.json()["complete"]
                rate(f"resumable ({args.chunk // 1024} KB chunks)", time.perf_counter() - t0, patch_set, raw)
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
