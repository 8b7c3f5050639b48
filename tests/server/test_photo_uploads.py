"""Photo uploads on a real server: whole, chunked, cut and resumed, replayed, killed; who may see a photo."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from server.infra.db import read
from server.infra.settings import Settings
from server.photos.store import find_photo, photo_path, store_photo
from tests.conftest import PHOTOS
from tests.support.databases import write
from tests.support.live_server import LiveServer
from tests.support.photos import cut_patch, holdings, kept_bytes, send_rest, sha, upload_in_chunks
from tests.support.records import Member, member
from xuncha_core.errors import XunchaError

CHUNK = 64 * 1024
PHONE_PHOTO = (PHOTOS / "mobile_jolla.jpg").read_bytes()  # 811 KB: 13 chunks
CAMERA_PHOTO = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()


def _field_token(server: LiveServer, name: str = "wang", role: str = "supervisor") -> str:
    server.add_user(name, role)
    return server.enroll(name)["token"]


@contextmanager
def _begun_upload(server: LiveServer) -> Iterator[tuple[httpx.Client, str, str]]:
    """A supervisor's client with a resumable upload of the phone photo begun: (client, token, digest)."""
    token = _field_token(server)
    digest = sha(PHONE_PHOTO)
    with server.client(token) as c:
        c.post("/api/v1/uploads", json={"sha256": digest, "length": len(PHONE_PHOTO)})
        yield c, token, digest


def _send_chunk(c: httpx.Client, digest: str, i: int) -> httpx.Response:
    """PATCH the phone photo's chunk number ``i`` (``CHUNK`` bytes) at its own offset."""
    return c.patch(
        f"/api/v1/uploads/{digest}",
        content=PHONE_PHOTO[i * CHUNK : (i + 1) * CHUNK],
        headers={"Upload-Offset": str(i * CHUNK)},
    )


def _photo_entries(server: LiveServer, digest: str) -> list[dict]:
    with httpx.Client(base_url=server.url) as c:
        size = c.get("/api/v1/ledger/checkpoint").json()["size"]
        entries = [json.loads(c.get(f"/api/v1/ledger/entries/{i}").json()["entry"]) for i in range(size)]
    return [e for e in entries if e["type"] == "photo.received" and e["sha256"] == digest]


@pytest.mark.photo_stores
def test_whole_photo_upload_is_kept_under_its_hash_with_a_ledger_entry(server: LiveServer) -> None:
    token = _field_token(server)
    digest = sha(CAMERA_PHOTO)
    with server.client(token) as c:
        assert c.post("/api/v1/photos/missing", json={"hashes": [digest]}).json() == {"missing": [digest]}
        r = c.put(f"/api/v1/photos/{digest}", content=CAMERA_PHOTO)
        missing_after = c.post("/api/v1/photos/missing", json={"hashes": [digest]}).json()
        back = c.get(f"/api/v1/photos/{digest}")
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert (receipt["sha256"], receipt["size"], receipt["mime"]) == (digest, len(CAMERA_PHOTO), "image/jpeg")
    assert missing_after == {"missing": []}
    assert sha(kept_bytes(server, digest)) == digest
    assert back.status_code == 200 and back.content == CAMERA_PHOTO and back.headers["content-type"] == "image/jpeg"
    [entry] = _photo_entries(server, digest)
    assert entry == {  # public: who uploaded it is in the content its digest commits to
        "type": "photo.received",
        "sha256": digest,
        "size": len(CAMERA_PHOTO),
        "mime": "image/jpeg",
        "width": receipt["width"],
        "height": receipt["height"],
        "received_at": receipt["received_at"],
        "digest": entry["digest"],
    }
    with httpx.Client(base_url=server.url) as c:
        assert c.get(f"/api/v1/ledger/entries/{receipt['ledger_index']}").json()["leaf_hash"] == receipt["leaf_hash"]


