"""Clients working at once, for the benchmarks that measure a server under several connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable


def timed_clients(works: Iterable[Callable[[], None]], refusals: list[str]) -> float:
    """Run each work in its own thread, all at once; answer the seconds until the last has
    finished. Exits naming the first refusal a work appended to ``refusals``."""
    threads = [threading.Thread(target=work) for work in works]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - started
    if refusals:
        raise SystemExit(f"refused: {refusals[0]}")
    return elapsed
