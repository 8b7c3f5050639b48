"""A field phone for sync tests: a real LocalStore in a folder, enrolled on a real server.

It saves records the way the app does (photo files named by hash in the photos folder,
then the envelope into the outbox), syncs in-process through the real engine or as the
headless CLI in a subprocess, and reads what the server holds straight from its database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select

from field_app.paths import photos_dir
from field_app.store import LocalStore
from field_app.sync.engine import PassResult, SyncPass
from field_app.sync.errors import Offline
from field_app.sync.transport import ServerApi, build_client
from field_app.sync.uploads import ChunkSizer
from tests.support.live_server import ROOT, LiveServer
from xuncha_core.records import envelope_digest


def small_jpeg(seed: int, size: int = 48) -> bytes:
    """A real, unique little JPEG (noise, so that no two seeds share a hash)."""
    rng = random.Random(seed)
    img = Image.frombytes("RGB", (size, size), bytes(rng.randrange(256) for _ in range(size * size * 3)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


def sized_jpeg(seed: int, approx_bytes: int) -> bytes:
    """A real JPEG of roughly ``approx_bytes`` (noise compresses badly: about 0.92 bytes a pixel at q90)."""
    side = int((approx_bytes / 0.92) ** 0.5)
    rng = random.Random(seed)
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


class DoubleSend(httpx.BaseTransport):
    """Sends every request twice and answers the second response: a link that duplicates."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        for attempt in range(2):
            copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = self.inner.handle_request(copy)
            self.sent += 1
            if attempt == 0:
                response.read()
                response.close()
        return response

    def close(self) -> None:
        self.inner.close()


