"""Photos in a real S3 store (SeaweedFS): content-addressed, checked by the store before it
acknowledges, reported by the sweep when stored but unreferenced (issue 12)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.photos.blobs import LocalFolderBlobs, open_blobs, photos_url
from server.photos.s3_store import S3Blobs, S3Location
from server.photos.sweep import sweep
from tests.conftest import PHOTOS
from tests.support.object_store import SeaweedS3, s3_env, s3_server  # noqa: F401 - fixtures
from xuncha_core.errors import IntegrityError, UnavailableError, ValidationError

PHOTO = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()
DIGEST = hashlib.sha256(PHOTO).hexdigest()


@pytest.fixture
def s3_blobs(s3_env: dict[str, str]) -> S3Blobs:  # noqa: F811
    blobs = open_blobs(photos_url(s3_env), folder=Path("unused"), env=s3_env)
    assert isinstance(blobs, S3Blobs)
    return blobs


def test_a_photo_put_in_the_object_store_reads_back_under_its_hash(
    s3_blobs: S3Blobs, tmp_path: Path
) -> None:
    assert not s3_blobs.has(DIGEST)
    source = tmp_path / "photo.jpg"
    source.write_bytes(PHOTO)
    s3_blobs.put(DIGEST, source)
    s3_blobs.put(DIGEST, PHOTO)  # the same photo again: harmless
    assert s3_blobs.has(DIGEST)
    assert s3_blobs.read(DIGEST) == PHOTO
    assert b"".join(s3_blobs.chunks(DIGEST, block=4096)) == PHOTO
    assert list(s3_blobs.names()) == [DIGEST]
    s3_blobs.delete(DIGEST)
    assert not s3_blobs.has(DIGEST) and list(s3_blobs.names()) == []


def test_the_store_refuses_bytes_that_are_not_the_photo_they_are_named_after(
    s3_blobs: S3Blobs,
) -> None:
    damaged = PHOTO[:-1] + bytes([PHOTO[-1] ^ 1])
    with pytest.raises(IntegrityError) as refused:
        s3_blobs.put(DIGEST, damaged)
    assert refused.value.code == "photos.store_digest_mismatch"
    assert not s3_blobs.has(DIGEST)


def test_each_prefix_is_a_store_of_its_own(s3_server: SeaweedS3) -> None:  # noqa: F811
    one = open_blobs("s3://xuncha-test/town-a", folder=Path("unused"), env=s3_server.env())
    two = open_blobs("s3://xuncha-test/town-b/", folder=Path("unused"), env=s3_server.env())
    one.put(DIGEST, PHOTO)
    assert one.has(DIGEST) and not two.has(DIGEST)
    assert list(two.names()) == []
    one.delete(DIGEST)


def test_an_unreachable_store_is_a_clear_503_that_keeps_nothing(s3_server: SeaweedS3) -> None:  # noqa: F811
    env = {
        **s3_server.env(),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }  # discard port: nothing listens
    blobs = open_blobs("s3://xuncha-test/down", folder=Path("unused"), env=env)
    with pytest.raises(UnavailableError) as down:
        blobs.put(DIGEST, PHOTO)
    assert down.value.code == "photos.store_unavailable"
    assert "Try again" in down.value.message and down.value.message_zh


def test_wrong_credentials_are_refused_not_ignored(s3_server: SeaweedS3) -> None:  # noqa: F811
    env = {**s3_server.env(), "AWS_SECRET_ACCESS_KEY": "not-the-key"}
    blobs = open_blobs("s3://xuncha-test/creds", folder=Path("unused"), env=env)
    with pytest.raises(UnavailableError):
        blobs.put(DIGEST, PHOTO)


@pytest.mark.parametrize(
    "url", ["s3://", "s3:///prefix", "http://bucket/prefix", "s3://bucket/p?x=1"]
)
def test_a_malformed_photos_url_says_what_form_it_takes(url: str) -> None:
    with pytest.raises(ValidationError) as bad:
        open_blobs(url, folder=Path("unused"), env={})
    assert bad.value.code == "settings.bad_photos_url" and "s3://BUCKET" in bad.value.message


def test_no_photos_url_means_the_local_folder(tmp_path: Path) -> None:
    blobs = open_blobs(photos_url({}), folder=tmp_path / "photos", env={})
    assert isinstance(blobs, LocalFolderBlobs)
    blobs.put(DIGEST, PHOTO)
    assert (tmp_path / "photos" / DIGEST[:2] / DIGEST).read_bytes() == PHOTO
    assert list(blobs.names()) == [DIGEST]


def test_the_location_never_shows_its_secret(s3_server: SeaweedS3) -> None:  # noqa: F811
    location = S3Location.parse("s3://b/p", s3_server.env())
    assert s3_server.env()["AWS_SECRET_ACCESS_KEY"] not in repr(location)


def test_the_sweep_reports_a_stored_photo_no_row_refers_to(
    engine: Engine, s3_blobs: S3Blobs
) -> None:
    """A crash after the store acknowledged and before the row was written leaves this."""
    from server.photos.object_uploads import upload_parts

    upload_parts.create(engine, checkfirst=True)
    s3_blobs.put(DIGEST, PHOTO)
    report = sweep(engine, s3_blobs)
    assert report.unreferenced == [DIGEST] and report.missing == [] and report.consistent
    assert s3_blobs.has(DIGEST)  # reported, never deleted: a request may be about to refer to it


def test_the_sweep_deletes_only_stray_upload_chunks_past_their_grace(
    engine: Engine, s3_blobs: S3Blobs
) -> None:
    from server.photos.object_uploads import upload_parts

    upload_parts.create(engine, checkfirst=True)
    key = s3_blobs.location.key("uploads", DIGEST, "000000000000.deadbeef")
    s3_blobs.put_bytes(key, PHOTO[:1000])
    fresh = sweep(engine, s3_blobs, delete_stray_chunks=True)
    assert fresh.stray_chunks == [key] and fresh.deleted_chunks == []
    later = sweep(
        engine, s3_blobs, delete_stray_chunks=True, now=datetime.now(UTC) + timedelta(hours=2)
    )
    assert later.deleted_chunks == [key]
    assert s3_blobs.object_size(key) is None


def test_a_whole_photo_put_goes_to_the_object_store_without_the_servers_own_disk(
    tmp_path: Path, s3_env: dict[str, str]  # noqa: F811
) -> None:
    """Issue 12: with photos in an object store, a PUT is held in memory up to the photo limit,
    never staged on the server's disk (a process may have none to spare)."""
    from tests.support.live_server import LiveServer

    srv = LiveServer(tmp_path / "data", f"sqlite:///{tmp_path / 'xuncha.sqlite3'}", env=s3_env).start()
    try:
        srv.add_user("wang", "supervisor")
        token = srv.enroll("wang")["token"]
        uploads = tmp_path / "data" / "uploads"
        uploads.rmdir()
        uploads.write_bytes(b"not a folder: nothing may be staged here")
        with srv.client(token) as c:
            kept = c.put(f"/api/v1/photos/{DIGEST}", content=PHOTO)
            again = c.put(f"/api/v1/photos/{DIGEST}", content=PHOTO)
            cut = PHOTO[: len(PHOTO) // 2]
            truncated = c.put(f"/api/v1/photos/{hashlib.sha256(cut).hexdigest()}", content=cut)
            back = c.get(f"/api/v1/photos/{DIGEST}")
    finally:
        srv.stop()
    assert (kept.status_code, again.status_code) == (201, 200), kept.text
    assert truncated.status_code == 422 and truncated.json()["error"]["code"] == "photo.truncated"
    assert back.content == PHOTO
