"""The server killed with SIGKILL in the middle of a stream of record writes.

After a restart every acknowledged write is there, under the ledger index and leaf
hash its receipt named, and provable against a signed checkpoint, including the ones
answered from a group of concurrent writes sharing one commit; the ledger and
the record tables agree row for row; a write whose answer was lost is either
wholly there or wholly absent, and sending it again is safe.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.records import Member, member
from xuncha_core import checkpoint, merkle
from xuncha_core.record_receipts import envelope_digest

WRITERS = 8  # enough at once that single writes are committed in groups (server.infra.writer)


class Stream:
    """Writers that push records until the server goes away, remembering what was acknowledged."""

    def __init__(self, author: Member) -> None:
        self.author = author
        self.acked: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # record_id -> (envelope, receipt)
        self.in_flight: list[dict[str, Any]] = []  # sent, answer lost
        self.refused: list[str] = []
        self.lock = threading.Lock()
        self.answered = threading.Condition(self.lock)
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(WRITERS)]

    def start(self) -> Stream:
        for th in self.threads:
            th.start()
        return self

    def join(self) -> None:
        for th in self.threads:
            th.join(timeout=60)

    def _run(self, n: int) -> None:
        with httpx.Client(base_url=self.author.server.url, headers={"Authorization": f"Bearer {self.author.token}"},
                          timeout=10) as c:
            i = 0
            while True:
                i += 1
                batch = [self.author.envelope() for _ in range(4 if (i + n) % 3 == 0 else 1)]
                try:
                    if len(batch) == 1:
                        r = c.post("/api/v1/records", json=batch[0])
                        answers = [r.json()] if r.status_code in (200, 201) else []
                    else:
                        r = c.post("/api/v1/records/batch", json={"records": batch})
                        answers = [x["receipt"] for x in r.json()["results"]] if r.status_code == 200 else []
                except (httpx.HTTPError, ValueError):
                    with self.lock:
                        self.in_flight.extend(batch)
                    return
                with self.lock:
                    if r.status_code not in (200, 201):
                        self.refused.append(r.text)
                        self.answered.notify_all()
                        return
                    for env, receipt in zip(batch, answers, strict=True):
                        self.acked[env["record_id"]] = (env, receipt)
                    self.answered.notify_all()

    def wait_for_acks(self, count: int) -> None:
        """Until ``count`` records are acknowledged (or one is refused)."""
        with self.answered:
            self.answered.wait_for(lambda: len(self.acked) >= count or bool(self.refused), timeout=120)


def _db_rows(server: LiveServer, sql: str) -> list[Any]:
    return server.rows(sql)

def test_every_acknowledged_record_survives_a_kill_and_is_provable(server: LiveServer) -> None:
    author = member(server, "wang", "supervisor")
    stream = Stream(author).start()
    stream.wait_for_acks(60)
    server.kill()
    stream.join()
    assert stream.refused == [] and len(stream.acked) >= 60
    server.start()

    with server.client() as public:
        cp = checkpoint.Checkpoint.from_dict(public.get("/api/v1/ledger/checkpoint").json())
        checkpoint.verify(cp)
        for env, receipt in stream.acked.values():
            index = receipt["ledger_index"]
            got = public.get(f"/api/v1/ledger/entries/{index}").json()
            assert got["leaf_hash"] == receipt["leaf_hash"]
            assert merkle.leaf_hash(got["entry"].encode()).hex() == receipt["leaf_hash"]
            entry = json.loads(got["entry"])
            assert entry["type"] == "record.accepted" and entry["digest"] == receipt["digest"] == envelope_digest(env)
            assert entry["record"] == {"record_id": env["record_id"], "revision": env["revision"]}
            proof = public.get("/api/v1/ledger/proof/inclusion", params={"index": index, "size": cp.size}).json()
            merkle.verify_inclusion(
                bytes.fromhex(receipt["leaf_hash"]), index, cp.size, [bytes.fromhex(h) for h in proof["hashes"]],
                cp.root,
            )
    with author.client() as c:
        for record_id, (_env, receipt) in stream.acked.items():
            stored = c.get(f"/api/v1/records/{record_id}").json()["revisions"][0]["receipt"]
            assert {**stored, "replayed": False} == {**receipt, "photos_missing": []}

    # The ledger and the record tables agree row for row: no orphan either way.
    entries = _db_rows(server, "SELECT idx, entry FROM ledger_entries ORDER BY idx")
    assert [r.idx for r in entries] == list(range(cp.size))
    accepted = {r.idx for r in entries if json.loads(r.entry)["type"] == "record.accepted"}
    revisions = {r.ledger_index for r in _db_rows(server, "SELECT ledger_index FROM record_revisions")}
    assert accepted == revisions
    heads = _db_rows(server, "SELECT COUNT(*) FROM records")[0][0]
    assert heads == len(revisions) == len(_db_rows(server, "SELECT record_id FROM record_revisions"))

    # A write whose answer was lost is safe to send again: stored once, never a conflict.
    with author.client() as c:
        for env in stream.in_flight:
            r = c.post("/api/v1/records", json=env)
            assert r.status_code in (200, 201), r.text
    stored = _db_rows(server, "SELECT COUNT(*) FROM record_revisions")[0][0]
    assert stored == len(stream.acked) + len(stream.in_flight)
