"""Sync throughput and wire overhead against a raw upload of the same bytes, in one run.

    python benchmarks/bench_sync.py [--records 1000] [--photo-kb 300] [--rounds 3] [--store folder|s3]

1. N records, each with one ~300 KB JPEG, synced by the real engine to a real server
   (SQLite) through the loopback proxy, which counts the bytes on the wire.
2. The same photo bytes sent raw, one plain PUT each, through the same proxy, (a) to a
   trivial sink that only reads the body, (b) to the real server's PUT /photos/{sha}, and
   (c) to it with as many connections as the sync uses: (c) and the sync alternate over
   ``--rounds`` rounds, each on a fresh server, and their ratio is the rounds' median (issue 12:
   ≥ 0.9).
3. A photo upload cut at 50% (by the proxy), then resumed: bytes sent again vs one chunk.

Goals (issue 4): sync ≥ 0.8 × raw throughput; bytes on the wire ≤ 1.05 × payload;
bytes sent again after a cut ≤ one chunk. Figures are printed; compare ratios, not times.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from field_app.sync.engine import UPLOADS_AT_ONCE  # noqa: E402
from field_app.sync.uploads import ChunkSizer, upload_photo  # noqa: E402
from tests.support.faulty_proxy import FaultyProxy  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402
from tests.support.object_store import SeaweedS3  # noqa: E402
from tests.support.phone import Phone, sized_jpeg  # noqa: E402
from xuncha_core.canonical import canonical_bytes  # noqa: E402


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Answer in one write: headers and body sent apart meet the client's delayed ACK
    # (~40 ms a request) and would make the "raw" figure measure that instead of the link.
    wbufsize = 1 << 16

    def do_PUT(self) -> None:
        left = int(self.headers.get("Content-Length", "0"))
        while left:
            left -= len(self.rfile.read(min(left, 1 << 20)))
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def raw_puts(
    url: str, photos: list[bytes], path: str = "/sink/{sha}", token: str | None = None, workers: int = 1
) -> float:
    """Seconds to PUT every photo, ``workers`` connections at once (each takes every n-th photo)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def send(share: list[bytes]) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for data in share:
                sha = hashlib.sha256(data).hexdigest()
                r = client.put(path.format(sha=sha), content=data)
                assert r.status_code in (200, 201), r.text

    started = time.perf_counter()
    threads = [threading.Thread(target=send, args=(photos[i::workers],)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--photo-kb", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3, help="sync and raw PUTs, alternated (the ratio is their median)")
    ap.add_argument("--store", choices=["folder", "s3"], default="folder", help="the servers' photo store (issue 12)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    s3 = SeaweedS3(tmp / "s3").start() if args.store == "s3" else None

    def store(name: str) -> dict[str, str]:
        return s3.env(prefix=name) if s3 else {}

    print(f"generating {args.records} photos of about {args.photo_kb} KB …", flush=True)
    photos = [sized_jpeg(i, args.photo_kb * 1024) for i in range(args.records)]
    photo_bytes = sum(len(p) for p in photos)

    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    servers: list[LiveServer] = []

    def fresh_server(name: str) -> LiveServer:
        srv = LiveServer(tmp / name, f"sqlite:///{tmp / (name + '.sqlite3')}", env=store(name)).start()
        servers.append(srv)
        srv.add_user("bench", "supervisor")
        return srv

    try:
        # Rounds alternate the sync and the raw PUTs with as many connections, each on a fresh
        # server, so that both meet the same load; the figure is the median of the rounds' ratios.
        sync_times: list[float] = []
        raw4_times: list[float] = []
        for n in range(args.rounds):
            server = fresh_server(f"srv{n}")
            phone = Phone(server, tmp / f"phone{n}", "bench")
            print(f"round {n + 1}: saving records to the phone's outbox …", flush=True)
            envelopes = [phone.save_recheck([p]) for p in photos]
            with FaultyProxy(server.port) as proxy:
                started = time.perf_counter()
                result = phone.sync(url=proxy.url)
                sync_times.append(time.perf_counter() - started)
                sync_up, sync_down = proxy.bytes_up, proxy.bytes_down
            assert result.receipts == args.records and result.photos_sent == args.records, result
            assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
            if n < args.rounds - 1:
                phone.close()
            raw4_server = fresh_server(f"raw4_{n}")
            with FaultyProxy(raw4_server.port) as proxy:
                raw4_times.append(raw_puts(proxy.url, photos, "/api/v1/photos/{sha}", raw4_server.enroll("bench")["token"],
                                           workers=UPLOADS_AT_ONCE))
            print(f"round {n + 1}: sync {sync_times[-1]:.2f} s, raw PUTs ({UPLOADS_AT_ONCE} connections) {raw4_times[-1]:.2f} s, "
                  f"ratio {raw4_times[-1] / sync_times[-1]:.2f}", flush=True)
        record_bytes = sum(len(canonical_bytes(e)) for e in envelopes)
        payload = photo_bytes + record_bytes
        sync_s = statistics.median(sync_times)
        real_put4_s = statistics.median(raw4_times)
        ratio4 = statistics.median(r / s for r, s in zip(raw4_times, sync_times, strict=True))

        with FaultyProxy(sink.server_address[1]) as proxy:
            sink_s = raw_puts(proxy.url, photos)
            sink_up = proxy.bytes_up
        raw_server = fresh_server("raw")
        with FaultyProxy(raw_server.port) as proxy:
            real_put_s = raw_puts(proxy.url, photos, "/api/v1/photos/{sha}", raw_server.enroll("bench")["token"])

        mb = photo_bytes / 1e6
        print()
        print(f"photos kept in: {'an S3 store (SeaweedFS on this machine)' if s3 else 'the local folder'}")
        print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        print(f"sync sends up to {UPLOADS_AT_ONCE} photos at once; the raw PUTs go one after another on one connection")
        print(f"records: {args.records}, photos: {args.records} × {photo_bytes / args.records / 1024:.0f} KB = {mb:.1f} MB, record JSON {record_bytes / 1e6:.2f} MB")
        print(f"sync (records + photos, real server, via proxy): {sync_s:7.2f} s  {mb / sync_s:7.1f} MB/s of photos")
        print(f"raw PUTs to a trivial sink (via proxy):          {sink_s:7.2f} s  {mb / sink_s:7.1f} MB/s   sync/raw throughput = {sink_s / sync_s:.2f}")
        print(f"raw PUTs to the real server's PUT /photos (via proxy): {real_put_s:7.2f} s  {mb / real_put_s:7.1f} MB/s   sync/raw throughput = {real_put_s / sync_s:.2f}")
        print(
            f"raw PUTs to the real server, {UPLOADS_AT_ONCE} connections at once: {real_put4_s:7.2f} s"
            f"  {mb / real_put4_s:7.1f} MB/s   sync/raw throughput = {ratio4:.2f} (median of {args.rounds} rounds' ratios)"
        )
        print(f"bytes on the wire, phone → server: {sync_up} = {sync_up / payload:.4f} × payload ({payload} B); raw PUTs {sink_up / photo_bytes:.4f} × photos")
        print(f"bytes on the wire, both ways: {sync_up + sync_down} = {(sync_up + sync_down) / payload:.4f} × payload")

        # a photo upload cut at 50%, then resumed
        for size_kb in (args.photo_kb, 4096):
            data = sized_jpeg(10_000 + size_kb, size_kb * 1024)
            sha = hashlib.sha256(data).hexdigest()
            sizer = ChunkSizer()
            sizer.rate = result.bytes_sent / sync_s  # the link speed the sync just measured
            chunk = sizer.size()
            with FaultyProxy(server.port) as proxy:
                api = phone.api(url=proxy.url)
                sent: list[int] = []
                proxy.arm_cut(len(data) // 2, "/api/v1/")
                receipt = upload_photo(api, sha, data, sizer, sent.append)
                api.close()
            resent = sum(sent) - len(data)
            assert receipt["sha256"] == sha
            print(
                f"photo of {len(data) / 1024:.0f} KB cut at 50% (cuts: {proxy.cuts}): sent {sum(sent)} B, "
                f"sent again {resent} B; chunk {chunk} B → {'OK' if resent <= chunk else 'OVER'} (≤ one chunk)"
            )
        phone.close()
    finally:
        sink.shutdown()
        for srv in servers:
            srv.stop()
        if s3:
            s3.stop()


if __name__ == "__main__":
    main()
