"""The office console with 100,000 records, through a real uvicorn server, on SQLite and PostgreSQL.

    python benchmarks/bench_console.py [--records 100000] [--backend sqlite|postgres|both] [--requests 60] [--keep]

Fills a fresh database through the real intake code (``intake.prepare`` / ``store_batch``:
every record has its ledger entry), spread over 36 months and six villages, then sets most
of them approved. Then, signed in as an office reviewer, it times with one client:

    health      GET /api/v1/health (no database): the floor of a round trip here
    queue       the review queue filtered by village and month, first page
    detail      a record's page (every field, photos, revisions, the receipt's proof checked)
    ranking     the monthly red and black list with six months of trend
    export      one month's queue as XLSX, per 1,000 rows

and prints each p95 in milliseconds and as a ratio to the health p95 of the same run.
Goal (issue 10): each p95 under 150 ms.

Filling takes minutes (PostgreSQL on a busy machine: a quarter of an hour). With ``--keep``
the filled databases are kept (a SQLite file in the system's temporary folder, a PostgreSQL
database ``xuncha_bench_console_<records>``) and the next run with ``--keep`` measures them
again without filling; a database that does not hold exactly ``--records`` records is filled
afresh. Nothing a run measures changes the records.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.accounts.accounts import Actor, create_user  # noqa: E402
from server.infra import tables as t  # noqa: E402
from server.infra.db import make_engine  # noqa: E402
from server.infra.migrations import migrate  # noqa: E402
from server.infra.writer import write  # noqa: E402
from server.records import intake  # noqa: E402
from tests.support.console import signed_in  # noqa: E402
from tests.support.databases import fresh_database, pg_admin_url  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402

VILLAGES = ("lin-e", "shimen", "puhua", "shawan", "qinggang", "liyuan")
MONTHS = [f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)]
STATES = ["approved"] * 14 + ["submitted"] * 3 + ["sent_back", "rejected"]


def _content(rng: random.Random, kind: str, village: str, month: str) -> dict[str, Any]:
    at = f"{month}-{rng.randint(1, 28):02d}T09:30:00+08:00"
    if kind == "recheck":
        return {"order_id": str(uuid.uuid4()), "check_record_id": str(uuid.uuid4()), "village_id": village,
                "month": month, "after_photos": [], "note": "未整改完", "resolved": False, "rechecked_at": at,
                "recorder": "王队长", "location": None}
    ratings = [{"cleaner_id": f"c-{village}-{i}", "absent_days": rng.randint(0, 2), "late_minutes": 0,
                "left_post_times": 0, "dirty_spots": 0, "score": 100} for i in range(3)]
    if kind == "routine_assessment":
        return {"village_id": village, "month": month, "cleaner_ratings": ratings, "assessed_at": at, "recorder": "王队长"}
    return {"village_id": village, "month": month, "sheet_id": "town-monthly-check", "sheet_version": 1,
            "inspected_at": at, "recorder": "王队长", "location": {"lat": 29.47, "lon": 108.8, "accuracy_m": 8, "source": "gps"},
            "deductions": [], "cleaner_ratings": ratings, "total_score": rng.randint(60, 100), "orders": [],
            "note": "道路清扫较好，河道有少量漂浮物"}


def fill(url: str, records: int) -> float:
    engine = make_engine(url, sqlite_synchronous="NORMAL")
    migrate(engine)
    write(engine, lambda conn: create_user(conn, username="bench.zy", role="supervisor", password=None))
    write(engine, lambda conn: create_user(conn, username="zhou.hb", role="office_reviewer", password="password-123"))
    actor = Actor(user_id=1, username="bench.zy", display_name="bench", role="supervisor", device_id="bench-device")
    rng = random.Random(10)
    kinds = ["remediation_check"] * 6 + ["recheck"] * 2 + ["routine_assessment"] * 2
    start = time.perf_counter()
    for first in range(0, records, 1000):
        batch = []
        for _ in range(first, min(records, first + 1000)):
            kind, village, month = rng.choice(kinds), rng.choice(VILLAGES), rng.choice(MONTHS)
            batch.append({"record_id": str(uuid.uuid4()), "kind": kind, "revision": 1, "base_revision": None,
                          "author": actor.username, "device_id": actor.device_id, "device_time": f"{month}-15T09:30:00+08:00",
                          "gps_time": None, "content": _content(rng, kind, village, month), "photos": []})
        prepared = intake.prepare_batch(actor=actor, items=batch)
        states = {b["record_id"]: rng.choice(STATES) for b in batch}

        def store(conn: Any, prepared: Any = prepared, states: dict[str, str] = states) -> list[Any]:
            results = intake.store_batch(conn, prepared)
            for state in set(states.values()):
                ids = [rid for rid, s in states.items() if s == state]
                conn.execute(t.records.update().where(t.records.c.record_id.in_(ids)).values(review_state=state))
            return results

        results = write(engine, store)
        assert all(r["status"] == 201 for r in results), results[0]
    engine.dispose()
    return time.perf_counter() - start


KEPT = Path(tempfile.gettempdir()) / "xuncha-bench-console"


def _holds(url: str, records: int) -> bool:
    """Whether the database at ``url`` exists and holds exactly ``records`` records."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.records)).scalar_one()) == records
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


