"""A data folder from before ledger entries committed to their contents, migrated by starting the server.

Its entries cannot change: their leaf hashes are in phones' receipts and auditors'
checkpoints. After migration 2 the tree and every proof are the same; the public no
longer reads the old full texts (``entry`` is null), the roles that may read them still
do; a phone proves its old receipts from the envelopes it holds; an audit bundle carries
the old texts and the new contents, and verifies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from field_app.store import LocalStore
from field_app.sync.errors import ProofFailed
from field_app.sync.receipts import prove, prove_record
from field_app.sync.transport import ServerApi, build_client
from tests.conftest import PHOTOS
from tests.support.legacy_ledger import PERSONAL, LegacyTown, write_legacy_town
from tests.support.live_server import ROOT, LiveServer
from tests.support.records import remediation_content
from xuncha_core import checkpoint, ledger_entries
from xuncha_core.merkle import root, verify_consistency, verify_inclusion


@pytest.fixture
def legacy(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveServer, LegacyTown]]:
    data = tmp_path / "data"
    town = write_legacy_town(data, database_url, (PHOTOS / "gps_DSCN0010.jpg").read_bytes())
    srv = LiveServer(data, database_url).start()  # migrates
    yield srv, town
    srv.stop()


def _hashes(body: dict) -> list[bytes]:
    return [bytes.fromhex(h) for h in body["hashes"]]


def test_the_migrated_tree_is_unchanged_and_the_public_no_longer_reads_old_texts(
    legacy: tuple[LiveServer, LegacyTown],
) -> None:
    server, town = legacy
    size = len(town.texts)
    with httpx.Client(base_url=server.url) as c:
        cp = checkpoint.Checkpoint.from_dict(c.get("/api/v1/ledger/checkpoint").json())
        entries = [c.get(f"/api/v1/ledger/entries/{i}") for i in range(size)]
        paths = [c.get("/api/v1/ledger/proof/inclusion", params={"index": i, "size": size}).json() for i in range(size)]
    assert (cp.size, cp.root) == (size, root(town.leaves))
    for i, r in enumerate(entries):
        assert r.json() == {"index": i, "entry": None, "leaf_hash": town.leaves[i].hex()}
        verify_inclusion(town.leaves[i], i, size, _hashes(paths[i]), cp.root)
        assert not [p for p in PERSONAL if p in r.text]

    # New entries are committed; the old checkpoint is provably a prefix of the new tree.
    wang = town.tokens["wang.cy"]
    envelope = {**town.envelopes[1], "revision": 3, "base_revision": 2, "base_digest": town.receipts[1]["digest"],
                "content": remediation_content(recorder="王春燕", note="已补拍")}
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {wang}"}) as c:
        receipt = c.post("/api/v1/records", json=envelope).json()
        body = c.get(f"/api/v1/ledger/entries/{receipt['ledger_index']}").json()
        new = checkpoint.Checkpoint.from_dict(c.get("/api/v1/ledger/checkpoint").json())
        proof = c.get("/api/v1/ledger/proof/consistency", params={"first": size, "second": new.size}).json()
    assert receipt["ledger_index"] == size
    assert ledger_entries.parse(body["entry"]) == {
        "type": "record.accepted", "record": {"record_id": envelope["record_id"], "revision": 3},
        "digest": receipt["digest"], "received_at": receipt["received_at"],
    }
    verify_consistency(size, new.size, _hashes(proof), cp.root, new.root)


def test_the_old_texts_are_read_by_the_roles_that_may_read_them(legacy: tuple[LiveServer, LegacyTown]) -> None:
    server, town = legacy

    def content(username: str, index: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {town.tokens[username]}"}) as c:
            return c.get(f"/api/v1/ledger/entries/{index}/content")

    for i, text in enumerate(town.texts):
        body = content("audit.qj", i).json()
        assert body == {"index": i, "entry": text, "leaf_hash": town.leaves[i].hex(), "content": json.loads(text),
                        "salt": None, "legacy": True}
    own = [r["ledger_index"] for r in town.receipts] + [town.review_index]
    for i in own:
        assert content("wang.cy", i).json()["entry"] == town.texts[i]
        assert content("ran.dm", i).status_code == 403
    assert content("zhou.hb", own[0]).status_code == 200
    assert content("wang.cy", 0).status_code == 403  # an account's entry, not her record's


def test_a_phones_receipts_from_before_the_migration_still_verify(
    legacy: tuple[LiveServer, LegacyTown], tmp_path: Path
) -> None:
    server, town = legacy
    store = LocalStore(tmp_path / "phone")
    assert store.import_history(list(zip(town.envelopes, town.receipts, strict=True))) == 2
    record_id = town.receipts[0]["record_id"]
    api = ServerApi(build_client(server.url, town.tokens["wang.cy"]))
    try:
        for revision in (1, 2):  # the older revision too: the phone keeps every accepted envelope
            proof = prove_record(store, api, record_id, revision)
            assert proof.ledger_index == town.receipts[revision - 1]["ledger_index"]
        with pytest.raises(ProofFailed) as withheld:
            prove(api, town.receipts[0], trusted_public_key=None, envelope=None)
        assert withheld.value.code == "receipt.entry_withheld" and withheld.value.message_zh
        with pytest.raises(ProofFailed) as other:
            prove(api, town.receipts[0], trusted_public_key=None, envelope=town.envelopes[1])
        assert other.value.code == "receipt.entry_mismatch"
    finally:
        api.close()


def test_an_audit_bundle_of_a_migrated_ledger_carries_old_texts_and_new_contents_and_verifies(
    legacy: tuple[LiveServer, LegacyTown], tmp_path: Path
) -> None:
    server, town = legacy
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {town.tokens['zhou.hb']}"}) as c:
        r = c.post(f"/api/v1/records/{town.receipts[0]['record_id']}/reviews",
                   json={"revision": 2, "action": "comment", "reason": "迁移后复核：照片与记录一致"})
        assert r.status_code == 201, r.text
    for name, extra in (("full.zip", []), ("record.zip", ["--record", town.receipts[0]["record_id"]])):
        out = tmp_path / name
        done = server.cli("audit", "export", "--out", str(out), *extra)
        assert done.returncode == 0, done.stderr
        with zipfile.ZipFile(out) as zf:
            lines = [json.loads(x) for x in zf.read("entries.jsonl").decode().splitlines()]
        old = [x for x in lines if x["index"] < len(town.texts)]
        assert all(x["entry"] == town.texts[x["index"]] and "content" not in x for x in old)
        [comment] = [x for x in lines if x["index"] >= len(town.texts)]
        assert comment["content"]["action"] == "comment" and len(comment["salt"]) == 32
        result = subprocess.run([sys.executable, "-m", "server", "audit", "verify", str(out)], cwd=ROOT,
                                env={**server.env(), "XUNCHA_DATA_DIR": str(tmp_path / "none")},
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "the contents of 1 entries match" in result.stdout
        assert f"{len(old)} legacy entries hold their content in their own text" in result.stdout


def test_migrating_copies_every_old_text_beside_the_ledger_once(legacy: tuple[LiveServer, LegacyTown]) -> None:
    server, town = legacy
    server.stop()
    server.start()  # a second start applies nothing again
    engine = sa.create_engine(server.database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT idx, type, record_id, content, salt, legacy FROM ledger_contents "
                                        "ORDER BY idx")).all()
            versions = conn.execute(sa.text("SELECT version FROM schema_migrations ORDER BY version")).scalars().all()
    finally:
        engine.dispose()
    assert [r.idx for r in rows] == list(range(len(town.texts)))
    assert all(r.content == town.texts[r.idx] and r.salt is None and r.legacy for r in rows)
    record_id = town.receipts[0]["record_id"]
    assert {r.idx for r in rows if r.record_id == record_id} == {*(x["ledger_index"] for x in town.receipts), town.review_index}
    assert [json.loads(r.content)["type"] for r in rows] == [r.type for r in rows]
    assert versions[:2] == [1, 2]
