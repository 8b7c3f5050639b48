"""Audit bundles: exported from a live server's data, verified offline; tampering is found and named."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tests.conftest import PHOTOS, ROOT
from tests.support.live_server import LiveServer
from tests.support.records import Member, member
from xuncha_core import checkpoint
from xuncha_core.canonical import canonical_text
from xuncha_core.merkle import leaf_hash, node_hash


@dataclass
class Town:
    """What the office recorded: record A (two revisions, two photos, a review) and record B."""

    record_a: str
    record_b: str
    photos: list[str]
    b_index: int
    review_index: int
    supervisor: Member


def _populate(server: LiveServer) -> Town:
    wang = member(server, "wang", "supervisor")
    zhou = member(server, "zhou", "office_reviewer")
    photos = []
    with wang.client() as c:
        for name in ("gps_DSCN0010.jpg", "orientation_landscape_3.jpg"):
            data = (PHOTOS / name).read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            r = c.put(f"/api/v1/photos/{sha}", content=data)
            assert r.status_code == 201, r.text
            photos.append(sha)
        a1 = wang.envelope(photos=photos[:1])
        assert c.post("/api/v1/records", json=a1).status_code == 201
        a2 = wang.envelope(base=a1, photos=photos)
        assert c.post("/api/v1/records", json=a2).status_code == 201
        b = wang.envelope()
        rb = c.post("/api/v1/records", json=b)
        assert rb.status_code == 201
    with zhou.client() as c:
        r = c.post(
            f"/api/v1/records/{a1['record_id']}/reviews",
            json={"revision": 2, "action": "send_back", "reason": "照片看不清，请补拍"},
        )
        assert r.status_code == 201, r.text
    return Town(a1["record_id"], b["record_id"], photos, rb.json()["ledger_index"], r.json()["ledger_index"], wang)


def _audit(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return server.cli("audit", *args)


def _verify(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``audit verify`` as an auditor runs it: no server, and no database it could reach."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "XUNCHA_DATABASE_URL": "postgresql+psycopg://nobody:nothing@127.0.0.1:9/none",
            "XUNCHA_DATA_DIR": str(bundle.parent / "no-data-here"),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "server", "audit", "verify", str(bundle), *args],
        env=env,
        cwd=bundle.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _failed_verifies(server: LiveServer, tmp_path: Path, record_id: str) -> list[subprocess.CompletedProcess[str]]:
    """Export the full bundle and ``record_id``'s, verify each and check that both fail: their answers."""
    results = []
    for name, extra in (("full.zip", []), ("record.zip", ["--record", record_id])):
        out = tmp_path / name
        assert _audit(server, "export", "--out", str(out), *extra).returncode == 0
        result = _verify(out)
        assert result.returncode == 1, result.stdout
        results.append(result)
    return results


def _sql(server: LiveServer, *statements: str, params: list[dict] | None = None) -> None:
    eng = sa.create_engine(server.database_url)
    try:
        with eng.begin() as conn:
            for i, s in enumerate(statements):
                conn.execute(sa.text(s), (params or [{}] * len(statements))[i])
    finally:
        eng.dispose()


APPEND_ONLY = ("ledger_entries", "ledger_nodes", "ledger_contents")


def _drop_append_only_triggers(server: LiveServer) -> None:
    """What an attacker with database access does first."""
    if server.database_url.startswith("sqlite"):
        names = [f"{t}_no_{op}" for t in APPEND_ONLY for op in ("update", "delete")]
        _sql(server, *[f"DROP TRIGGER {n}" for n in names])
    else:
        _sql(server, *[f"DROP TRIGGER {t}_no_change ON {t}" for t in APPEND_ONLY])


def _stored(server: LiveServer, column: str, index: int) -> str:
    """The hashed text (``entry``) of a ledger entry, or its kept ``content`` or ``salt``."""
    table = "ledger_entries" if column == "entry" else "ledger_contents"
    return str(server.scalar(f"SELECT {column} FROM {table} WHERE idx = :i", {"i": index}))

def _one_byte_changed(text: str) -> str:
    assert '"total_score":100' in text
    changed = text.replace('"total_score":100', '"total_score":900', 1)
    assert len(changed.encode()) == len(text.encode())
    return changed


