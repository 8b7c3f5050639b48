"""Headless sync: ``python -m field_app sync --data DIR --server URL [--once]``.

For operations (a phone's data folder copied to a laptop) and for tests. ``--once`` runs
one pass; ``--until-done`` retries with backoff until nothing is left to send (or
``--max-seconds`` pass); with neither it keeps syncing periodically until interrupted.
The last line on stdout is a JSON summary. Exit codes: 0 done, 1 error, 2 offline or not
finished, 3 this device was revoked.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from field_app import clock
from field_app.paths import data_dir as resolve_data_dir
from field_app.store.sendable import sendable_count
from field_app.sync.engine import Progress, SyncPass
from field_app.sync.errors import DeviceRevoked, Offline
from field_app.sync.scheduler import SyncScheduler, backoff
from field_app.sync.transport import ServerApi, build_client
from field_app.sync.uploads import ChunkSizer
from xuncha_core.errors import XunchaError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xuncha-field sync", description="Sync a field app's data folder with the server.")
    p.add_argument("--data", help="the app's data folder (default: XUNCHA_FIELD_DATA or ~/.xuncha-field)")
    p.add_argument("--server", help="server URL (default: the one the app signed in to)")
    p.add_argument("--token", help="device token (default: the app's own)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="run one pass and exit")
    mode.add_argument("--until-done", action="store_true", help="retry until nothing is left to send")
    p.add_argument("--max-seconds", type=float, default=600.0, help="give up --until-done after this long")
    p.add_argument("--retry-base", type=float, default=1.0, help="first backoff delay in seconds")
    p.add_argument("--period", type=float, default=300.0, help="seconds between passes when running on")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from field_app.store import LocalStore  # the store seam; imported late so --help stays fast

    folder = resolve_data_dir(args.data)
    store = LocalStore(folder)
    try:
        server = args.server or store.get_setting("server_url")
        token = args.token or store.get_setting("device_token")
        if not server or not token:
            _summary({"ok": False, "state": "not_signed_in", "error": "no server URL or device token: sign in first, or pass --server and --token"})
            return 1
        if not (args.once or args.until_done):
            return _run_on(store, folder, args)
        return _run_passes(store, folder, server, token, args)
    finally:
        store.close()


def _run_passes(store: Any, folder: Path, server: str, token: str, args: argparse.Namespace) -> int:
    deadline = clock.monotonic() + args.max_seconds
    sizer = ChunkSizer()
    show = _Printer(quiet=args.quiet)
    totals: dict[str, Any] = {"passes": 0, "receipts": 0, "replayed": 0, "photos_sent": 0, "bytes_sent": 0, "changes": 0}
    failures = 0
    while True:
        totals["passes"] += 1
        api = ServerApi(build_client(server, token))
        state, code = "done", 0
        try:
            result = SyncPass(store, api, folder, on_progress=show, sizer=sizer).run()
            for key in ("receipts", "replayed", "photos_sent", "bytes_sent", "changes"):
                totals[key] += getattr(result, key)
            totals["conflicts"] = result.conflicts
            totals["refused"] = result.refused
            totals["photos_unreadable"] = result.photos_unreadable
            left = _left(store)
            if left["outbox_sendable"] or left["photos_pending"] > len(result.photos_unreadable):
                state, code = "unfinished", 2
        except DeviceRevoked as exc:
            _summary({**totals, "ok": False, "state": "revoked", "error": str(exc), **_left(store)})
            return 3
        except Offline as exc:
            state, code = "offline", 2
            totals["last_error"] = str(exc)
        except XunchaError as exc:
            _summary({**totals, "ok": False, "state": "error", "error": str(exc), **_left(store)})
            return 1
        finally:
            api.close()
        if code == 0 or args.once or clock.monotonic() >= deadline:
            _summary({**totals, "ok": code == 0, "state": state, **_left(store)})
            return code
        failures = failures + 1 if state == "offline" else 0
        time.sleep(min(backoff(max(1, failures), base=args.retry_base, cap=30.0), max(0.0, deadline - clock.monotonic())))


def _run_on(store: Any, folder: Path, args: argparse.Namespace) -> int:
    scheduler = SyncScheduler(store, folder, period=args.period, base_delay=args.retry_base)
    if not args.quiet:
        scheduler.on_change(lambda s: print(json.dumps(s, ensure_ascii=False), file=sys.stderr, flush=True))
    scheduler.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        scheduler.stop()
    return 0


def _left(store: Any) -> dict[str, Any]:
    outbox = store.outbox()
    return {
        "outbox": len(outbox),
        "outbox_sendable": sendable_count(outbox),
        "photos_pending": len(store.photos_pending()),
    }


class _Printer:
    """Progress lines on stderr, at most a few per second."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        now = clock.monotonic()
        if self.quiet or (now - self.last < 0.5 and p.phase != "done"):
            return
        self.last = now
        print(
            f"sync {p.phase}: records {p.records_done}/{p.records_total}, "
            f"photos {p.photos_done}/{p.photos_total}, bytes {p.bytes_done}/{p.bytes_total}",
            file=sys.stderr,
            flush=True,
        )


def _summary(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    sys.exit(main())
