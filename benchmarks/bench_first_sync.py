"""A new phone's first sync of a captain with 12 months of records, against a raw download.

    python benchmarks/bench_first_sync.py [--records 60] [--photos 150] [--photo-kb 250]

1. A captain's old phone sends N records with P photos (about 250 KB each) to a real server
   (SQLite); the office sends a few back with a reason.
2. She signs in on a new phone and syncs once through the loopback proxy, which counts the
   bytes on the wire: her records arrive (head revision, receipt, reviews), then the
   thumbnail of every photo is fetched as the history screen would show them.
3. The same number of bytes downloaded raw through the same proxy from a trivial server:
   in one GET, and in as many GETs as the sync made requests.

Goal (issue 9): bytes on the wire ≤ 1.2 × (the records' JSON + the thumbnails). Time is
printed as a ratio to the raw download in the same run; compare ratios, not times.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from field_app.store import LocalStore  # noqa: E402
from field_app.sync import photo_fetch, session  # noqa: E402
from field_app.sync.engine import SyncPass  # noqa: E402
from field_app.sync.transport import ServerApi, build_client  # noqa: E402
from tests.support.faulty_proxy import FaultyProxy  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402
from tests.support.phone import Phone, sized_jpeg  # noqa: E402
from xuncha_core.canonical import canonical_bytes  # noqa: E402

BLOB: dict[str, bytes] = {}


class _Blob(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16

    def do_GET(self) -> None:
        size = int(self.path.rsplit("/", 1)[-1])
        body = BLOB["data"][:size]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def raw_gets(url: str, sizes: list[int]) -> float:
    """Seconds to GET these many bytes, one request per size, on one connection."""
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60) as client:
        for size in sizes:
            assert len(client.get(f"/blob/{size}").content) == size
    return time.perf_counter() - started


def old_phone(server: LiveServer, tmp: Path, records: int, photos: int, photo_kb: int) -> list[dict[str, Any]]:
    """Her past year, sent from her old phone; a few records sent back by the office."""
    phone = Phone(server, tmp / "old-phone", "captain")
    per = [photos // records + (1 if i < photos % records else 0) for i in range(records)]
    made, seed = [], 0
    for n in per:
        shots = [sized_jpeg(seed + k, photo_kb * 1024) for k in range(n)]
        seed += n
        made.append(phone.save_recheck(shots, note=f"第{len(made) + 1}次复查"))
    phone.sync_until_done()
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    phone.close()
    server.add_user("office", "office_reviewer")
    with server.client(server.enroll("office", kind="browser")["token"]) as c:
        for env in made[::10]:
            r = c.post(f"/api/v1/records/{env['record_id']}/reviews",
                       json={"revision": 1, "action": "send_back", "reason": "照片不清楚，请补拍整改后的照片"})  # fmt: skip
            assert r.status_code == 201, r.text
    return made


def new_phone_first_sync(proxy: FaultyProxy, folder: Path) -> tuple[float, LocalStore, list[str], int]:
    """Sign in, then one sync and every thumbnail: (seconds, store, photo hashes, requests)."""
    store = LocalStore(folder)
    session.sign_in(store, proxy.url, username="captain", password="password-123")
    proxy.reset_counters()
    started = time.perf_counter()
    view, url, token = store.sync_session()
    api = ServerApi(build_client(url, token))
    try:
        result = SyncPass(view, api, folder).run()
    finally:
        api.close()
    records_s = time.perf_counter() - started
    shas = sorted({s for r in store.history() for s in (r.get("envelope") or {}).get("photos") or []})
    got = photo_fetch.thumbnails(store, folder, shas)
    assert all(got.values()), "a thumbnail did not come"
    seconds = time.perf_counter() - started
    print(f"  her records in {records_s:.3f} s, then {len(shas)} thumbnails in {seconds - records_s:.3f} s", flush=True)
    pages = 2 + (result.own_records + 49) // 50  # feed, own-record pages
    return seconds, store, shas, pages + len(shas)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=60)
    ap.add_argument("--photos", type=int, default=150)
    ap.add_argument("--photo-kb", type=int, default=250)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-first-sync-"))
    server = LiveServer(tmp / "srv", f"sqlite:///{tmp / 'srv.sqlite3'}").start()
    blob = ThreadingHTTPServer(("127.0.0.1", 0), _Blob)
    threading.Thread(target=blob.serve_forever, daemon=True).start()
    try:
        server.add_user("captain", "supervisor")
        print(f"her old phone sends {args.records} records with {args.photos} photos of about {args.photo_kb} KB …", flush=True)
        made = old_phone(server, tmp, args.records, args.photos, args.photo_kb)
        with FaultyProxy(server.port) as proxy:
            sync_s, store, shas, requests = new_phone_first_sync(proxy, tmp / "new-phone")
            wire_down, wire_up = proxy.bytes_down, proxy.bytes_up
        history = store.history()
        assert len(history) == len(made) and sum(r["state"] == "sent_back" for r in history) == len(made[::10])
        records_json = sum(len(canonical_bytes({k: r.get(k) for k in ("envelope", "receipt", "reviews")})) for r in history)
        thumbs = sum((tmp / "new-phone" / "photos" / f"{sha}.thumb.jpg").stat().st_size for sha in shas)
        payload = records_json + thumbs
        BLOB["data"] = os.urandom(wire_down)
        with FaultyProxy(blob.server_address[1]) as raw:
            one_s = raw_gets(raw.url, [payload])
            per = [payload // requests] * requests
            many_s = raw_gets(raw.url, per)
        print()
        print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        print(f"her records: {len(history)} ({len(made[::10])} sent back), photos: {len(shas)}; full photos downloaded: 0")
        print(f"records' JSON {records_json} B + thumbnails {thumbs} B ({thumbs / max(1, len(shas)) / 1024:.1f} KB each) = {payload} B")
        print(f"bytes on the wire, both ways: {wire_down + wire_up} = {(wire_down + wire_up) / payload:.3f} × (records' JSON + thumbnails)"
              f"  → {'OK' if wire_down + wire_up <= 1.2 * payload else 'OVER'} (≤ 1.2)")  # fmt: skip
        print(f"  (server → phone {wire_down} B, phone → server {wire_up} B; the full photos would be "
              f"{sum(len(sized_jpeg(0, args.photo_kb * 1024)) for _ in range(1)) * len(shas) / 1e6:.1f} MB)")  # fmt: skip
        print(f"first sync (records + every thumbnail, {requests} requests): {sync_s:.3f} s")
        print(f"raw download of the same bytes, one GET:          {one_s:.4f} s   sync/raw time = {sync_s / one_s:.1f}")
        print(f"raw download of the same bytes, {requests} GETs:  {many_s:.3f} s   sync/raw time = {sync_s / many_s:.2f}")
        store.close()
    finally:
        blob.shutdown()
        server.stop()


if __name__ == "__main__":
    main()