@pytest.mark.photo_stores
def test_chunked_upload_is_kept_and_leaves_no_upload_behind(server: LiveServer) -> None:
    token = _field_token(server)
    digest = sha(PHONE_PHOTO)
    with server.client(token) as c:
        created = c.post("/api/v1/uploads", json={"sha256": digest, "length": len(PHONE_PHOTO)})
        last = upload_in_chunks(c, PHONE_PHOTO, CHUNK)
    assert created.status_code == 201
    assert created.json() | {"chunk_size": 0} == {
        "sha256": digest, "offset": 0, "length": len(PHONE_PHOTO), "chunk_size": 0, "complete": False
    }
    assert created.json()["chunk_size"] > 0
    assert last.status_code == 201 and last.json()["complete"] is True, last.text
    assert last.json()["ledger_index"] >= 0 and len(last.json()["leaf_hash"]) == 64
    assert sha(kept_bytes(server, digest)) == digest
    held = holdings(server)
    assert held.photo_rows == {digest} and held.upload_rows == frozenset()
    assert not (server.data_dir / "uploads" / f"{digest}.part").exists()


@pytest.mark.photo_stores
def test_upload_cut_mid_chunk_resumes_from_the_servers_offset_resending_at_most_one_chunk(server: LiveServer) -> None:
    with _begun_upload(server) as (c, token, digest):
        for i in range(3):
            r = _send_chunk(c, digest, i)
            assert r.status_code == 200 and r.json()["offset"] == (i + 1) * CHUNK
        # The fourth chunk: the line drops after 40 KB of its 64 KB.
        cut_patch(server.url, token, digest, 3 * CHUNK, PHONE_PHOTO[3 * CHUNK : 4 * CHUNK], 40 * 1024)
        head = c.head(f"/api/v1/uploads/{digest}")
        last, sent_after_cut = send_rest(c, PHONE_PHOTO, CHUNK)
    assert int(head.headers["Upload-Offset"]) >= 3 * CHUNK
    assert last.status_code == 201 and last.json()["complete"] is True, last.text
    # Before the cut 3 chunks + 40 KB went out; everything sent again is at most one chunk.
    resent = (3 * CHUNK + 40 * 1024 + sent_after_cut) - len(PHONE_PHOTO)
    assert 0 <= resent <= CHUNK
    assert sha(kept_bytes(server, digest)) == digest


@pytest.mark.photo_stores
def test_chunk_at_the_wrong_offset_is_refused_with_the_servers_offset(server: LiveServer) -> None:
    with _begun_upload(server) as (c, _token, digest):
        _send_chunk(c, digest, 0)
        ahead = _send_chunk(c, digest, 2)
        no_header = c.patch(f"/api/v1/uploads/{digest}", content=PHONE_PHOTO[CHUNK : 2 * CHUNK])
        head = c.head(f"/api/v1/uploads/{digest}")
    assert ahead.status_code == 409
    err = ahead.json()["error"]
    assert err["code"] == "upload.offset_mismatch" and err["detail"]["offset"] == CHUNK
    assert ahead.headers["Upload-Offset"] == str(CHUNK)
    assert no_header.status_code == 422 and no_header.json()["error"]["code"] == "upload.bad_offset"
    assert head.headers["Upload-Offset"] == str(CHUNK)


@pytest.mark.photo_stores
def test_replayed_chunk_after_a_lost_answer_changes_nothing_and_the_phone_skips_ahead(server: LiveServer) -> None:
    with _begun_upload(server) as (c, _token, digest):
        first = c.patch(f"/api/v1/uploads/{digest}", content=PHONE_PHOTO[:CHUNK], headers={"Upload-Offset": "0"})
        replay = c.patch(f"/api/v1/uploads/{digest}", content=PHONE_PHOTO[:CHUNK], headers={"Upload-Offset": "0"})
        skip_to = replay.json()["error"]["detail"]["offset"]
        last = upload_in_chunks(c, PHONE_PHOTO, CHUNK, start=skip_to)
        # The answer to the final chunk was "lost" too: sending it again reports the kept photo.
        final_again = c.patch(
            f"/api/v1/uploads/{digest}",
            content=PHONE_PHOTO[-100:],
            headers={"Upload-Offset": str(len(PHONE_PHOTO) - 100)},
        )
    assert first.status_code == 200 and replay.status_code == 409 and skip_to == CHUNK
    assert last.status_code == 201
    assert final_again.status_code == 200 and final_again.json()["complete"] is True
    assert final_again.json()["ledger_index"] == last.json()["ledger_index"]
    assert sha(kept_bytes(server, digest)) == digest
    assert len(_photo_entries(server, digest)) == 1


