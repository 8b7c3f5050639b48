"""Files are 0600 and folders 0700, whatever the umask (issue 7, hole 9).

The SQLite files hold argon2 hashes and the hashes of 10-digit enrollment codes (easy to
reverse by brute force), the photos are evidence with faces and house numbers, the phone's
store holds the device token: none of it may be readable by another account on the machine.
A fresh server and a fresh phone run here as their own processes under a permissive umask,
do their everyday work, and then every file and folder they made is checked.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PHOTOS
from tests.support.live_server import ROOT, LiveServer
from tests.support.records import member, recheck_content

PHOTO = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()
UMASKS = [0o022, 0o000]


def loose_modes(root: Path) -> list[str]:
    """Every path under ``root`` (and ``root`` itself) whose mode is not 0700 (folder) or 0600 (file)."""
    wrong = []
    for path in [root, *sorted(root.rglob("*"))]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            wrong.append(f"{path.relative_to(root.parent)}: {mode:04o}, expected {want:04o}")
    return wrong


@pytest.mark.parametrize("umask", UMASKS, ids=lambda u: f"umask-{u:03o}")
def test_a_fresh_server_keeps_its_database_photos_uploads_and_key_private(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "srv" / "data"  # neither folder exists yet: the server makes both
    server = LiveServer(
        data, f"sqlite:///{data / 'xuncha.sqlite3'}", umask=umask, log_path=tmp_path / "server.log"
    )
    server.add_user("boss", "admin")  # the CLI makes the database first
    server.start()
    try:
        wang = member(server, "wang", "supervisor")
        digest = hashlib.sha256(PHOTO).hexdigest()
        with wang.client() as c:
            assert c.put(f"/api/v1/photos/{digest}", content=PHOTO).status_code == 201
            envelope = wang.envelope(kind="recheck", content=recheck_content([digest]), photos=[digest])
            assert c.post("/api/v1/records", json=envelope).status_code == 201
            half = (PHOTOS / "mobile_jolla.jpg").read_bytes()
            half_sha = hashlib.sha256(half).hexdigest()
            assert c.post("/api/v1/uploads", json={"sha256": half_sha, "length": len(half)}).status_code == 201
            r = c.patch(f"/api/v1/uploads/{half_sha}", content=half[:100_000], headers={"Upload-Offset": "0"})
            assert r.status_code == 200, r.text
        made = {p.name for p in data.rglob("*")}
        assert {"xuncha.sqlite3-wal", "xuncha.sqlite3-shm", "ledger_signing_key.pem", digest} <= made
        assert any(p.parent.name == "uploads" for p in data.rglob("*") if p.is_file()), "an upload part is kept"

        assert loose_modes(tmp_path / "srv") == []
    finally:
        server.stop()


PHONE_SCRIPT = textwrap.dedent(
    """
    import sys, uuid
    from datetime import datetime
    from pathlib import Path
    from field_app.paths import data_dir, photos_dir
    from field_app.photos import Capture, process_photo
    from field_app.store import LocalStore

    root = data_dir(sys.argv[1])
    store = LocalStore(root)
    store.set_setting("server_url", sys.argv[2])
    store.set_setting("device_token", sys.argv[3])
    photo = process_photo(Path(sys.argv[5]).read_bytes(), photos_dir=photos_dir(root),
                          capture=Capture(device_time=datetime.now().astimezone()))
    store.add_photo({"sha256": photo.sha256, "size": photo.size, "mime": photo.mime})
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    content = {"order_id": str(uuid.uuid4()), "check_record_id": str(uuid.uuid4()), "village_id": "v-1",
               "month": now[:7], "after_photos": [photo.sha256], "note": "", "resolved": True,
               "rechecked_at": now, "recorder": "zhang", "location": None}
    store.submit({"record_id": str(uuid.uuid4()), "kind": "recheck", "revision": 1, "base_revision": None,
                  "author": "zhang", "device_id": sys.argv[4], "device_time": now, "gps_time": None,
                  "content": content, "photos": [photo.sha256]})
    draft = store.edit_record(store.outbox()[0]["record_id"])
    store.close()
    """
)


@pytest.mark.parametrize("umask", UMASKS, ids=lambda u: f"umask-{u:03o}")
def test_a_fresh_phone_keeps_its_store_and_photos_private(sqlite_server: LiveServer, tmp_path: Path, umask: int) -> None:
    sqlite_server.add_user("zhang", "supervisor")
    enrolled = sqlite_server.enroll("zhang")
    folder = tmp_path / "phone" / "xuncha"  # neither folder exists yet: the app makes both
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [str(folder), sqlite_server.url, enrolled["token"], enrolled["device_id"], str(PHOTOS / "gps_DSCN0010.jpg")]
    made = subprocess.run(
        [sys.executable, "-c", PHONE_SCRIPT, *args], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=120, umask=umask,
    )
    assert made.returncode == 0, made.stderr
    synced = subprocess.run(
        [sys.executable, "-m", "field_app.sync.cli", "--data", str(folder), "--quiet", "--once"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, umask=umask,
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr
    names = {p.relative_to(folder).parts[0] for p in folder.rglob("*")}
    assert {"work.json", "settings.json", "photos", "history", "photo_meta"} <= names

    assert loose_modes(tmp_path / "phone") == []


def test_a_data_folder_left_readable_by_an_older_server_is_made_private_at_start(tmp_path: Path) -> None:
    from server.app import create_app
    from server.infra.settings import Settings

    data = tmp_path / "data"
    (data / "photos" / "ab").mkdir(parents=True)
    for folder in (data, data / "photos", data / "photos" / "ab"):
        folder.chmod(0o755)
    database = data / "xuncha.sqlite3"
    for name in (database, data / "xuncha.sqlite3-wal", data / "xuncha.sqlite3-shm"):
        name.write_bytes(b"")
        name.chmod(0o644)

    app = create_app(Settings(data_dir=data, database_url=f"sqlite:///{database}"))
    app.state.engine.dispose()

    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (data, data / "photos", data / "uploads", database)}
    assert modes == {"data": 0o700, "photos": 0o700, "uploads": 0o700, "xuncha.sqlite3": 0o600}
    assert stat.S_IMODE((data / "ledger_signing_key.pem").stat().st_mode) == 0o600
