"""Backup while the record is being written, restore into an empty database and store: the same
ledger, the same photos, a checkpoint that signs it (issue 12)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from server.accounts.accounts import create_user
from server.infra import tables as t
from server.infra.backup import take_backup
from server.infra.db import make_engine, read
from server.infra.migrations import migrate
from server.infra.restore import restore_backup
from server.infra.settings import Settings
from server.infra.writer import write
from server.ledger import proofs, store
from server.photos import checks
from server.photos import store as photo_store
from server.photos.blobs import LocalFolderBlobs, PhotoBlobs, open_blobs, photos_url
from tests.conftest import PHOTOS
from tests.support.databases import backends, fresh_database
from tests.support.object_store import SeaweedS3, s3_server  # noqa: F401 - fixture
from xuncha_core.checkpoint import Checkpoint, verify
from xuncha_core.errors import ConflictError

PHOTO_FILES = sorted(PHOTOS.glob("*.jpg"))[:3]


@pytest.fixture(params=["folder", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _blobs(kind: str, tmp_path: Path, name: str, s3: SeaweedS3) -> PhotoBlobs:
    if kind == "folder":
        return LocalFolderBlobs(tmp_path / name / "photos")
    env = s3.env(prefix=f"{tmp_path.name}-{name}")
    return open_blobs(photos_url(env), folder=Path("unused"), env=env)


@pytest.fixture
def restored_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database to restore into: PostgreSQL if it is tested, else another SQLite file."""
    backend = "postgres" if "postgres" in backends() else "sqlite"
    (tmp_path / "restored").mkdir()
    with fresh_database(backend, tmp_path / "restored") as url:
        yield url


def _keep_photos(engine: Engine, settings: Settings, blobs: PhotoBlobs) -> list[str]:
    kept = []
    write(engine, lambda conn: create_user(conn, username="wang", role="supervisor", password=None))
    for path in PHOTO_FILES:
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        photo = checks.inspect_photo(data, settings=settings, expected_sha256=sha)
        blobs.put(sha, data)
        write(engine, lambda conn, photo=photo: photo_store.record_photo(conn, photo, uploaded_by="wang"))
        kept.append(sha)
    return kept


def test_a_backup_taken_during_writes_restores_to_the_ledger_its_checkpoint_signs(
    engine: Engine,
    database_url: str,
    restored_url: str,
    store_kind: str,
    s3_server: SeaweedS3,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    blobs = _blobs(store_kind, tmp_path, "live", s3_server)
    kept = _keep_photos(engine, settings, blobs)
    key = Ed25519PrivateKey.generate()
    stop, under_way = threading.Event(), threading.Event()
    written: list[int] = []

    def keep_writing() -> None:  # users added (each a ledger entry) all through the backup
        while not stop.is_set():
            name = f"u{len(written)}"
            write(engine, lambda conn, name=name: create_user(conn, username=name, role="officer", password=None))
            written.append(1)
            if len(written) >= 5:
                under_way.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert under_way.wait(timeout=60)
        summary = take_backup(engine, blobs, out=tmp_path / "backup", signing_key=key)
        after = len(written)
    finally:
        stop.set()
        writer.join()
    checkpoint = Checkpoint.from_dict(
        json.loads((tmp_path / "backup" / "checkpoint.json").read_text())
    )
    verify(checkpoint)
    assert summary.photos == len(kept) and after >= 5
    target = make_engine(restored_url)
    try:
        restored_blobs = _blobs(store_kind, tmp_path, "restored", s3_server)
        result = restore_backup(target, restored_blobs, folder=tmp_path / "backup")
        assert result.rows == summary.rows
        with read(target) as conn:
            assert store.size(conn) == checkpoint.size
            assert proofs.root_at(conn, checkpoint.size) == checkpoint.root
            users = set(conn.execute(select(t.users.c.username)).scalars())
        assert "wang" in users and len(users) == summary.rows["users"]
        assert sorted(restored_blobs.names()) == sorted(kept)
        for sha in kept:
            assert hashlib.sha256(restored_blobs.read(sha)).hexdigest() == sha
        with pytest.raises(ConflictError) as again:
            restore_backup(target, restored_blobs, folder=tmp_path / "backup")
        assert again.value.code == "restore.not_empty"
    finally:
        target.dispose()


def test_a_damaged_backup_is_refused_and_leaves_the_database_empty(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    blobs = LocalFolderBlobs(tmp_path / "live")
    _keep_photos(engine, settings, blobs)
    take_backup(engine, blobs, out=tmp_path / "backup", signing_key=Ed25519PrivateKey.generate())
    entries = tmp_path / "backup" / "tables" / "ledger_entries.jsonl"
    lines = entries.read_text().splitlines()
    entries.write_text("\n".join(lines[:-1]) + "\n")  # the last entry lost
    target_url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    target = make_engine(target_url)
    try:
        with pytest.raises(Exception) as refused:
            restore_backup(
                target, LocalFolderBlobs(tmp_path / "target"), folder=tmp_path / "backup"
            )
        assert getattr(refused.value, "code", "") == "restore.ledger_mismatch"
        migrate(target)
        with read(target) as conn:
            assert store.size(conn) == 0
            assert conn.execute(select(t.users)).first() is None
    finally:
        target.dispose()


def test_a_damaged_photo_is_refused_by_backup_and_by_restore_and_never_copied(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Photos are streamed through both (never held whole), and each copy is hash-checked:
    a damaged photo in the store stops the backup, a damaged copy in a backup stops the restore."""
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    live = LocalFolderBlobs(tmp_path / "live")
    kept = _keep_photos(engine, settings, live)
    key = Ed25519PrivateKey.generate()
    take_backup(engine, live, out=tmp_path / "good", signing_key=key)
    damaged = live.path(kept[0])
    original = damaged.read_bytes()
    damaged.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(Exception) as refused_backup:
        take_backup(engine, live, out=tmp_path / "bad", signing_key=key)
    assert getattr(refused_backup.value, "code", "") == "backup.photo_damaged"
    assert not (tmp_path / "bad" / "photos" / kept[0][:2] / kept[0]).exists()
    assert not [p for p in (tmp_path / "bad" / "photos").rglob("*") if p.is_file() and kept[0] in p.name]

    copy = tmp_path / "good" / "photos" / kept[0][:2] / kept[0]
    copy.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    target = make_engine(f"sqlite:///{tmp_path / 'target.sqlite3'}")
    try:
        with pytest.raises(Exception) as refused_restore:
            restore_backup(target, LocalFolderBlobs(tmp_path / "target"), folder=tmp_path / "good")
        assert getattr(refused_restore.value, "code", "") == "restore.photo_damaged"
        assert not LocalFolderBlobs(tmp_path / "target").has(kept[0])
    finally:
        target.dispose()
