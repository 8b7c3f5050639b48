"""A district's phones at once: 1,000 simulated phones through the real protocol, against 1 and
then 2 server processes on one PostgreSQL and one S3 store (SeaweedFS), on loopback only.

    python benchmarks/bench_district.py [--phones 1000] [--records 6] [--photo-kb 30]
                                        [--concurrency 200] [--seconds 300] [--store s3|folder]

Each phone syncs a month's work as the field app does: ``POST /records/batch`` (its records,
each naming one small photo), ``POST /photos/missing``, then one ``PUT /photos/{sha}`` per
missing photo (a photo that fits in one chunk goes whole), then a pull of
``GET /records?author=me``. A bounded asyncio harness drives them: at most ``--concurrency``
phones at once, and no phone starts after ``--seconds``. With two processes the requests
alternate between them, as behind a load balancer. After each run the record is checked:
every acknowledged record and photo present once, the ledger as long as the entries.

Printed: records/s, photos/s, p95 latency per request type, errors (0 expected), and the
2-process / 1-process throughput ratio. Compare ratios, not times: the harness, PostgreSQL,
the S3 store and the servers share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.accounts.accounts import create_user, issue_device  # noqa: E402
from server.infra import tables as t  # noqa: E402
from server.infra.db import make_engine, read  # noqa: E402
from server.infra.migrations import migrate  # noqa: E402
from server.infra.writer import write  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402
from tests.support.object_store import SeaweedS3  # noqa: E402
from tests.support.phone import sized_jpeg  # noqa: E402
from tests.support.records import remediation_content  # noqa: E402


@dataclass
class PhoneKit:
    username: str
    device_id: str
    token: str
    envelopes: list[dict[str, Any]]
    photos: dict[str, bytes]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    records: int = 0
    photos: int = 0
    phones: int = 0
    skipped: int = 0
    resent: int = 0  # requests sent again after a dropped connection (a phone does the same)

    def timed(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)


def make_phones(url: str, n: int, records: int, photo_kb: int) -> list[PhoneKit]:
    """Users, enrolled devices and a month of records with photos, made directly (not timed)."""
    engine = make_engine(url)
    migrate(engine)
    kits = []

    def enroll(conn: Any) -> None:
        for i in range(n):
            name = f"phone{i:04d}"
            create_user(conn, username=name, role="supervisor", password=None)
            user = conn.execute(select(t.users).where(t.users.c.username == name)).one()
            device = issue_device(conn, user=user, device_name=name, kind="phone", via="benchmark")
            kits.append(PhoneKit(name, device["device_id"], device["token"], [], {}))

    write(engine, enroll)
    engine.dispose()
    for i, kit in enumerate(kits):
        for r in range(records):
            photo = sized_jpeg(i * 1000 + r, photo_kb * 1024)
            digest = hashlib.sha256(photo).hexdigest()
            kit.photos[digest] = photo
            kit.envelopes.append(
                {
                    "record_id": str(uuid.uuid4()),
                    "kind": "remediation_check",
                    "revision": 1,
                    "base_revision": None,
                    "author": kit.username,
                    "device_id": kit.device_id,
                    "device_time": "2025-05-14T09:30:00+08:00",
                    "gps_time": None,
                    "content": remediation_content(village_id=f"v-{r}", month="2025-05"),
                    "photos": [digest],
                }
            )
    return kits


async def _call(tally: Tally, kind: str, send: Any) -> httpx.Response | None:
    """One request, sent once more (as the phone does) if the connection dropped under it."""
    started = time.perf_counter()
    try:
        response = await send()
    except httpx.TransportError:
        tally.resent += 1
        try:
            response = await send()
        except httpx.HTTPError as exc:
            tally.errors.append(f"{kind}: {type(exc).__name__} {exc}")
            return None
    tally.timed(kind, time.perf_counter() - started)
    if response.status_code >= 400:
        tally.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
        return None
    return response


async def sync_phone(kit: PhoneKit, clients: list[httpx.AsyncClient], tally: Tally) -> None:
    turn = iter(range(1_000_000))

    def client() -> httpx.AsyncClient:
        return clients[next(turn) % len(clients)]

    auth = {"Authorization": f"Bearer {kit.token}"}
    batch = await _call(
        tally,
        "POST /records/batch",
        lambda: client().post("/api/v1/records/batch", json={"records": kit.envelopes}, headers=auth),
    )
    if batch is None:
        return
    accepted = sum(1 for r in batch.json()["results"] if r["status"] in (200, 201))
    tally.records += accepted
    missing = await _call(
        tally,
        "POST /photos/missing",
        lambda: client().post("/api/v1/photos/missing", json={"hashes": list(kit.photos)}, headers=auth),
    )
    if missing is None:
        return
    for digest in missing.json()["missing"]:
        put = await _call(
            tally,
            "PUT /photos/{sha}",
            lambda d=digest: client().put(f"/api/v1/photos/{d}", content=kit.photos[d], headers=auth),
        )
        if put is not None:
            tally.photos += 1
    await _call(
        tally,
        "GET /records",
        lambda: client().get("/api/v1/records", params={"author": kit.username}, headers=auth),
    )
    tally.phones += 1


async def drive(
    kits: list[PhoneKit], urls: list[str], concurrency: int, seconds: float
) -> tuple[Tally, float]:
    tally = Tally()
    gate = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [httpx.AsyncClient(base_url=u, timeout=120, limits=limits) for u in urls]

    async def one(kit: PhoneKit) -> None:
        async with gate:
            if time.monotonic() > deadline:
                tally.skipped += 1
                return
            await sync_phone(kit, clients, tally)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(one(k) for k in kits))
    finally:
        for c in clients:
            await c.aclose()
    return tally, time.perf_counter() - started


def check_record(url: str, tally: Tally) -> str:
    engine = make_engine(url)
    with read(engine) as conn:
        records = conn.execute(select(func.count()).select_from(t.records)).scalar()
        photos = conn.execute(select(func.count()).select_from(t.photos)).scalar()
        ledger = conn.execute(select(func.count()).select_from(t.ledger_entries)).scalar()
    engine.dispose()
    ok = records == tally.records and photos == tally.photos
    return f"record check: {records} records, {photos} photos, {ledger} ledger entries -> {'consistent' if ok else 'MISMATCH'}"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


def run(processes: int, args: argparse.Namespace, tmp: Path, s3: SeaweedS3 | None) -> float:
    work = tmp / f"run{processes}"
    work.mkdir()
    with fresh_database("postgres", work) as url:
        kits = make_phones(url, args.phones, args.records, args.photo_kb)
        env = s3.env(prefix=f"run{processes}") if s3 else {}
        servers = [LiveServer(work / "data", url, env=env).start() for _ in range(processes)]
        try:
            tally, elapsed = asyncio.run(
                drive(kits, [s.url for s in servers], args.concurrency, args.seconds)
            )
        finally:
            for s in servers:
                s.stop()
        rate = tally.records / elapsed
        print(
            f"\n{processes} process(es), photos in {'S3' if s3 else 'the local folder'}: "
            f"{tally.phones} phones synced in {elapsed:.1f} s ({tally.skipped} not started in time)"
        )
        print(
            f"  records/s {rate:8.1f}   photos/s {tally.photos / elapsed:8.1f}   errors {len(tally.errors)}"
        )
        for kind in sorted(tally.latencies):
            values = tally.latencies[kind]
            print(f"  {kind:<22} n={len(values):6d}  p95 {p95(values) * 1000:8.1f} ms")
        for error in tally.errors[:5]:
            print(f"  error: {error}")
        print("  " + check_record(url, tally))
        return rate


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--phones", type=int, default=1000)
    p.add_argument("--records", type=int, default=6, help="records (each with one photo) per phone")
    p.add_argument("--photo-kb", type=int, default=30)
    p.add_argument("--concurrency", type=int, default=200, help="phones syncing at once")
    p.add_argument("--seconds", type=float, default=300, help="no phone starts after this")
    p.add_argument("--store", choices=["s3", "folder"], default="s3")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        s3 = SeaweedS3(tmp / "s3").start() if args.store == "s3" else None
        try:
            one = run(1, args, tmp, s3)
            two = run(2, args, tmp, s3)
        finally:
            if s3:
                s3.stop()
    print(f"\n2-process / 1-process throughput (records/s): {two / one:.2f}")


if __name__ == "__main__":
    main()