@contextmanager
def database(backend: str, records: int, tmp: Path, *, keep: bool) -> Iterator[tuple[str, Path, bool]]:
    """(url, the server's data folder, already filled): a fresh database dropped afterwards,
    or with ``keep`` the kept one with its data folder (which holds the ledger's signing key)."""
    if not keep:
        with fresh_database(backend, tmp) as url:
            os.makedirs(tmp / "data", exist_ok=True)
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/data/xuncha.sqlite3"
            yield url, tmp / "data", False
        return
    data = KEPT / f"{backend}-{records}"
    if backend == "sqlite":
        url = f"sqlite:///{data / 'xuncha.sqlite3'}"
        filled = data.exists() and _holds(url, records)
        if not filled:
            shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True, exist_ok=True)
        yield url, data, filled
        return
    from sqlalchemy import create_engine, text

    name = f"xuncha_bench_console_{records}"
    url = f"{pg_admin_url().rsplit('/', 1)[0]}/{name}"
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
        filled = exists and data.exists() and _holds(url, records)
        if not filled:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    if not filled:
        shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True, exist_ok=True)
    yield url, data, filled


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(client: httpx.Client, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        start = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return out


def measure(url: str, data: Path, requests: int) -> dict[str, float]:
    server = LiveServer(data, url).start()
    try:
        client = signed_in(server.url, "zhou.hb")
        rng = random.Random(3)
        engine = make_engine(url)
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(t.records.select().with_only_columns(t.records.c.record_id).limit(5000))]
        engine.dispose()
        timed(client, ["/api/v1/health", "/console/records", "/console/ranking?month=2025-06"])  # warm up
        month = "2025-06"
        rows = client.get(f"/console/records?month={month}&format=csv").text.count("\n") - 1
        export = [ms * 1000 / rows for ms in timed(client, [f"/console/records?month={month}&format=xlsx"] * max(5, requests // 6))]
        return {
            "health": p95(timed(client, ["/api/v1/health"] * requests)),
            "queue": p95(timed(client, [f"/console/records?village={rng.choice(VILLAGES)}&month={rng.choice(MONTHS)}"
                                        for _ in range(requests)])),
            "queue_all": p95(timed(client, ["/console/records"] * requests)),
            "detail": p95(timed(client, [f"/console/records/{rng.choice(ids)}" for _ in range(requests)])),
            "ranking": p95(timed(client, [f"/console/ranking?month={rng.choice(MONTHS[6:])}" for _ in range(requests)])),
            "export_per_1000": p95(export),
            "export_rows": float(rows),
        }
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres", "both"])
    p.add_argument("--requests", type=int, default=60)
    p.add_argument("--keep", action="store_true", help="keep the filled databases and reuse them next time")
    args = p.parse_args()
    for backend in (["sqlite", "postgres"] if args.backend == "both" else [args.backend]):
        with tempfile.TemporaryDirectory() as tmp, database(backend, args.records, Path(tmp), keep=args.keep) as (url, data, filled):
            if filled:
                print(f"{backend}: {args.records:,} records kept from an earlier run")
            else:
                seconds = fill(url, args.records)
                print(f"{backend}: {args.records:,} records filled in {seconds:.0f} s")
            figures = measure(url, data, args.requests)
            health = figures["health"]
            print(f"  {'measure':<18}{'p95 ms':>10}{'x health':>10}")
            for name in ("health", "queue", "queue_all", "detail", "ranking", "export_per_1000"):
                print(f"  {name:<18}{figures[name]:>10.1f}{figures[name] / health:>10.1f}")
            print(f"  (export: one month, {figures['export_rows']:.0f} rows; per 1,000 rows)")


if __name__ == "__main__":
    main()
