"""A phone that changes hands, and a new phone, against a real server (issue 9).

- Sign-out with unsent work, another user signs in and out, the first signs in again: every
  record is sent once, under its author.
- A new phone shows, within one sync, her records of the last months with their review
  state and the office's reason; their photos come as thumbnails, full size when opened,
  and only to her.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from field_app.store import LocalStore
from field_app.sync import photo_fetch, session
from field_app.sync.engine import SyncPass
from field_app.sync.transport import ServerApi, build_client
from tests.support.live_server import LiveServer
from tests.support.phone import iter_real_photos, server_copies
from tests.support.records import member
from tests.support.store_writer import draft

PASSWORD = "password-123"


def sync_once(store: LocalStore, folder: Path) -> None:
    view, server_url, token = store.sync_session()
    api = ServerApi(build_client(server_url, token, timeout=20))
    try:
        SyncPass(view, api, folder).run()
    finally:
        api.close()


def recheck(store: LocalStore, folder: Path, photo: bytes | None, note: str) -> dict:
    """Submit a re-check as the app does, signed by whoever is signed in on this phone."""
    import uuid

    shas = []
    if photo is not None:
        sha = hashlib.sha256(photo).hexdigest()
        (folder / "photos").mkdir(exist_ok=True)
        (folder / "photos" / f"{sha}.jpg").write_bytes(photo)
        store.add_photo({"sha256": sha, "size": len(photo), "mime": "image/jpeg"})
        shas.append(sha)
    content = {"order_id": str(uuid.uuid4()), "check_record_id": str(uuid.uuid4()), "village_id": "v-shanxia",
               "month": "2026-05", "after_photos": shas, "note": note, "resolved": bool(shas),
               "rechecked_at": "2026-05-14T09:30:00+08:00", "recorder": store.signed_in_user(), "location": None}  # fmt: skip
    envelope = {"record_id": str(uuid.uuid4()), "kind": "recheck", "revision": 1, "base_revision": None,
                "author": store.signed_in_user(), "device_id": store.get_setting("device_id"),
                "device_time": "2026-05-14T09:30:00+08:00", "gps_time": None, "content": content, "photos": shas}  # fmt: skip
    store.submit(envelope)
    return envelope


@pytest.fixture
def town(sqlite_server: LiveServer) -> LiveServer:
    for name in ("wang", "ran"):
        sqlite_server.add_user(name, "supervisor")
    return sqlite_server


def test_unsent_work_survives_another_user_and_is_sent_once_under_its_author(town: LiveServer, tmp_path: Path) -> None:
    folder = tmp_path / "phone"
    store = LocalStore(folder)
    photos = list(iter_real_photos("orientation_*.jpg"))[:2]
    session.sign_in(store, town.url, username="wang", password=PASSWORD)
    wang_first_device = store.get_setting("device_id")
    wang_records = [recheck(store, folder, photos[0], "河边"), recheck(store, folder, None, "村口")]
    store.save_draft(draft("44444444-4444-4444-8444-444444444444", 1, 1))

    left = session.sign_out(store)  # offline-first: nothing of hers was sent
    assert left["username"] == "wang" and (left["drafts"], left["outbox"], left["photos_pending"]) == (1, 2, 1)
    assert left["server_signed_out"] is True

    session.sign_in(store, town.url, username="ran", password=PASSWORD)
    assert store.outbox() == [] and store.list_drafts() == []
    ran_records = [recheck(store, folder, photos[1], "学校旁")]
    sync_once(store, folder)
    assert store.outbox() == []
    session.sign_out(store)

    session.sign_in(store, town.url, username="wang", password=PASSWORD)
    assert store.get_setting("device_id") != wang_first_device  # a new sign-in, a new token
    assert [d["record_id"] for d in store.list_drafts()] == ["44444444-4444-4444-8444-444444444444"]
    sync_once(store, folder)
    assert store.outbox() == [] and store.photos_pending() == []

    held = server_copies(town)
    every = wang_records + ran_records
    assert set(held["revisions"]) == {(e["record_id"], 1) for e in every}
    assert max(held["revisions"].values()) == 1 and max(held["ledger_records"].values()) == 1
    authors = {r.record_id: r.author for r in town.rows("SELECT record_id, author FROM records")}
    assert authors == {**{e["record_id"]: "wang" for e in wang_records}, **{e["record_id"]: "ran" for e in ran_records}}
    assert set(held["photos"]) == {hashlib.sha256(p).hexdigest() for p in photos}


def test_a_record_naming_someone_elses_device_is_still_refused(town: LiveServer, tmp_path: Path) -> None:
    wang, ran = town.enroll("wang"), town.enroll("ran")
    store = LocalStore(tmp_path / "phone")
    store.sign_in(server_url=town.url, user=wang["user"], device_id=ran["device_id"], device_token=wang["token"])
    recheck(store, tmp_path / "phone", None, "冒名")
    sync_once(store, tmp_path / "phone")
    [item] = store.outbox()
    assert item["state"] == "error" and item["error"]["code"] == "record.author_mismatch"


def test_a_new_phone_shows_her_history_with_the_offices_reason_and_her_photos_on_demand(
    town: LiveServer, tmp_path: Path
) -> None:
    old, new = tmp_path / "old-phone", tmp_path / "new-phone"
    photo = next(iter_real_photos("orientation_*.jpg"))
    sha = hashlib.sha256(photo).hexdigest()
    first = LocalStore(old)
    session.sign_in(first, town.url, username="wang", password=PASSWORD)
    kept, sent_back = recheck(first, old, photo, "河边"), recheck(first, old, None, "村口")
    sync_once(first, old)
    first.close()
    reviewer = member(town, "zhou", "office_reviewer")
    with reviewer.client() as c:
        r = c.post(f"/api/v1/records/{sent_back['record_id']}/reviews",
                   json={"revision": 1, "action": "send_back", "reason": "照片不清楚，请补拍"})  # fmt: skip
        assert r.status_code == 201, r.text

    phone = LocalStore(new)
    session.sign_in(phone, town.url, username="wang", password=PASSWORD)
    assert phone.history() == []
    sync_once(phone, new)

    states = {r["record_id"]: r["state"] for r in phone.history()}
    assert states == {kept["record_id"]: "synced", sent_back["record_id"]: "sent_back"}
    assert phone.get_record(sent_back["record_id"])["review"]["reason"] == "照片不清楚，请补拍"
    assert phone.photos_pending() == [] and not (new / "photos" / f"{sha}.jpg").exists()

    thumb = photo_fetch.thumbnail(phone, new, sha)
    assert thumb is not None and thumb.read_bytes()[:2] == b"\xff\xd8" and thumb.stat().st_size < len(photo)
    assert photo_fetch.thumbnail(phone, new, sha) == thumb  # kept: the second look costs nothing
    full = photo_fetch.full_photo(phone, new, sha)
    assert full is not None and full.read_bytes() == photo

    ran = town.enroll("ran")
    with town.client(ran["token"]) as c:
        assert c.get(f"/api/v1/photos/{sha}/thumbnail").status_code == 403
        mine = c.get("/api/v1/sync/own-records").json()
    assert mine["records"] == []


def test_her_records_come_page_by_page_and_again_when_they_change(town: LiveServer, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "phone")
    session.sign_in(store, town.url, username="wang", password=PASSWORD)
    made = [recheck(store, tmp_path / "phone", None, f"第{i}处") for i in range(5)]
    sync_once(store, tmp_path / "phone")
    token = store.get_setting("device_token")
    with httpx.Client(base_url=town.url, headers={"Authorization": f"Bearer {token}"}) as c:
        seen, after = [], 0
        while True:
            page = c.get("/api/v1/sync/own-records", params={"after": after, "limit": 2}).json()
            seen += [r["record_id"] for r in page["records"]]
            after = page["next"]
            if not page["more"]:
                break
        assert sorted(seen) == sorted(e["record_id"] for e in made)
        assert c.get("/api/v1/sync/own-records", params={"after": after}).json()["records"] == []
        reviewer = member(town, "zhou", "office_reviewer")
        with reviewer.client() as rc:
            rc.post(f"/api/v1/records/{made[2]['record_id']}/reviews", json={"revision": 1, "action": "approve"})
        [again] = c.get("/api/v1/sync/own-records", params={"after": after}).json()["records"]
    assert again["record_id"] == made[2]["record_id"] and again["review_state"] == "approved"
