"""How long saving a record takes on the phone's local store, with a short and a long history.

    python benchmarks/bench_store.py [--dir FOLDER] [--repeat 40] [--opens 7]

Builds two stores, one with 100 and one with 10,000 accepted records in its
history (spread over 36 months, a few drafts and outbox items beside them), and
times in the same run: opening the store and the history screen's first reads
(first page of 50, one village and month, a text search; each on a freshly opened
store), saving a draft (what every edit does), submitting a record (outbox write
then draft removal) and storing a receipt. Every save is durable (fsync of the
file and the folder), so the figures include the disk's flush.
Both stores are built first, then timed in two rounds of alternating order.
Goals at 10,000 records: open < 200 ms, first page < 100 ms; draft save and submit
< 20 ms and at most 1.5x the 100 case (issue 3). Ratios are 10,000 / 100.
Use --dir on the phone's or the machine's real disk: fsync on a RAM disk costs nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from field_app.store import LocalStore

SIZES = (100, 10_000)


def content(i: int, month: str) -> dict[str, Any]:
    """A remediation check of realistic size: a 12-item sheet, deductions, cleaners, orders."""
    return {
        "village_id": f"v-{i % 6}",
        "month": month,
        "sheet": "2025-v1",
        "items": [{"item": f"item-{k}", "max": 10, "deducted": k % 3 * 0.5} for k in range(12)],
        "deductions": [
            {"item": f"item-{k}", "count": 1, "points": 0.5, "note": "公共区域有暴露垃圾，请及时清理", "photos": ["a" * 64],
             "location": {"lat": 29.56 + k / 1000, "lon": 106.55, "accuracy": 8}}
            for k in range(4)
        ],
        "cleaners": [{"cleaner_id": f"c-{k}", "attendance": 20, "on_post": 19, "cleanliness": 57} for k in range(3)],
        "orders": [{"finding": "河面漂浮物", "deadline": "2025-06-01"}],
        "total": 92.5,
    }


def envelope(rid: str, rev: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "record_id": rid, "kind": "remediation_check", "revision": rev,
        "base_revision": None if rev == 1 else rev - 1, "author": "zhang.wei", "device_id": "phone-1",
        "device_time": "2025-05-14T09:30:00+08:00", "gps_time": None, "content": body, "photos": ["a" * 64],
    }  # fmt: skip


def receipt(rid: str, rev: int, i: int, month: str) -> dict[str, Any]:
    return {"record_id": rid, "revision": rev, "digest": "d" * 64, "received_at": f"{month}-20T02:00:00+00:00",
            "ledger_index": i, "leaf_hash": "e" * 64, "photos_missing": [], "replayed": False}  # fmt: skip


def month_of(i: int) -> str:
    return f"{2022 + (i // 12) % 3}-{i % 12 + 1:02d}"


def build(folder: Path, history: int) -> LocalStore:
    store = LocalStore(folder)
    pairs = []
    for i in range(history):
        rid = str(uuid.uuid4())
        pairs.append((envelope(rid, 1, content(i, month_of(i))), receipt(rid, 1, i, month_of(i))))
    store.import_history(pairs)
    for _ in range(5):
        store.submit(envelope(str(uuid.uuid4()), 1, content(1, "2025-05")))
    for _ in range(3):
        store.save_draft({**envelope(str(uuid.uuid4()), 1, content(2, "2025-05")), "updated_at": "x"})
    store.close()
    return LocalStore(folder)


def ms(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.95) - 1] * 1000


def measure(store: LocalStore, repeat: int) -> dict[str, list[float]]:
    draft_times, submit_times, receipt_times = [], [], []
    for n in range(repeat):
        rid = str(uuid.uuid4())
        body = content(n, "2025-05")
        for edit in range(3):
            body["total"] = 90 + edit
            t = time.perf_counter()
            store.save_draft({**envelope(rid, 1, body), "updated_at": "x"})
            draft_times.append(time.perf_counter() - t)
        env = envelope(rid, 1, body)
        t = time.perf_counter()
        store.submit(env)
        submit_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.record_receipt(rid, 1, receipt(rid, 1, 10**6 + n, "2025-05"))
        receipt_times.append(time.perf_counter() - t)
    return {"save draft": draft_times, "submit": submit_times, "store receipt": receipt_times}


def measure_reads(folder: Path, opens: int) -> dict[str, list[float]]:
    """Open the store afresh ``opens`` times; time the open and the first reads of the history screen."""
    times: dict[str, list[float]] = {"open": [], "first page": [], "village+month": [], "text search": []}
    for _ in range(opens):
        t = time.perf_counter()
        store = LocalStore(folder)
        times["open"].append(time.perf_counter() - t)
        assert not store.recovery_report.reindexed, store.recovery_report.reindexed
        for name, query in (
            ("first page", {"limit": 50}),
            ("village+month", {"month": "2023-05", "village_id": "v-4"}),
            ("text search", {"text": "漂浮", "limit": 50}),
        ):
            t = time.perf_counter()
            store.history(**query)
            times[name].append(time.perf_counter() - t)
        store.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where to build the stores (default: a temp folder)")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--opens", type=int, default=5, help="fresh opens timed per store and round")
    args = parser.parse_args()
    samples: dict[int, dict[str, list[float]]] = {size: {} for size in SIZES}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-store-") as tmp:
        for size in SIZES:
            build(Path(tmp) / f"h{size}", size).close()
        if hasattr(os, "sync"):
            os.sync()  # the build's bulk writes must not be flushed during the timed saves
        # Two rounds in alternating order, so neither size always runs in a fresher process.
        for order in (SIZES, SIZES[::-1]):
            for size in order:
                folder = Path(tmp) / f"h{size}"
                got = measure_reads(folder, args.opens)
                store = LocalStore(folder)
                got.update(measure(store, args.repeat // 2))
                store.close()
                for op, times in got.items():
                    samples[size].setdefault(op, []).extend(times)
    results = {size: {op: ms(times) for op, times in ops.items()} for size, ops in samples.items()}
    small, large = SIZES
    header = f"{'operation':<16} {'100: median / p95 ms':>22} {'10,000: median / p95 ms':>25} {'ratio (median)':>15}  goal"
    print(header)
    goals = {
        "open": (200.0, None),
        "first page": (100.0, None),
        "village+month": (None, None),
        "text search": (None, None),
        "save draft": (20.0, 1.5),
        "submit": (20.0, 1.5),
        "store receipt": (None, None),
    }
    ok = True
    for op, (limit_ms, max_ratio) in goals.items():
        a, b = results[small][op], results[large][op]
        ratio = b[0] / a[0]
        met = (limit_ms is None or b[0] < limit_ms) and (max_ratio is None or ratio <= max_ratio)
        parts = [] if limit_ms is None else [f"< {limit_ms:.0f} ms"]
        parts += [] if max_ratio is None else [f"ratio <= {max_ratio}"]
        goal = " and ".join(parts)
        if goal:
            ok &= met
            goal = f"{goal}: {'met' if met else 'NOT met'}"
        print(f"{op:<16} {a[0]:>10.2f} / {a[1]:<9.2f} {b[0]:>12.2f} / {b[1]:<10.2f} {ratio:>13.2f}x  {goal}")
    print("\nall goals (at 10,000 records):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