@pytest.mark.photo_stores
def test_same_photo_sent_many_times_and_ways_is_kept_once(server: LiveServer) -> None:
    token = _field_token(server)
    other = _field_token(server, "li", "officer")
    digest = sha(CAMERA_PHOTO)
    answers: list[httpx.Response] = []

    def put(tok: str) -> None:
        with server.client(tok) as c:
            answers.append(c.put(f"/api/v1/photos/{digest}", content=CAMERA_PHOTO))

    threads = [threading.Thread(target=put, args=(tok,)) for tok in (token, other, token, other)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with server.client(other) as c:
        resumable = c.post("/api/v1/uploads", json={"sha256": digest, "length": len(CAMERA_PHOTO)})
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201]
    assert len({r.json()["ledger_index"] for r in answers}) == 1
    assert resumable.status_code == 200 and resumable.json()["complete"] is True
    assert resumable.json()["ledger_index"] == answers[0].json()["ledger_index"]
    assert len(_photo_entries(server, digest)) == 1
    assert holdings(server).photo_rows == {digest}


@pytest.mark.photo_stores
def test_server_killed_mid_upload_resumes_after_restart_and_keeps_the_right_photo(server: LiveServer) -> None:
    with _begun_upload(server) as (c, token, digest):
        acknowledged = 0
        for i in range(4):
            r = _send_chunk(c, digest, i)
            acknowledged = r.json()["offset"]
    # The fifth chunk is on its way when the server dies.
    sender = threading.Thread(
        target=cut_patch, args=(server.url, token, digest, 4 * CHUNK, PHONE_PHOTO[4 * CHUNK : 5 * CHUNK], 30 * 1024)
    )
    sender.start()
    server.kill()
    sender.join()
    server.start()
    with server.client(token) as c:
        offset = int(c.head(f"/api/v1/uploads/{digest}").headers["Upload-Offset"])
        last, _ = send_rest(c, PHONE_PHOTO, CHUNK)
        back = c.get(f"/api/v1/photos/{digest}")
    assert offset >= acknowledged == 4 * CHUNK
    assert last.status_code == 201, last.text
    assert sha(kept_bytes(server, digest)) == digest and sha(back.content) == digest
    assert len(_photo_entries(server, digest)) == 1


def test_upload_whose_last_step_was_interrupted_finishes_on_an_empty_patch(server: LiveServer) -> None:
    # The state a kill leaves between "last chunk fsynced" and "photo kept": a full part file, the row.
    token = _field_token(server)
    digest = sha(CAMERA_PHOTO)
    with server.client(token) as c:
        c.post("/api/v1/uploads", json={"sha256": digest, "length": len(CAMERA_PHOTO)})
    server.kill()
    (server.data_dir / "uploads" / f"{digest}.part").write_bytes(CAMERA_PHOTO)
    server.start()
    with server.client(token) as c:
        head = c.get(f"/api/v1/uploads/{digest}")
        done = c.patch(f"/api/v1/uploads/{digest}", content=b"", headers={"Upload-Offset": str(len(CAMERA_PHOTO))})
    assert head.headers["Upload-Offset"] == str(len(CAMERA_PHOTO)) and head.json()["complete"] is False
    assert done.status_code == 201 and done.json()["complete"] is True, done.text
    assert sha(kept_bytes(server, digest)) == digest


def test_part_file_without_its_upload_row_is_adopted_and_finished(server: LiveServer) -> None:
    # The state a kill can leave if the row is gone but the bytes are not: POST again, keep going.
    token = _field_token(server)
    digest = sha(PHONE_PHOTO)
    server.kill()
    (server.data_dir / "uploads").mkdir(parents=True, exist_ok=True)
    (server.data_dir / "uploads" / f"{digest}.part").write_bytes(PHONE_PHOTO[: 5 * CHUNK])
    server.start()
    with server.client(token) as c:
        before = c.get(f"/api/v1/uploads/{digest}")
        created = c.post("/api/v1/uploads", json={"sha256": digest, "length": len(PHONE_PHOTO)})
        last, sent = send_rest(c, PHONE_PHOTO, CHUNK)
    assert before.status_code == 404 and before.json()["error"]["code"] == "upload.not_found"
    assert created.status_code == 201 and created.json()["offset"] == 5 * CHUNK
    assert last.status_code == 201 and sent == len(PHONE_PHOTO) - 5 * CHUNK
    assert sha(kept_bytes(server, digest)) == digest