class Phone:
    def __init__(self, server: LiveServer, folder: Path, username: str, *, url: str | None = None) -> None:
        self.server = server
        self.folder = folder
        self.username = username
        enrolled = server.enroll(username)
        self.device_id = enrolled["device_id"]
        self.token = enrolled["token"]
        self.url = url or server.url
        self.store = LocalStore(folder)
        self.store.set_setting("server_url", self.url)
        self.store.set_setting("device_token", self.token)
        self.store.set_setting("device_id", self.device_id)
        self.store.set_setting("user", enrolled["user"])
        self.sizer = ChunkSizer()

    # saving, as the app does ---------------------------------------------------------
    def keep_photo(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        (photos_dir(self.folder) / f"{sha}.jpg").write_bytes(data)
        self.store.add_photo({"sha256": sha, "size": len(data), "mime": "image/jpeg"})
        return sha

    def save_recheck(
        self, photos: list[bytes], *, device_time: str | None = None, note: str = "", record_id: str | None = None
    ) -> dict[str, Any]:
        """Submit a re-check with these 'after' photos; answers the envelope in the outbox."""
        shas = [self.keep_photo(p) for p in photos]
        now = device_time or datetime.now(UTC).isoformat()
        content = {
            "order_id": str(uuid.uuid4()),
            "check_record_id": str(uuid.uuid4()),
            "village_id": "v-shanxia",
            "month": "2026-05",
            "after_photos": shas,
            "note": note,
            "resolved": bool(shas),
            "rechecked_at": now,
            "recorder": self.username,
            "location": None,
        }
        if not shas:
            content["note"] = note or "still dirty"
        envelope = {
            "record_id": record_id or str(uuid.uuid4()),
            "kind": "recheck",
            "revision": 1,
            "base_revision": None,
            "author": self.username,
            "device_id": self.device_id,
            "device_time": now,
            "gps_time": None,
            "content": content,
            "photos": shas,
        }
        self.store.submit(envelope)
        return envelope

    def edit(self, envelope: dict[str, Any], note: str, *, device_time: str | None = None) -> dict[str, Any]:
        """A new revision on top of ``envelope`` with another note."""
        content = {**envelope["content"], "note": note}
        edited = {
            **envelope,
            "revision": envelope["revision"] + 1,
            "base_revision": envelope["revision"],
            "base_digest": envelope_digest(envelope),
            "device_id": self.device_id,
            "device_time": device_time or datetime.now(UTC).isoformat(),
            "content": content,
        }
        self.store.submit(edited)
        return edited

    # syncing -------------------------------------------------------------------------
    def api(self, transport: httpx.BaseTransport | None = None, url: str | None = None) -> ServerApi:
        return ServerApi(build_client(url or self.url, self.token, transport=transport, timeout=10))

    def sync(self, *, transport: httpx.BaseTransport | None = None, url: str | None = None, **kw: Any) -> PassResult:
        api = self.api(transport, url)
        try:
            return SyncPass(self.store, api, self.folder, sizer=self.sizer, **kw).run()
        finally:
            api.close()

    def sync_until_done(self, *, attempts: int = 200, **kw: Any) -> tuple[PassResult, int]:
        """Passes until one ends without a cut; answers the last result and the cuts survived."""
        cuts = 0
        for _ in range(attempts):
            try:
                return self.sync(**kw), cuts
            except Offline:
                cuts += 1
        raise AssertionError(f"sync did not finish in {attempts} passes")

    def close(self) -> None:
        self.store.close()

    def reopen(self) -> None:
        self.store = LocalStore(self.folder)

    def cli(self, *args: str, kill_at: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The headless sync CLI as its own process (the store must be closed here first)."""
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("XUNCHA_SYNC_KILL_AT", None)
        if kill_at:
            env["XUNCHA_SYNC_KILL_AT"] = kill_at
        return subprocess.run(
            [sys.executable, "-m", "field_app.sync.cli", "--data", str(self.folder), "--quiet", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def leftovers(self) -> dict[str, int]:
        return {"outbox": len(self.store.outbox()), "photos_pending": len(self.store.photos_pending())}


def cli_summary(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no summary (rc {done.returncode}):\n{done.stdout}\n{done.stderr}"
    return json.loads(lines[-1])


# what the server holds ---------------------------------------------------------------
def server_copies(server: LiveServer) -> dict[str, Any]:
    """Counts straight from the server's database and photo folder."""
    from server.infra import tables as t
    from server.infra.db import make_engine

    engine = make_engine(server.database_url)
    try:
        with engine.connect() as conn:
            revisions = Counter(
                (r.record_id, r.revision) for r in conn.execute(select(t.record_revisions.c.record_id, t.record_revisions.c.revision))
            )
            photos = Counter(r.sha256 for r in conn.execute(select(t.photos.c.sha256)))
            ledger_records: Counter[tuple[str, int]] = Counter()
            ledger_photos: Counter[str] = Counter()
            for (text,) in conn.execute(select(t.ledger_entries.c.entry).order_by(t.ledger_entries.c.idx)):
                entry = json.loads(text)
                if entry["type"] == "record.accepted":
                    ledger_records[(entry["record"]["record_id"], entry["record"]["revision"])] += 1
                elif entry["type"] == "photo.received":
                    ledger_photos[entry["sha256"]] += 1
            heads = conn.execute(select(func.count()).select_from(t.records)).scalar_one()
    finally:
        engine.dispose()
    blobs = {p.name for p in (server.data_dir / "photos").glob("*/*") if p.is_file() and len(p.name) == 64}
    return {
        "revisions": revisions,
        "photos": photos,
        "ledger_records": ledger_records,
        "ledger_photos": ledger_photos,
        "heads": heads,
        "blobs": blobs,
    }


def assert_exactly_once(server: LiveServer, envelopes: list[dict[str, Any]]) -> dict[str, Any]:
    """Every revision and photo is on the server exactly once: rows, ledger entries, blobs."""
    held = server_copies(server)
    want = {(e["record_id"], e["revision"]) for e in envelopes}
    shas = {s for e in envelopes for s in e["photos"]}
    assert set(held["revisions"]) == want, f"missing {want - set(held['revisions'])}"
    assert set(held["ledger_records"]) == want
    assert max(held["revisions"].values()) == 1 and max(held["ledger_records"].values()) == 1
    if shas:
        assert set(held["photos"]) == shas, f"photos missing: {len(shas - set(held['photos']))}"
        assert set(held["ledger_photos"]) == shas
        assert max(held["photos"].values()) == 1 and max(held["ledger_photos"].values()) == 1
        assert held["blobs"] == shas
    return held


def iter_real_photos(pattern: str = "*.jpg") -> Iterator[bytes]:
    from tests.support.photos import PHOTOS

    for p in sorted(PHOTOS.glob(pattern)):
        if "invalid" not in p.name:
            yield p.read_bytes()