def _one_hex_digit_changed(text: str, before: str) -> str:
    """``text`` with the hex digit after ``before`` changed (a digest or a salt)."""
    at = text.index(before) + len(before)
    return text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1 :]


def _failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("FAIL")]


def test_a_full_export_of_an_untouched_ledger_verifies_offline(server: LiveServer, tmp_path: Path) -> None:
    town = _populate(server)
    out = tmp_path / "full.zip"
    done = _audit(server, "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    server.stop()
    result = _verify(out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERIFIED" in result.stdout and "FAIL" not in result.stdout
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {f"photos/{sha}" for sha in town.photos} <= names
    assert manifest["format"] == "xuncha-audit-bundle/v2" and manifest["scope"] == "full"
    assert manifest["entry_count"] == manifest["tree_size"]


def test_a_record_export_holds_its_revisions_review_and_photos_only(server: LiveServer, tmp_path: Path) -> None:
    town = _populate(server)
    out = tmp_path / "record.zip"
    done = _audit(server, "export", "--out", str(out), "--record", town.record_a)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        lines = [json.loads(x) for x in zf.read("entries.jsonl").decode().splitlines()]
        names = set(zf.namelist())
    entries = [json.loads(x["entry"]) for x in lines]
    kinds = sorted(e["type"] for e in entries)
    assert kinds == ["photo.received", "photo.received", "record.accepted", "record.accepted", "review.recorded"]
    assert all(x["inclusion"] is not None for x in lines)
    assert town.record_b not in "".join(x["entry"] for x in lines)
    review = next(x for x, e in zip(lines, entries, strict=True) if e["type"] == "review.recorded")
    assert review["content"]["reason"] == "照片看不清，请补拍" and len(review["salt"]) == 32
    assert {n for n in names if n.startswith("photos/")} == {f"photos/{s}" for s in town.photos}
    result = _verify(out)
    assert result.returncode == 0, result.stdout
    assert "inclusion proofs of 5 entries" in result.stdout
    assert "the contents of 5 entries match the digests they commit to" in result.stdout


def test_one_changed_byte_in_a_stored_entry_fails_verify_and_names_the_entry(
    server: LiveServer, tmp_path: Path
) -> None:
    town = _populate(server)
    _drop_append_only_triggers(server)
    changed = _one_hex_digit_changed(_stored(server, "entry", town.b_index), '"digest":"')
    _sql(server, "UPDATE ledger_entries SET entry = :e WHERE idx = :i", params=[{"e": changed, "i": town.b_index}])
    for result in _failed_verifies(server, tmp_path, town.record_b):
        assert f"FAIL  entry {town.b_index}: its text hashes to leaf" in result.stdout
        assert "NOT VERIFIED" in result.stdout


def test_one_changed_byte_in_a_kept_content_fails_verify_and_names_the_entry(server: LiveServer, tmp_path: Path) -> None:
    town = _populate(server)
    _drop_append_only_triggers(server)
    changed = _one_byte_changed(_stored(server, "content", town.b_index))
    _sql(server, "UPDATE ledger_contents SET content = :c WHERE idx = :i", params=[{"c": changed, "i": town.b_index}])
    for result in _failed_verifies(server, tmp_path, town.record_b):
        [failure] = _failures(result)  # that entry, and nothing else
        assert failure.startswith(f"FAIL  entry {town.b_index}: its content does not match the digest it commits to")
        assert "was altered" in failure


def test_a_kept_content_cut_short_fails_verify_and_names_the_entry(sqlite_server: LiveServer, tmp_path: Path) -> None:
    town = _populate(sqlite_server)
    _drop_append_only_triggers(sqlite_server)
    cut = _stored(sqlite_server, "content", town.b_index)[:-10]
    _sql(sqlite_server, "UPDATE ledger_contents SET content = :c WHERE idx = :i", params=[{"c": cut, "i": town.b_index}])
    out = tmp_path / "full.zip"
    assert _audit(sqlite_server, "export", "--out", str(out)).returncode == 0
    result = _verify(out)
    assert result.returncode == 1, result.stdout
    assert any(f.startswith(f"FAIL  entry {town.b_index}: entries.jsonl line") for f in _failures(result))


def test_a_changed_salt_fails_verify_and_names_the_entry(server: LiveServer, tmp_path: Path) -> None:
    town = _populate(server)
    _drop_append_only_triggers(server)
    salt = _stored(server, "salt", town.review_index)
    _sql(server, "UPDATE ledger_contents SET salt = :s WHERE idx = :i",
         params=[{"s": _one_hex_digit_changed(salt, ""), "i": town.review_index}])
    for result in _failed_verifies(server, tmp_path, town.record_a):
        [failure] = _failures(result)
        assert failure.startswith(f"FAIL  entry {town.review_index}: its content does not match the digest")


def test_one_changed_byte_in_a_photo_file_fails_verify_and_names_the_photo(
    server: LiveServer, tmp_path: Path
) -> None:
    town = _populate(server)
    victim = town.photos[1]
    path = server.data_dir / "photos" / victim[:2] / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    for result in _failed_verifies(server, tmp_path, town.record_a):
        assert f"FAIL  photo {victim}: its bytes hash to" in result.stdout
        assert town.photos[0] not in "".join(x for x in result.stdout.splitlines() if x.startswith("FAIL"))


def test_a_deleted_photo_file_fails_verify_and_names_the_photo(sqlite_server: LiveServer, tmp_path: Path) -> None:
    town = _populate(sqlite_server)
    (sqlite_server.data_dir / "photos" / town.photos[0][:2] / town.photos[0]).unlink()
    out = tmp_path / "full.zip"
    assert _audit(sqlite_server, "export", "--out", str(out)).returncode == 0
    result = _verify(out)
    assert result.returncode == 1
    assert f"FAIL  photo {town.photos[0]}: was received (entry" in result.stdout


def test_a_checkpoint_kept_earlier_passes_when_the_log_only_grew(server: LiveServer, tmp_path: Path) -> None:
    town = _populate(server)
    old = tmp_path / "kept.json"
    assert _audit(server, "checkpoint", "--out", str(old)).returncode == 0
    kept = json.loads(old.read_text())
    with town.supervisor.client() as c:
        for _ in range(3):
            assert c.post("/api/v1/records", json=town.supervisor.envelope()).status_code == 201
    m = kept["size"]
    for name, extra, proven in (
        ("full.zip", [], f"the first {m} entries still hash to the trusted root"),
        ("record.zip", ["--record", town.record_a, "--trusted-size", str(m)], f"consistency from the trusted size {m} to {m + 3}"),
    ):
        out = tmp_path / name
        assert _audit(server, "export", "--out", str(out), *extra).returncode == 0
        result = _verify(out, "--trusted-checkpoint", str(old))
        assert result.returncode == 0, result.stdout
        assert proven in result.stdout


def test_a_record_export_without_a_proof_from_the_kept_size_says_how_to_export(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    town = _populate(sqlite_server)
    old = tmp_path / "kept.json"
    assert _audit(sqlite_server, "checkpoint", "--out", str(old)).returncode == 0
    member(sqlite_server, "li", "officer")  # a new account: the log grows
    out = tmp_path / "record.zip"
    assert _audit(sqlite_server, "export", "--out", str(out), "--record", town.record_a).returncode == 0
    result = _verify(out, "--trusted-checkpoint", str(old))
    size = json.loads(old.read_text())["size"]
    assert result.returncode == 1
    assert f"export it with --trusted-size {size}" in result.stdout


def _rewrite_history(server: LiveServer, index: int) -> None:
    """An attacker with database access rewrites an old entry and rebuilds the whole tree to match."""
    _drop_append_only_triggers(server)
    eng = sa.create_engine(server.database_url)
    try:
        with eng.begin() as conn:
            # The record's content and the digest committing to it are both rewritten, consistently.
            content = _one_byte_changed(
                conn.execute(sa.text("SELECT content FROM ledger_contents WHERE idx = :i"), {"i": index}).scalar_one()
            )
            entry = json.loads(conn.execute(sa.text("SELECT entry FROM ledger_entries WHERE idx = :i"), {"i": index}).scalar_one())
            entry["digest"] = hashlib.sha256(content.encode()).hexdigest()
            forged = canonical_text(entry)
            conn.execute(sa.text("UPDATE ledger_contents SET content = :c WHERE idx = :i"), {"c": content, "i": index})
            conn.execute(
                sa.text("UPDATE ledger_entries SET entry = :e, leaf_hash = :h WHERE idx = :i"),
                {"e": forged, "h": leaf_hash(forged.encode()), "i": index},
            )
            leaves = [bytes(r[0]) for r in conn.execute(sa.text("SELECT leaf_hash FROM ledger_entries ORDER BY idx"))]
            conn.execute(sa.text("DELETE FROM ledger_nodes"))
            level, rows = leaves, []
            height = 0
            while level:
                rows += [{"l": height, "p": p, "h": h} for p, h in enumerate(level)]
                level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
                height += 1
            conn.execute(sa.text("INSERT INTO ledger_nodes (level, pos, hash) VALUES (:l, :p, :h)"), rows)
    finally:
        eng.dispose()


def test_a_rewritten_history_is_caught_by_a_checkpoint_kept_earlier(server: LiveServer, tmp_path: Path) -> None:
    town = _populate(server)
    old = tmp_path / "kept.json"
    assert _audit(server, "checkpoint", "--out", str(old)).returncode == 0
    size = json.loads(old.read_text())["size"]
    _rewrite_history(server, town.b_index)
    for name, extra in (("full.zip", []), ("record.zip", ["--record", town.record_a, "--trusted-size", str(size)])):
        out = tmp_path / name
        assert _audit(server, "export", "--out", str(out), *extra).returncode == 0
        # The rebuilt tree is self-consistent, and the server signs it: only the kept checkpoint tells.
        assert _verify(out).returncode == 0
        result = _verify(out, "--trusted-checkpoint", str(old))
        assert result.returncode == 1, result.stdout
        assert "FAIL  trusted checkpoint" in result.stdout


def test_a_forked_or_foreign_trusted_checkpoint_fails(sqlite_server: LiveServer, tmp_path: Path) -> None:
    _populate(sqlite_server)
    out = tmp_path / "full.zip"
    assert _audit(sqlite_server, "export", "--out", str(out)).returncode == 0
    with zipfile.ZipFile(out) as zf:
        real = checkpoint.Checkpoint.from_dict(json.loads(zf.read("checkpoint.json")))
    key = load_pem_private_key((sqlite_server.data_dir / "ledger_signing_key.pem").read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    forked = checkpoint.sign(key, real.size - 1, b"\x07" * 32, "2025-05-01T00:00:00+00:00")
    foreign = checkpoint.sign(Ed25519PrivateKey.generate(), real.size, real.root, real.timestamp)
    for cp, expect in ((forked, "do not hash to the trusted root"), (foreign, "not by the trusted key")):
        path = tmp_path / "trusted.json"
        path.write_text(json.dumps(cp.as_dict()))
        result = _verify(out, "--trusted-checkpoint", str(path))
        assert result.returncode == 1, result.stdout
        assert expect in result.stdout


def test_an_altered_checkpoint_in_the_bundle_fails(sqlite_server: LiveServer, tmp_path: Path) -> None:
    _populate(sqlite_server)
    out = tmp_path / "full.zip"
    assert _audit(sqlite_server, "export", "--out", str(out)).returncode == 0
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(forged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "checkpoint.json":
                cp = json.loads(data)
                cp["timestamp"] = "2030-01-01T00:00:00+00:00"
                data = json.dumps(cp).encode()
            dst.writestr(item, data)
    result = _verify(forged)
    assert result.returncode == 1
    assert "FAIL  checkpoint: the signature on the checkpoint" in result.stdout


def test_export_of_an_unknown_record_is_refused_and_writes_nothing(sqlite_server: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "none.zip"
    done = _audit(sqlite_server, "export", "--out", str(out), "--record", "3f0e8d4c-1111-4a2b-9c3d-000000000000")
    assert done.returncode == 2
    assert "has no entry in the ledger" in done.stderr
    assert not out.exists()


def test_a_file_that_is_not_a_bundle_is_reported(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip file")
    result = _verify(junk)
    assert result.returncode == 1
    assert "FAIL  bundle: cannot open junk.zip as a ZIP file" in result.stdout