@pytest.mark.photo_stores
def test_damaged_upload_is_discarded_and_says_so(server: LiveServer) -> None:
    token = _field_token(server)
    digest = sha(CAMERA_PHOTO)
    damaged = bytearray(CAMERA_PHOTO)
    damaged[len(damaged) // 2] ^= 0xFF
    with server.client(token) as c:
        c.post("/api/v1/uploads", json={"sha256": digest, "length": len(CAMERA_PHOTO)})
        r = upload_in_chunks(c, bytes(damaged), CHUNK, digest=digest)
        head = c.head(f"/api/v1/uploads/{digest}")
    err = r.json()["error"]
    assert r.status_code == 422 and err["code"] == "photo.hash_mismatch" and err["detail"]["upload_deleted"] is True
    assert head.status_code == 404
    held = holdings(server)
    assert held.photo_rows == frozenset() and held.upload_rows == frozenset()
    assert not any(f.startswith(("photos/", "uploads/")) for f in held.files)


def _members(server: LiveServer, admin: Member, wanted: list[tuple[str, str]]) -> list[Member]:
    """Users made through the admin API (quicker than one CLI process each), each on one device."""
    made = []
    with admin.client() as c:
        for username, role in wanted:
            assert c.post("/api/v1/users", json={"username": username, "role": role, "password": "password-123"}).status_code == 201
            enrolled = server.enroll(username)
            made.append(Member(username, role, enrolled["device_id"], enrolled["token"], server))
    return made


@pytest.mark.photo_stores
def test_who_may_see_a_photo(server: LiveServer) -> None:
    admin = member(server, "boss", "admin")
    uploader, citer, stranger, *readers = _members(
        server,
        admin,
        [("wang", "supervisor"), ("li", "officer"), ("zhou", "supervisor")]
        + [(f"r-{role}", role) for role in ("office_reviewer", "legal_reviewer", "auditor")],
    )
    readers.append(admin)
    digest = sha(CAMERA_PHOTO)
    with uploader.client() as c:
        assert c.put(f"/api/v1/photos/{digest}", content=CAMERA_PHOTO).status_code == 201
        assert c.post("/api/v1/records", json=uploader.envelope(photos=[digest])).status_code == 201
    with citer.client() as c:  # the hash is public in the ledger: citing it opens nothing (issue 7)
        record = c.post("/api/v1/records", json=citer.envelope(photos=[digest]))
    assert record.status_code == 201, record.text

    def status(who: object | None) -> int:
        client = who.client() if who is not None else httpx.Client(base_url=server.url)  # type: ignore[attr-defined]
        with client as c:
            return c.get(f"/api/v1/photos/{digest}").status_code

    assert status(uploader) == 200
    assert status(citer) == 403
    assert [status(r) for r in readers] == [200, 200, 200, 200]
    assert status(stranger) == 403
    assert status(None) == 401
    with readers[0].client() as c:
        unknown = c.get(f"/api/v1/photos/{sha(b'never sent')}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "photo.not_found"
    with stranger.client() as c:  # a field user is refused alike, kept or not
        assert c.get(f"/api/v1/photos/{sha(b'never sent')}").json()["error"]["code"] == "photo.forbidden"


def test_store_photo_rolled_back_leaves_only_a_harmless_blob_and_can_be_done_again(
    engine: Engine, tmp_path: Path
) -> None:
    # The function demo data and tools call inside their own write transaction.
    settings = Settings(data_dir=tmp_path / "data", database_url=str(engine.url))
    settings.ensure_dirs()
    digest = sha(CAMERA_PHOTO)

    abandon = XunchaError("test.abandon", "the transaction is abandoned after the file is written")
    with pytest.raises(XunchaError), write(engine) as conn:
        store_photo(conn, settings=settings, source=CAMERA_PHOTO, expected_sha256=digest, uploaded_by="demo")
        raise abandon
    with read(engine) as conn:
        assert find_photo(conn, digest) is None
    assert photo_path(settings, digest).read_bytes() == CAMERA_PHOTO  # file first: never a row without it

    with write(engine) as conn:
        first = store_photo(conn, settings=settings, source=CAMERA_PHOTO, expected_sha256=digest, uploaded_by="demo")
    with write(engine) as conn:
        again = store_photo(conn, settings=settings, source=CAMERA_PHOTO, expected_sha256=digest, uploaded_by="other")
    assert first.replayed is False and again.replayed is True
    assert again.as_dict() | {"replayed": False} == first.as_dict()
    leftovers = [p.name for p in (settings.data_dir / "photos").rglob("*") if p.is_file()]
    assert leftovers == [digest]
