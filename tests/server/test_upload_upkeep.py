"""Resumable uploads do not pile up (issue 7): whatever completes a photo removes its upload,
abandoned uploads expire, and each user may have only so many unfinished ones.

Real servers on both backends; expiry is judged with a clock the test moves, never by waiting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from server.accounts.accounts import Actor
from server.infra.db import make_engine
from server.infra.settings import Settings
from server.photos import upkeep as upload_upkeep
from server.photos import uploads
from server.photos.part_files import PartFile, part_path
from server.photos.store import keep_photo
from tests.conftest import PHOTOS
from tests.support.live_server import LiveServer
from tests.support.photos import holdings, sha, upload_in_chunks

CHUNK = 64 * 1024
PHONE_PHOTO = (PHOTOS / "mobile_jolla.jpg").read_bytes()  # 811 KB
CAMERA_PHOTO = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()


def _token(server: LiveServer, name: str = "wang") -> str:
    server.add_user(name, "supervisor")
    return server.enroll(name)["token"]


def _start_partial(server: LiveServer, token: str, data: bytes, chunks: int = 2) -> str:
    digest = sha(data)
    with server.client(token) as c:
        assert c.post("/api/v1/uploads", json={"sha256": digest, "length": len(data)}).status_code == 201
        upload_in_chunks(c, data[: chunks * CHUNK], CHUNK, digest=digest)
        assert c.head(f"/api/v1/uploads/{digest}").headers["Upload-Offset"] == str(chunks * CHUNK)
    return digest


@pytest.fixture
def beside(server: LiveServer) -> Iterator[tuple[Engine, Settings]]:
    """The server's own database and data folder, opened from the test as a tool would."""
    engine = make_engine(server.database_url)
    yield engine, Settings(data_dir=server.data_dir, database_url=server.database_url)
    engine.dispose()


def _only_the_blob(server: LiveServer, digest: str) -> None:
    held = holdings(server)
    assert held.upload_rows == frozenset()
    assert held.files == {f"photos/{digest[:2]}/{digest}"}
    assert held.photo_rows == {digest}


# -- every path that completes a photo removes its upload -------------------------------


def test_a_partial_upload_overtaken_by_a_whole_put_leaves_nothing_behind(server: LiveServer) -> None:
    token = _token(server)
    digest = _start_partial(server, token, PHONE_PHOTO)
    with server.client(token) as c:
        put = c.put(f"/api/v1/photos/{digest}", content=PHONE_PHOTO)
        head = c.head(f"/api/v1/uploads/{digest}")
    assert put.status_code == 201, put.text
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(len(PHONE_PHOTO))
    _only_the_blob(server, digest)


@pytest.mark.parametrize(
    "ask",
    [
        pytest.param(lambda c, digest: c.post("/api/v1/uploads", json={"sha256": digest, "length": len(PHONE_PHOTO)}), id="post"),
        pytest.param(
            lambda c, digest: c.patch(
                f"/api/v1/uploads/{digest}",
                content=PHONE_PHOTO[2 * CHUNK : 3 * CHUNK],
                headers={"Upload-Offset": str(2 * CHUNK)},
            ),
            id="patch",
        ),
    ],
)
def test_a_request_that_finds_the_photo_kept_removes_the_leftover_upload(
    server: LiveServer, beside: tuple[Engine, Settings], ask: Callable[[httpx.Client, str], httpx.Response]
) -> None:
    engine, settings = beside
    token = _token(server)
    digest = _start_partial(server, token, PHONE_PHOTO)
    # Kept by another path meanwhile (a tool, or a kill after the commit of a finishing PATCH).
    keep_photo(engine, settings=settings, source=PHONE_PHOTO, expected_sha256=digest, uploaded_by="wang")
    with server.client(token) as c:
        again = ask(c, digest)
    assert again.status_code == 200 and again.json()["complete"] is True
    _only_the_blob(server, digest)


# -- abandoned uploads expire ------------------------------------------------------------


def test_an_upload_with_no_byte_for_seven_days_is_swept_and_a_fresher_one_is_kept(
    server: LiveServer, beside: tuple[Engine, Settings]
) -> None:
    engine, settings = beside
    token = _token(server)
    stale = _start_partial(server, token, PHONE_PHOTO)
    fresh = _start_partial(server, token, CAMERA_PHOTO, chunks=1)
    now = datetime.now(UTC)
    # The stale one's last byte arrived eight days ago, the fresh one's just now.
    eight_days_ago = (now - timedelta(days=8)).timestamp()
    os.utime(part_path(settings, stale), (eight_days_ago, eight_days_ago))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE uploads SET created_at = :t"), {"t": (now - timedelta(days=9)).isoformat()})

    assert upload_upkeep.sweep_expired(engine, settings, now=now) == [stale]
    with server.client(token) as c:
        gone = c.head(f"/api/v1/uploads/{stale}")
        kept = c.head(f"/api/v1/uploads/{fresh}")
    assert gone.status_code == 404
    assert kept.status_code == 200 and kept.headers["Upload-Offset"] == str(CHUNK)
    held = holdings(server)
    assert held.upload_rows == {fresh} and held.files == {f"uploads/{fresh}.part"}


