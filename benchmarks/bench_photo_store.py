"""Photo upload throughput into an S3 store against the local folder, as a ratio, in one run.

    python benchmarks/bench_photo_store.py [--photos 300] [--photo-kb 300] [--clients 8] [--rounds 2]

Two real servers on PostgreSQL (SQLite if ``--sqlite``), one keeping photos in its folder,
one in a SeaweedFS S3 store on this machine; the same photos go to each as whole
``PUT /photos/{sha}`` with ``--clients`` connections, the two alternating over ``--rounds``
(fresh photos each round) so that the machine's other work falls on both alike. Printed:
photos/s and MB/s for each, and S3 / folder. The S3 store is on loopback here: a store
across a network adds its round trip to each photo, which more connections hide.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.clients import timed_clients  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402
from tests.support.object_store import SeaweedS3  # noqa: E402
from tests.support.phone import sized_jpeg  # noqa: E402


def put_all(server: LiveServer, token: str, photos: list[bytes], clients: int) -> float:
    """Seconds to PUT every photo with ``clients`` connections; every one must be kept."""
    shares = [photos[i::clients] for i in range(clients)]
    failures: list[str] = []

    def send(share: list[bytes]) -> None:
        with server.client(token) as c:
            for photo in share:
                r = c.put(f"/api/v1/photos/{hashlib.sha256(photo).hexdigest()}", content=photo)
                if r.status_code != 201:
                    failures.append(r.text[:200])

    return timed_clients([functools.partial(send, s) for s in shares], failures)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=300, help="photos per round per store")
    ap.add_argument("--photo-kb", type=int, default=300)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        s3 = SeaweedS3(tmp / "s3").start()
        backend = "sqlite" if args.sqlite else "postgres"
        (tmp / "a").mkdir()
        (tmp / "b").mkdir()
        with fresh_database(backend, tmp / "a") as url_a, fresh_database(backend, tmp / "b") as url_b:
            servers = {
                "folder": LiveServer(tmp / "folder", url_a),
                "s3": LiveServer(tmp / "s3srv", url_b, env=s3.env(prefix="bench")),
            }
            tokens = {}
            try:
                for kind, srv in servers.items():
                    srv.start()
                    srv.add_user("bench", "supervisor")
                    tokens[kind] = srv.enroll("bench")["token"]
                totals = {"folder": 0.0, "s3": 0.0}
                seed = 0
                mb = 0.0
                for _ in range(args.rounds):
                    for kind in ("folder", "s3"):
                        photos = [sized_jpeg(seed + i, args.photo_kb * 1024) for i in range(args.photos)]
                        seed += args.photos
                        mb = sum(len(p) for p in photos) / 1e6
                        totals[kind] += put_all(servers[kind], tokens[kind], photos, args.clients)
            finally:
                for srv in servers.values():
                    srv.stop()
                s3.stop()
        n = args.photos * args.rounds
        print(f"{n} photos of about {args.photo_kb} KB per store, {args.clients} connections, {backend}")
        for kind in ("folder", "s3"):
            print(f"  {kind:>6}: {n / totals[kind]:7.1f} photos/s  {mb * args.rounds / totals[kind]:7.1f} MB/s")
        print(f"  S3 / folder throughput: {totals['folder'] / totals['s3']:.2f}")


if __name__ == "__main__":
    main()
