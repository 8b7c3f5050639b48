"""``GET /metrics``: what the server is doing, in the Prometheus text format (version 0.0.4).

Two kinds of figures:
- Requests, counted by each process as it answers them (method, route template, status,
  and a latency histogram per route). Several processes on one machine (``serve --workers
  N``) each write their totals to ``<data>/metrics/<pid>.json`` every few seconds and on
  every scrape, and a scrape adds up every file, so whichever process answers it, the
  figures are the machine's. A process that ended leaves its last totals, so counters never
  go back.
- The record, read from the database at scrape time, so the same whichever process or
  machine answers: ledger size, records, revisions (intake), photos, open uploads, and how
  long ago each active device was last heard from (``device`` is the device's random id: no
  name).

Access: a scrape must carry ``Authorization: Bearer $XUNCHA_METRICS_TOKEN``; with no token
set, ``/metrics`` answers 404. Nothing personal is in it, but the counts are the office's.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import Connection, Engine, func, select
from starlette.concurrency import run_in_threadpool

from server.infra import tables as t
from server.infra.db import read
from server.ledger import store
from xuncha_core import durable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

request_log = logging.getLogger("xuncha.requests")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FLUSH_EVERY_SECONDS = 5.0


class RequestCounters:
    """This process's request totals; ``flush`` writes them where a scrape finds them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}  # "method route status" -> count
        self.latency: dict[str, list[float]] = {}  # route -> bucket counts..., +Inf count, sum
        self.flushed = 0.0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self.lock:
            key = f"{method} {route} {status}"
            self.requests[key] = self.requests.get(key, 0) + 1
            row = self.latency.setdefault(route, [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[len(BUCKETS)] += 1
            row[len(BUCKETS) + 1] += seconds
        if time.monotonic() - self.flushed > FLUSH_EVERY_SECONDS:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            snapshot = json.dumps({"requests": self.requests, "latency": self.latency}).encode()
            self.flushed = time.monotonic()
        durable.private_folder(self.folder)
        durable.replace_file(self.folder / f"{os.getpid()}.json", snapshot, sync_folder=False)

    def machine_totals(self) -> tuple[dict[str, int], dict[str, list[float]]]:
        """Every process's last written totals, added up."""
        self.flush()
        requests: dict[str, int] = {}
        latency: dict[str, list[float]] = {}
        for path in sorted(self.folder.glob("*.json")):
            try:
                data = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue  # being replaced right now: the next scrape has it
            for key, count in data.get("requests", {}).items():
                requests[key] = requests.get(key, 0) + int(count)
            for route, row in data.get("latency", {}).items():
                mine = latency.setdefault(route, [0.0] * (len(BUCKETS) + 2))
                for i, value in enumerate(row[: len(mine)]):
                    mine[i] += float(value)
        return requests, latency


class MetricsMiddleware:
    """Counts and logs every HTTP answer by method, route template and status (pure ASGI);
    the log line holds no query string, header or body."""

    def __init__(self, app: App, counters: RequestCounters) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            seconds = time.perf_counter() - started
            self.counters.observe(scope["method"], route, status, seconds)
            request_log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                },
            )


def may_scrape(authorization: str | None, token: str) -> bool:
    """Whether a scrape carries the metrics token (never, when none is set)."""
    if not token or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization.removeprefix("Bearer ").encode(), token.encode())


