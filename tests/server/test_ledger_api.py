"""The public ledger API on a live server: signed checkpoints, entries and proofs anyone can check."""

from __future__ import annotations

import base64
import hashlib
import stat

import httpx

from tests.support.live_server import LiveServer
from tests.support.records import Member, member
from xuncha_core import checkpoint
from xuncha_core.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    memory_subtree_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def _hashes(body: dict) -> list[bytes]:
    return [bytes.fromhex(h) for h in body["hashes"]]


def _post_records(who: Member, n: int) -> list[int]:
    with who.client() as c:
        return [c.post("/api/v1/records", json=who.envelope()).json()["ledger_index"] for _ in range(n)]


def test_an_empty_ledger_answers_a_signed_checkpoint_of_the_empty_tree(server: LiveServer) -> None:
    with server.client() as c:
        body = c.get("/api/v1/ledger/checkpoint").json()
        proof = c.get("/api/v1/ledger/proof/consistency", params={"first": 0, "second": 0}).json()
    assert set(body) == {"size", "root", "timestamp", "key_id", "signature", "public_key"}
    assert body["size"] == 0 and body["root"] == EMPTY_ROOT.hex() == hashlib.sha256(b"").hexdigest()
    cp = checkpoint.Checkpoint.from_dict(body)
    checkpoint.verify(cp)
    assert len(base64.b64decode(body["public_key"])) == 32
    assert body["key_id"] == hashlib.sha256(cp.public_key).digest()[:8].hex()
    assert proof == {"first": 0, "second": 0, "hashes": []}


def test_the_signing_key_is_private_and_survives_a_restart(server: LiveServer) -> None:
    key_file = server.data_dir / "ledger_signing_key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    before = key_file.read_bytes()
    with server.client() as c:
        first = c.get("/api/v1/ledger/checkpoint").json()
    server.kill()
    server.start()
    with server.client() as c:
        again = c.get("/api/v1/ledger/checkpoint").json()
    assert key_file.read_bytes() == before
    assert again["public_key"] == first["public_key"] and again["key_id"] == first["key_id"]


def test_every_entry_and_proof_checks_against_the_signed_checkpoint(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    indexes = _post_records(wang, 12)
    with server.client() as c:
        cp = checkpoint.Checkpoint.from_dict(c.get("/api/v1/ledger/checkpoint").json())
        checkpoint.verify(cp)
        assert cp.size > max(indexes)
        entries = [c.get(f"/api/v1/ledger/entries/{i}").json() for i in range(cp.size)]
        leaves = []
        for i, e in enumerate(entries):
            assert e["index"] == i
            assert leaf_hash(e["entry"].encode("utf-8")).hex() == e["leaf_hash"]
            leaves.append(bytes.fromhex(e["leaf_hash"]))
        assert root(leaves) == cp.root
        memory = memory_subtree_hash(leaves)
        for i in range(cp.size):
            body = c.get("/api/v1/ledger/proof/inclusion", params={"index": i, "size": cp.size}).json()
            assert body["index"] == i and body["size"] == cp.size
            assert _hashes(body) == inclusion_proof(i, cp.size, memory)
            verify_inclusion(leaves[i], i, cp.size, _hashes(body), cp.root)
        for first in range(cp.size + 1):
            body = c.get("/api/v1/ledger/proof/consistency", params={"first": first, "second": cp.size}).json()
            assert body["first"] == first and body["second"] == cp.size
            assert _hashes(body) == consistency_proof(first, cp.size, memory)
            verify_consistency(first, cp.size, _hashes(body), root(leaves[:first]), cp.root)


def test_an_older_checkpoint_is_provably_a_prefix_of_a_newer_one(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    _post_records(wang, 3)
    with server.client() as c:
        old = checkpoint.Checkpoint.from_dict(c.get("/api/v1/ledger/checkpoint").json())
        _post_records(wang, 5)
        new = checkpoint.Checkpoint.from_dict(c.get("/api/v1/ledger/checkpoint").json())
        body = c.get("/api/v1/ledger/proof/consistency", params={"first": old.size, "second": new.size}).json()
    assert new.size == old.size + 5
    verify_consistency(old.size, new.size, _hashes(body), old.root, new.root)


def test_the_ledger_is_public_and_read_only(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as c:
        assert c.get("/api/v1/ledger/checkpoint").status_code == 200
        assert c.post("/api/v1/ledger/checkpoint").status_code == 405
        assert c.delete("/api/v1/ledger/entries/0").status_code == 405


def test_out_of_range_arguments_get_a_stable_error_code(server: LiveServer) -> None:
    wang = member(server, "wang", "supervisor")
    _post_records(wang, 2)
    with server.client() as c:
        size = c.get("/api/v1/ledger/checkpoint").json()["size"]
        cases = [
            ("/api/v1/ledger/entries/99999", {}, 404, "ledger.entry_not_found"),
            ("/api/v1/ledger/proof/inclusion", {"index": size, "size": size}, 400, "ledger.index_out_of_range"),
            ("/api/v1/ledger/proof/inclusion", {"index": 0, "size": 0}, 400, "ledger.index_out_of_range"),
            ("/api/v1/ledger/proof/inclusion", {"index": 0, "size": size + 1}, 400, "ledger.size_out_of_range"),
            ("/api/v1/ledger/proof/consistency", {"first": 2, "second": 1}, 400, "ledger.sizes_out_of_order"),
            ("/api/v1/ledger/proof/consistency", {"first": 1, "second": size + 1}, 400, "ledger.size_out_of_range"),
            ("/api/v1/ledger/proof/inclusion", {"index": -1, "size": size}, 422, "request.invalid"),
            ("/api/v1/ledger/proof/inclusion", {"index": "x", "size": size}, 422, "request.invalid"),
            ("/api/v1/ledger/proof/consistency", {"first": 1}, 422, "request.invalid"),
            ("/api/v1/ledger/entries/-1", {}, 422, "request.invalid"),
            ("/api/v1/ledger/proof/inclusion", {"index": 0, "size": 2**70}, 422, "request.invalid"),
        ]
        for path, params, status, code in cases:
            r = c.get(path, params=params)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path, params, r.text)
            assert r.json()["error"]["message"] and r.json()["error"]["message_zh"]
