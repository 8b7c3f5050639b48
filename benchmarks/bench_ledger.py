"""Ledger figures at 100,000 entries on SQLite (run by hand: ``python benchmarks/bench_ledger.py``).

1. Builds a 100,000-entry ledger with the real storage code (``store.append_many``,
   batches of 1,000: every leaf and complete subtree hash is stored as in production).
2. Starts a real server (``python -m server serve``, uvicorn) on that data folder and
   times inclusion proofs at size 100,000 over HTTP on one keep-alive connection:
   median and p95 latency; checks each proof has at most 17 hashes and verifies.
3. Times the real CLI: ``audit export`` of the whole ledger, then ``audit verify``.

Targets (issue 2): proof ≤ 17 hashes and served in < 5 ms; verify of a 100,000-entry
export in < 10 s. Options: --entries N, --requests N, --keep (keep the temp folder and
print it), --reuse FOLDER (a folder kept earlier: skip the build and measure again).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.infra.db import make_engine  # noqa: E402
from server.infra.migrations import migrate  # noqa: E402
from server.ledger import store  # noqa: E402
from tests.support.databases import write  # noqa: E402
from xuncha_core import checkpoint, ledger_entries  # noqa: E402
from xuncha_core.ledger_entries import NewEntry  # noqa: E402
from xuncha_core.merkle import verify_inclusion  # noqa: E402


def _entry(i: int) -> NewEntry:
    """A record.accepted entry whose envelope is of realistic size (about 600 bytes of canonical JSON)."""
    envelope = {
        "record_id": f"00000000-0000-4000-8000-{i:012d}",
        "kind": "remediation_check",
        "revision": 1,
        "base_revision": None,
        "author": f"supervisor{i % 40}",
        "device_id": f"device-{i % 97}",
        "device_time": "2025-05-14T09:30:00+08:00",
        "gps_time": None,
        "content": {
            "village_id": f"v-{i % 6}",
            "month": "2025-05",
            "recorder": "王队长",
            "total_score": 100 - i % 7,
            "deductions": [{"item_id": "public_areas", "rule_id": "litter", "count": i % 3}],
        },
        "photos": [],
    }
    return ledger_entries.record_accepted(
        envelope=envelope, received_at=f"2025-05-{1 + i % 28:02d}T08:{i % 60:02d}:00+00:00"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"XUNCHA_DATA_DIR": str(data), "XUNCHA_DATABASE_URL": f"sqlite:///{data / 'xuncha.sqlite3'}", "PYTHONPATH": str(ROOT)})
    return env


def build(data: Path, entries: int) -> float:
    data.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{data / 'xuncha.sqlite3'}", sqlite_synchronous="NORMAL")
    migrate(engine)
    started = time.perf_counter()
    for start in range(0, entries, 1000):
        with write(engine) as conn:
            store.append_many(conn, [_entry(i) for i in range(start, min(entries, start + 1000))])
    engine.dispose()
    return time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proofs_over_http(data: Path, entries: int, requests: int) -> tuple[list[float], list[float], float, int]:
    """Proof latencies, health-check latencies interleaved with them (the floor on this machine
    right now), the server's CPU time per proof request, and the longest proof."""
    port = _free_port()
    log = open(data / "bench-server.log", "wb")  # noqa: SIM115 - the server process owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--log-level", "warning"],
        env=_env(data),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        with httpx.Client(base_url=url, timeout=10) as c:
            cp = checkpoint.Checkpoint.from_dict(c.get("/api/v1/ledger/checkpoint").json())
            checkpoint.verify(cp)
            assert cp.size == entries, (cp.size, entries)
            rng = random.Random(9162)
            indexes = [0, entries - 1] + [rng.randrange(entries) for _ in range(requests)]
            for i in indexes[:50]:  # warm up the connection and the page cache
                c.get("/api/v1/ledger/proof/inclusion", params={"index": i, "size": entries})
            times: list[float] = []
            floor: list[float] = []
            longest = 0
            cpu = 0.0
            for i in indexes:
                t0 = time.perf_counter()
                c.get("/api/v1/health")
                floor.append(time.perf_counter() - t0)
                cpu0 = _cpu_seconds(proc.pid)
                t0 = time.perf_counter()
                r = c.get("/api/v1/ledger/proof/inclusion", params={"index": i, "size": entries})
                times.append(time.perf_counter() - t0)
                cpu += _cpu_seconds(proc.pid) - cpu0
                hashes = [bytes.fromhex(h) for h in r.json()["hashes"]]
                longest = max(longest, len(hashes))
                entry = c.get(f"/api/v1/ledger/entries/{i}").json() if i in (0, entries - 1) else None
                if entry:
                    verify_inclusion(bytes.fromhex(entry["leaf_hash"]), i, entries, hashes, cp.root)
        return times, floor, cpu / len(indexes), longest
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _p95(sorted_ms: list[float]) -> float:
    return sorted_ms[max(0, int(len(sorted_ms) * 0.95) - 1)]


def cli(data: Path, *args: str) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "server", *args], env=_env(data), cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    print("   ", done.stdout.strip().splitlines()[-1])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", type=Path, help="a folder kept by an earlier --keep run")
    args = parser.parse_args()
    tmp = args.reuse or Path(tempfile.mkdtemp(prefix="xuncha-bench-ledger-"))
    args.keep = args.keep or bool(args.reuse)
    data = tmp / "data"
    try:
        if not args.reuse:
            print(f"building a ledger of {args.entries:,} entries on SQLite ...")
            seconds = build(data, args.entries)
            print(f"  built in {seconds:.1f} s ({args.entries / seconds:,.0f} entries/s through store.append_many)")

        times, floor, cpu, longest = proofs_over_http(data, args.entries, args.requests)
        ms = sorted(t * 1000 for t in times)
        base = sorted(t * 1000 for t in floor)
        print(f"inclusion proof at size {args.entries:,} over HTTP (uvicorn, keep-alive), {len(ms)} requests:")
        print(f"  hashes per proof: at most {longest} (target ≤ 17)")
        print(f"  latency median {statistics.median(ms):.2f} ms, p95 {_p95(ms):.2f} ms, max {ms[-1]:.2f} ms (target < 5 ms)")
        print(
            f"  same server, GET /api/v1/health interleaved: median {statistics.median(base):.2f} ms, "
            f"p95 {_p95(base):.2f} ms (ratio proof/health {statistics.median(ms) / statistics.median(base):.1f}x)"
        )
        print(f"  server CPU per proof request: {cpu * 1000:.2f} ms (/proc, {os.sysconf('SC_CLK_TCK')} ticks/s)")
        print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

        bundle = tmp / "full.zip"
        print("audit export (CLI) ...")
        export_s = cli(data, "audit", "export", "--out", str(bundle))
        print(f"  {export_s:.1f} s, bundle {bundle.stat().st_size / 1e6:.1f} MB")
        print("audit verify (CLI, offline) ...")
        verify_s = cli(data, "audit", "verify", str(bundle))
        print(f"  {verify_s:.1f} s for {args.entries:,} entries (target < 10 s)")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
