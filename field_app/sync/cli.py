"""Headless sync: ``python -m field_app sync --data DIR --server URL``.

For operations (a phone's data folder copied to a laptop) and for tests. By default it
runs ONE sync against ``--server`` (else the address the app signed in to) and exits;
``--until-done`` retries with backoff until nothing is left to send (or ``--max-seconds``
pass); ``--continuous`` keeps syncing every ``--period`` seconds until interrupted (Ctrl-C),
against the same server. ``--once`` is the default, named.

The last line on stdout is a JSON summary with what is left (``left``). The exit status
says what is left:

    0  nothing: every record and photo is on the server
    1  an error: not signed in, or the server refused the request as a whole
    2  offline: the server could not be reached; work is left
    3  this device was revoked: sign in again
    4  the server answered, but work is left: records that wait on her (a conflict to
       choose, a refusal to fix), or photos it still lacks
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
    mode.add_argument("--once", action="store_true", help="run one sync and exit (the default)")
    mode.add_argument("--until-done", action="store_true", help="retry until nothing is left to send")
    mode.add_argument("--continuous", action="store_true", help="keep syncing every --period seconds until interrupted")
    p.add_argument("--max-seconds", type=float, default=600.0, help="give up --until-done after this long")
    p.add_argument("--retry-base", type=float, default=1.0, help="first backoff delay in seconds")
    p.add_argument("--period", type=float, default=300.0, help="seconds between passes with --continuous")
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
        if args.continuous:
            return _run_on(store, folder, server, token, args)
        return _run_passes(store, folder, server, token, args)
    finally:
        store.close()


def _run_passes(store: Any, folder: Path, server: str, token: str, args: argparse.Namespace) -> int:
    deadline = clock.monotonic() + args.max_seconds
    sizer = ChunkSizer()
    show = _Printer(quiet=args.quiet)
    totals: dict[str, Any] = {"server": server, "passes": 0, "receipts": 0, "replayed": 0, "photos_sent": 0,
                              "bytes_sent": 0, "changes": 0, "own_records": 0}  # fmt: skip
    failures = 0
    while True:
        totals["passes"] += 1
        state = _one_pass(store, folder, server, token, sizer, show, totals)
        if state in ("revoked", "error"):
            _summary({**totals, "ok": False, "state": state, **_left(store)})
            return EXIT[state]
        left = _left(store)
        if state == "done" and _anything_left(left):
            state = "unfinished"
        if state == "done" or not args.until_done or clock.monotonic() >= deadline:
            _summary({**totals, "ok": state == "done", "state": state, **left})
            return EXIT[state]
        failures = failures + 1 if state == "offline" else 0
        time.sleep(min(backoff(max(1, failures), base=args.retry_base, cap=30.0), max(0.0, deadline - clock.monotonic())))


EXIT = {"done": 0, "error": 1, "offline": 2, "revoked": 3, "unfinished": 4}


def _one_pass(
    store: Any, folder: Path, server: str, token: str, sizer: ChunkSizer, show: _Printer, totals: dict[str, Any]
) -> str:
    """One sync pass, its figures added to ``totals``: done, offline, revoked or error."""
    api = ServerApi(build_client(server, token))
    try:
        result = SyncPass(store, api, folder, on_progress=show, sizer=sizer).run()
    except DeviceRevoked as exc:
        totals["error"] = str(exc)
        return "revoked"
    except Offline as exc:
        totals["last_error"] = str(exc)
        return "offline"
    except XunchaError as exc:
        totals["error"] = str(exc)
        return "error"
    finally:
        api.close()
    for key in ("receipts", "replayed", "photos_sent", "bytes_sent", "changes", "own_records"):
        totals[key] += getattr(result, key)
    totals["conflicts"] = result.conflicts
    totals["refused"] = result.refused
    totals["photos_unreadable"] = result.photos_unreadable
    return "done"


def _run_on(store: Any, folder: Path, server: str, token: str, args: argparse.Namespace) -> int:
    """Sync every ``--period`` seconds against ``server`` until interrupted; the exit status
    then says what is left, as after one sync."""
    scheduler = SyncScheduler(store, folder, period=args.period, base_delay=args.retry_base,
                              server_url=server, token=token)  # fmt: skip
    if not args.quiet:
        scheduler.on_change(lambda s: print(json.dumps(s, ensure_ascii=False), file=sys.stderr, flush=True))
    scheduler.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        scheduler.stop()
    status = scheduler.status()
    state = {"revoked": "revoked", "offline": "offline", "error": "error"}.get(str(status.get("state")), "done")
    left = _left(store)
    if state == "done" and _anything_left(left):
        state = "unfinished"
    _summary({"server": server, "passes": status.get("passes"), "ok": state == "done", "state": state, **left})
    return EXIT[state]


def _anything_left(left: dict[str, Any]) -> bool:
    return bool(left["outbox"] or left["photos_pending"])


def _left(store: Any) -> dict[str, Any]:
    """What is left on the phone: the outbox (and how much of it sync can send by itself,
    how much waits on her), the photos the server still lacks, her drafts."""
    outbox = store.outbox()
    sendable = sendable_count(outbox)
    return {
        "outbox": len(outbox),
        "outbox_sendable": sendable,
        "outbox_waiting_on_you": len(outbox) - sendable,
        "photos_pending": len(store.photos_pending()),
        "drafts": len(store.list_drafts()),
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
