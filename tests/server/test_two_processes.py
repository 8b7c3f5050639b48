"""Two server processes on one PostgreSQL and one S3 store, requests alternating between them
(issue 12): the same records pushed at once, an upload cut on one and resumed on the other,
one process SIGKILLed mid-ingest. Every acknowledged record and photo is there once, the
ledger is one consistent tree, and every receipt proves against a signed checkpoint."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from server.ledger.key_source import new_key_file
from tests.conftest import PHOTOS
from tests.support.databases import backends, fresh_database
from tests.support.live_server import LiveServer
from tests.support.object_store import SeaweedS3, s3_server  # noqa: F401 - fixture
from tests.support.phone import sized_jpeg
from tests.support.photos import cut_patch
from tests.support.records import Member, member
from xuncha_core import checkpoint, merkle

pytestmark = pytest.mark.skipif(
    "postgres" not in backends(), reason="several processes share PostgreSQL"
)

PHOTO = (PHOTOS / "mobile_jolla.jpg").read_bytes()  # 811 KB
CHUNK = 64 * 1024


class Pair:
    """Two processes on one database and one store; ``next()`` alternates between them."""

    def __init__(self, servers: list[LiveServer]) -> None:
        self.servers = servers
        self.turn = itertools.cycle(range(len(servers)))
        self.lock = threading.Lock()

    def next(self) -> LiveServer:
        with self.lock:
            return self.servers[next(self.turn)]


@pytest.fixture
def pair(tmp_path: Path, s3_server: SeaweedS3) -> Iterator[Pair]:  # noqa: F811
    key = tmp_path / "ledger_signing_key.pem"
    new_key_file(key)
    with fresh_database("postgres", tmp_path) as url:
        env = {**s3_server.env(prefix=f"pair-{tmp_path.name}"), "XUNCHA_SIGNING_KEY_FILE": str(key)}
        servers = [LiveServer(tmp_path / f"data{i}", url, env=env).start() for i in range(2)]
        try:
            yield Pair(servers)
        finally:
            for s in servers:
                s.stop()


def _as(author: Member, server: LiveServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {author.token}"}, timeout=30
    )


def _provable(server: LiveServer, receipts: list[dict[str, Any]]) -> checkpoint.Checkpoint:
    with server.client() as public:
        cp = checkpoint.Checkpoint.from_dict(public.get("/api/v1/ledger/checkpoint").json())
        checkpoint.verify(cp)
        for receipt in receipts:
            index = receipt["ledger_index"]
            proof = public.get(
                "/api/v1/ledger/proof/inclusion", params={"index": index, "size": cp.size}
            ).json()
            merkle.verify_inclusion(
                bytes.fromhex(receipt["leaf_hash"]),
                index,
                cp.size,
                [bytes.fromhex(h) for h in proof["hashes"]],
                cp.root,
            )
    return cp


def _count(server: LiveServer, sql: str) -> int:
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def test_the_same_records_pushed_at_once_to_both_processes_are_kept_once(pair: Pair) -> None:
    author = member(pair.servers[0], "wang", "supervisor")
    envelopes = [author.envelope() for _ in range(12)]
    answers: list[list[dict[str, Any]]] = []
    gate = threading.Barrier(6)

    def push() -> None:
        server = pair.next()
        gate.wait()
        with _as(author, server) as c:
            r = c.post("/api/v1/records/batch", json={"records": envelopes})
        assert r.status_code == 200, r.text
        answers.append([x["receipt"] for x in r.json()["results"]])

    threads = [threading.Thread(target=push) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(answers) == 6
    for i in range(len(envelopes)):  # every push got the one receipt of each record
        assert len({(a[i]["ledger_index"], a[i]["leaf_hash"]) for a in answers}) == 1
    assert _count(pair.servers[0], "SELECT COUNT(*) FROM record_revisions") == len(envelopes)
    _provable(pair.servers[1], answers[0])


def test_an_upload_cut_on_one_process_is_finished_on_the_other_resending_less_than_a_chunk(
    pair: Pair,
) -> None:
    first, second = pair.servers
    author = member(first, "wang", "supervisor")
    digest = hashlib.sha256(PHOTO).hexdigest()
    with _as(author, first) as c:
        assert (
            c.post("/api/v1/uploads", json={"sha256": digest, "length": len(PHOTO)}).status_code
            == 201
        )
        for start in range(0, 3 * CHUNK, CHUNK):
            r = c.patch(
                f"/api/v1/uploads/{digest}",
                content=PHOTO[start : start + CHUNK],
                headers={"Upload-Offset": str(start)},
            )
            assert r.status_code == 200, r.text
    cut_patch(
        first.url, author.token, digest, 3 * CHUNK, PHOTO[3 * CHUNK : 4 * CHUNK], send=CHUNK // 2
    )
    with _as(author, second) as c:
        offset = int(c.head(f"/api/v1/uploads/{digest}").headers["Upload-Offset"])
        sent_before_cut = 3 * CHUNK + CHUNK // 2
        assert 0 <= sent_before_cut - offset <= CHUNK  # sent again: at most one chunk
        while offset < len(PHOTO):
            body = PHOTO[offset : offset + CHUNK]
            r = c.patch(
                f"/api/v1/uploads/{digest}", content=body, headers={"Upload-Offset": str(offset)}
            )
            # 409: the cut chunk's bytes were taken meanwhile by the first process; go on from there.
            assert (
                r.status_code in (200, 201) or r.json()["error"]["code"] == "upload.offset_mismatch"
            ), r.text
            offset = int(r.headers["Upload-Offset"])
        receipt = r.json()
        back = c.get(f"/api/v1/photos/{digest}")
    assert receipt["complete"] and back.content == PHOTO
    with _as(author, first) as c:
        assert c.get(f"/api/v1/photos/{digest}").content == PHOTO
    assert _count(first, f"SELECT COUNT(*) FROM photos WHERE sha256 = '{digest}'") == 1
    assert _count(first, "SELECT COUNT(*) FROM uploads") == 0
    _provable(second, [receipt])


def test_a_process_killed_mid_ingest_loses_nothing_it_acknowledged(pair: Pair) -> None:
    first, second = pair.servers
    author = member(first, "wang", "supervisor")
    acked: dict[str, dict[str, Any]] = {}
    photos_acked: dict[str, dict[str, Any]] = {}
    lost: list[dict[str, Any]] = []
    lock = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()

    def work(n: int) -> None:
        for i in itertools.count():
            if stop.is_set():
                return
            server = pair.next()
            photo = sized_jpeg(n * 10_000 + i, 20_000)
            sha = hashlib.sha256(photo).hexdigest()
            envelope = author.envelope(photos=[sha])
            try:
                with _as(author, server) as c:
                    r = c.post("/api/v1/records", json=envelope)
                    if r.status_code in (200, 201):
                        with lock:
                            acked[envelope["record_id"]] = r.json()
                    p = c.put(f"/api/v1/photos/{sha}", content=photo)
                    if p.status_code in (200, 201):
                        with lock:
                            photos_acked[sha] = p.json()
            except httpx.HTTPError:
                with lock:
                    lost.append(envelope)
            if len(acked) >= 40:
                enough.set()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for th in threads:
        th.start()
    assert enough.wait(timeout=120)
    first.kill()
    pair.servers = [second]  # the balancer notices and sends everything to the live one
    pair.turn = itertools.cycle([0])
    stop.set()
    for th in threads:
        th.join(timeout=60)
    with _as(author, second) as c:
        for envelope in lost:  # a write whose answer was lost is sent again: kept once
            assert c.post("/api/v1/records", json=envelope).status_code in (200, 201)
        for record_id, receipt in acked.items():
            stored = c.get(f"/api/v1/records/{record_id}").json()["revisions"][0]["receipt"]
            assert stored["ledger_index"] == receipt["ledger_index"]
        for sha in photos_acked:
            assert hashlib.sha256(c.get(f"/api/v1/photos/{sha}").content).hexdigest() == sha
    cp = _provable(second, list(acked.values()) + list(photos_acked.values()))
    assert _count(second, "SELECT COUNT(*) FROM ledger_entries") == cp.size
    assert _count(second, "SELECT COUNT(*) FROM record_revisions") == len(
        {*acked, *(e["record_id"] for e in lost)}
    )
    report = second.cli("photos", "sweep")
    assert report.returncode == 0, report.stdout + report.stderr
    assert json.loads(report.stdout)["missing"] == []