def _line(name: str, value: float, **labels: str) -> str:
    if labels:
        shown = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        return f"{name}{{{shown}}} {value:g}"
    return f"{name} {value:g}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _record_figures(engine: Engine, now: datetime) -> list[str]:
    with read(engine) as conn:
        ledger = store.size(conn)
        records = conn.execute(select(func.count()).select_from(t.records)).scalar() or 0
        revisions = conn.execute(select(func.count()).select_from(t.record_revisions)).scalar() or 0
        photos, photo_bytes = conn.execute(
            select(func.count(), func.coalesce(func.sum(t.photos.c.size), 0))
        ).one()
        uploads, upload_bytes = conn.execute(
            select(func.count(), func.coalesce(func.sum(t.uploads.c.length), 0))
        ).one()
        seen = last_heard(conn)
    out = [
        "# HELP xuncha_ledger_entries Entries in the ledger (the RFC 9162 tree size).",
        "# TYPE xuncha_ledger_entries gauge",
        _line("xuncha_ledger_entries", ledger),
        "# HELP xuncha_records Records kept.",
        "# TYPE xuncha_records gauge",
        _line("xuncha_records", records),
        "# HELP xuncha_record_revisions_total Record revisions accepted (intake).",
        "# TYPE xuncha_record_revisions_total counter",
        _line("xuncha_record_revisions_total", revisions),
        "# HELP xuncha_photos_total Photos kept, and their bytes.",
        "# TYPE xuncha_photos_total counter",
        _line("xuncha_photos_total", photos),
        "# TYPE xuncha_photo_bytes_total counter",
        _line("xuncha_photo_bytes_total", photo_bytes),
        "# HELP xuncha_uploads_open Resumable photo uploads not finished yet, and their declared bytes.",
        "# TYPE xuncha_uploads_open gauge",
        _line("xuncha_uploads_open", uploads),
        "# TYPE xuncha_upload_bytes_open gauge",
        _line("xuncha_upload_bytes_open", upload_bytes),
        "# HELP xuncha_device_sync_lag_seconds Seconds since each active device was last heard from.",
        "# TYPE xuncha_device_sync_lag_seconds gauge",
    ]
    for device_id, last_seen in seen.items():
        try:
            lag = max(0.0, (now - datetime.fromisoformat(last_seen)).total_seconds())
        except ValueError:
            continue
        out.append(_line("xuncha_device_sync_lag_seconds", round(lag, 3), device=device_id))
    return out


def last_heard(conn: Connection) -> dict[str, str]:
    """When each active device was last heard from: its last signed-in request, or for a device
    not seen since that was noted, the last record it sent (by the index on the device)."""
    d, rev = t.devices.c, t.record_revisions.c
    noted = conn.execute(select(d.id, d.last_seen_at).where(d.revoked_at.is_(None))).all()
    seen = {row.id: row.last_seen_at for row in noted if row.last_seen_at}
    unseen = [row.id for row in noted if not row.last_seen_at]
    for start in range(0, len(unseen), 500):
        rows = conn.execute(
            select(rev.device_id, func.max(rev.received_at))
            .where(rev.device_id.in_(unseen[start : start + 500]))
            .group_by(rev.device_id)
        )
        seen.update({device_id: at for device_id, at in rows if at})
    return seen


def _request_figures(counters: RequestCounters) -> list[str]:
    requests, latency = counters.machine_totals()
    out = [
        "# HELP xuncha_http_requests_total HTTP requests answered, by method, route and status.",
        "# TYPE xuncha_http_requests_total counter",
    ]
    for key in sorted(requests):
        method, route, status = key.split(" ", 2)
        out.append(
            _line(
                "xuncha_http_requests_total",
                requests[key],
                method=method,
                route=route,
                status=status,
            )
        )
    out += [
        "# HELP xuncha_http_request_duration_seconds Time to answer, by route.",
        "# TYPE xuncha_http_request_duration_seconds histogram",
    ]
    for route in sorted(latency):
        row = latency[route]
        for i, bound in enumerate(BUCKETS):
            out.append(
                _line(
                    "xuncha_http_request_duration_seconds_bucket",
                    row[i],
                    route=route,
                    le=f"{bound:g}",
                )
            )
        out.append(
            _line(
                "xuncha_http_request_duration_seconds_bucket",
                row[len(BUCKETS)],
                route=route,
                le="+Inf",
            )
        )
        out.append(
            _line("xuncha_http_request_duration_seconds_count", row[len(BUCKETS)], route=route)
        )
        out.append(
            _line("xuncha_http_request_duration_seconds_sum", row[len(BUCKETS) + 1], route=route)
        )
    return out


def render(engine: Engine, counters: RequestCounters, *, now: datetime | None = None) -> str:
    """The whole exposition, as text."""
    lines = _request_figures(counters) + _record_figures(engine, now or datetime.now(UTC))
    return "\n".join(lines) + "\n"


def install_route(app: Any, *, engine: Engine, counters: RequestCounters, token: str) -> None:
    """``GET /metrics`` on ``app``: the exposition to a scrape with the token, 404 to anyone else."""

    @app.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if not may_scrape(request.headers.get("authorization"), token):
            return PlainTextResponse("Not Found\n", 404)  # as if there were no such page
        text = await run_in_threadpool(render, engine, counters)
        return PlainTextResponse(
            text, media_type="text/plain; version=0.0.4", headers={"Cache-Control": "no-store"}
        )