def test_expiry_is_judged_by_the_injected_clock_and_the_documented_default(
    server: LiveServer, beside: tuple[Engine, Settings]
) -> None:
    engine, settings = beside
    assert Settings.from_env({}).upload_expiry_days == 7
    digest = _start_partial(server, _token(server), PHONE_PHOTO)
    now = datetime.now(UTC)
    assert upload_upkeep.sweep_expired(engine, settings, now=now + timedelta(days=6, hours=23)) == []
    assert upload_upkeep.sweep_expired(engine, settings, now=now + timedelta(days=7, minutes=1)) == [digest]
    assert holdings(server).files == frozenset() and holdings(server).upload_rows == frozenset()


def test_an_upload_being_written_is_never_swept(server: LiveServer, beside: tuple[Engine, Settings]) -> None:
    engine, settings = beside
    digest = _start_partial(server, _token(server), PHONE_PHOTO)
    writing = PartFile(part_path(settings, digest))  # what a PATCH in flight holds
    try:
        assert upload_upkeep.sweep_expired(engine, settings, now=datetime.now(UTC) + timedelta(days=30)) == []
    finally:
        writing.close()
    assert holdings(server).upload_rows == {digest}


def test_a_new_upload_sweeps_the_expired_ones_first(server: LiveServer, beside: tuple[Engine, Settings]) -> None:
    engine, settings = beside
    token = _token(server)
    old = _start_partial(server, token, PHONE_PHOTO)
    with engine.connect() as conn:
        user_id = conn.execute(sa.text("SELECT id FROM users WHERE username = 'wang'")).scalar_one()
    actor = Actor(user_id=user_id, username="wang", display_name="wang", role="supervisor", device_id="test")
    later = datetime.now(UTC) + timedelta(days=8)
    state, created = uploads.create(
        engine, settings, sha256=sha(CAMERA_PHOTO), length=len(CAMERA_PHOTO), actor=actor, now=later
    )
    assert created and state.offset == 0
    assert holdings(server).upload_rows == {sha(CAMERA_PHOTO)}
    assert not part_path(settings, old).exists()


# -- a cap on unfinished uploads per user --------------------------------------------------


@pytest.fixture
def capped(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    env = {"XUNCHA_MAX_OPEN_UPLOADS": "2", "XUNCHA_MAX_OPEN_UPLOAD_BYTES": "1500000"}
    srv = LiveServer(tmp_path / "data", database_url, env=env).start()
    yield srv
    srv.stop()


def test_a_user_past_the_open_upload_cap_is_told_to_finish_or_wait(capped: LiveServer) -> None:
    token, other = _token(capped), _token(capped, "li")
    first, second = _start_partial(capped, token, PHONE_PHOTO), _start_partial(capped, token, CAMERA_PHOTO, 1)
    third = b"\xff\xd8" + bytes(1000)
    with capped.client(token) as c:
        refused = c.post("/api/v1/uploads", json={"sha256": sha(third), "length": len(third)})
        resumed = c.post("/api/v1/uploads", json={"sha256": first, "length": len(PHONE_PHOTO)})
    with capped.client(other) as c:
        someone_else = c.post("/api/v1/uploads", json={"sha256": sha(third), "length": len(third)})
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "upload.limit_reached"
    assert "finish" in error["message"] and "7 days" in error["message"] and "7 天" in error["message_zh"]
    assert error["detail"]["open_uploads"] == 2 and error["detail"]["max_open_uploads"] == 2
    assert resumed.status_code == 200 and resumed.json()["offset"] == 2 * CHUNK
    assert someone_else.status_code == 201
    assert holdings(capped).upload_rows == {first, second, sha(third)}


def test_declared_bytes_past_the_cap_are_refused_until_an_upload_finishes(capped: LiveServer) -> None:
    token = _token(capped)
    first = _start_partial(capped, token, PHONE_PHOTO)  # 811 KB of the 1.5 MB allowed
    big = sha(b"another large photo")
    with capped.client(token) as c:
        refused = c.post("/api/v1/uploads", json={"sha256": big, "length": 800_000})
        finished = upload_in_chunks(c, PHONE_PHOTO, CHUNK, start=2 * CHUNK)
        allowed = c.post("/api/v1/uploads", json={"sha256": big, "length": 800_000})
    assert refused.status_code == 429 and refused.json()["error"]["detail"]["open_bytes"] == len(PHONE_PHOTO)
    assert finished.status_code == 201 and finished.json()["sha256"] == first
    assert allowed.status_code == 201
