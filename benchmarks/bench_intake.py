"""Record intake with its ledger append, through a real uvicorn server on SQLite.

    python benchmarks/bench_intake.py [--records 2000] [--batch 100] [--synchronous FULL|NORMAL]

Measures records per second for 1 and 8 concurrent clients, each sending
single-record POSTs and then batch POSTs. Every record is a new revision, so
every one is a ledger append in the same transaction as its rows. Goal: at
least 500 records/s on a 2-core machine. Concurrent single POSTs share commits
(server.infra.writer); one client's POSTs cannot, so each pays a whole fsync.

It first times ``GET /api/v1/health`` (no auth, no database) with the same
clients: the floor a bare HTTP round trip sets here, client included.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.clients import timed_clients  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402
from tests.support.records import Member, member  # noqa: E402


def run(author: Member, *, clients: int, total: int, batch: int) -> float:
    """Send ``total`` new records with ``clients`` threads; answer records per second.

    ``batch=0`` sends ``GET /api/v1/health`` instead (requests per second).
    """
    per_client = total // clients
    errors: list[str] = []

    def work() -> None:
        with httpx.Client(base_url=author.server.url, headers={"Authorization": f"Bearer {author.token}"},
                          timeout=60) as c:
            sent = 0
            while sent < per_client:
                if batch == 0:
                    r = c.get("/api/v1/health")
                    ok = r.status_code == 200
                    sent += 1
                elif batch == 1:
                    r = c.post("/api/v1/records", json=author.envelope())
                    ok = r.status_code == 201
                    sent += 1
                else:
                    n = min(batch, per_client - sent)
                    r = c.post("/api/v1/records/batch", json={"records": [author.envelope() for _ in range(n)]})
                    ok = r.status_code == 200 and all(x["status"] == 201 for x in r.json()["results"])
                    sent += n
                if not ok:
                    errors.append(r.text[:300])
                    return

    return per_client * clients / timed_clients([work] * clients, errors)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=2000, help="records per measurement")
    p.add_argument("--batch", type=int, default=100, help="records per batch POST")
    p.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL"],
                   help="XUNCHA_SQLITE_SYNCHRONOUS: FULL survives power loss, NORMAL only a crash")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        srv = LiveServer(data, f"sqlite:///{data / 'xuncha.sqlite3'}",
                         env={"XUNCHA_SQLITE_SYNCHRONOUS": args.synchronous}).start()
        try:
            author = member(srv, "bench", "supervisor")
            run(author, clients=1, total=50, batch=1)  # warm up
            print(f"record intake with ledger append, SQLite (synchronous={args.synchronous}), "
                  f"{args.records} records each")
            for batch in (0, 1, args.batch):
                for clients in (1, 8):
                    rate = run(author, clients=clients, total=args.records, batch=batch)
                    kind = {0: "GET health", 1: "single POSTs"}.get(batch, f"batches of {batch}")
                    unit = "requests/s (floor)" if batch == 0 else "records/s"
                    print(f"  {clients} client(s), {kind:>16}: {rate:7.0f} {unit}")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
