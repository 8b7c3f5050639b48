"""Sync between a real field store and a real server on 127.0.0.1 (issue 4)."""

from __future__ import annotations

import base64
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from field_app.sync.engine import BATCH, FAST_BATCH_SECONDS, Progress
from field_app.sync.errors import DeviceRevoked, ProofFailed
from field_app.sync.receipts import PINNED_KEY_SETTING, prove_record
from field_app.sync.scheduler import SyncScheduler, backoff
from tests.support.live_server import LiveServer
from tests.support.phone import (
    DoubleSend,
    Phone,
    assert_exactly_once,
    iter_real_photos,
    server_copies,
    small_jpeg,
)
from tests.support.waits import StatusWatch


@pytest.fixture
def phone_server(server: LiveServer) -> LiveServer:
    return server  # every sync test runs on SQLite and on PostgreSQL


def _admin(server: LiveServer) -> httpx.Client:
    server.add_user("admin", "admin")
    return server.client(server.enroll("admin", kind="browser")["token"])


def test_saved_records_and_photos_reach_the_server_once_and_leave_the_outbox(server: LiveServer, phone: Phone) -> None:
    photos = list(iter_real_photos("orientation_*.jpg"))[:3]
    saved = [phone.save_recheck([p]) for p in photos] + [phone.save_recheck([])]
    seen: list[Progress] = []

    result = phone.sync(on_progress=seen.append)

    assert result.receipts == 4 and result.photos_sent == 3
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    assert_exactly_once(server, saved)
    for env in saved:
        view = phone.store.get_record(env["record_id"])
        assert view["state"] == "synced"
        assert view["receipt"]["ledger_index"] >= 0 and len(view["receipt"]["leaf_hash"]) == 64
    final = seen[-1]
    assert final.phase == "done" and final.records_done == 4
    assert final.bytes_done == final.bytes_total == sum(len(p) for p in photos)
    # a second pass has nothing to send and duplicates nothing
    again = phone.sync()
    assert again.receipts == 0 and again.bytes_sent == 0
    assert_exactly_once(server, saved)


def test_records_are_accepted_with_photos_pending_and_the_photos_follow(server: LiveServer, phone: Phone) -> None:
    photo = next(iter_real_photos("gps_*.jpg"))
    env = phone.save_recheck([photo])

    class NoPhotoLink(httpx.HTTPTransport):
        """The link drops whenever a photo is on it."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if "/photos/" in request.url.path or "/uploads" in request.url.path:
                raise httpx.ConnectError("signal lost", request=request)
            return super().handle_request(request)

    with pytest.raises(Exception, match="no connection"):
        phone.sync(transport=NoPhotoLink())
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 1}
    sha = env["photos"][0]
    with server.client(phone.token) as c:
        assert c.get(f"/api/v1/records/{env['record_id']}").json()["photos_missing"] == [sha]

    phone.sync()

    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    with server.client(phone.token) as c:
        assert c.get(f"/api/v1/records/{env['record_id']}").json()["photos_missing"] == []
    assert_exactly_once(server, [env])


def test_every_request_sent_twice_makes_no_duplicates(server: LiveServer, phone: Phone) -> None:
    photos = [small_jpeg(i) for i in range(5)] + [next(iter_real_photos("mobile_*.jpg"))]
    saved = [phone.save_recheck([p]) for p in photos]
    edited = phone.edit(saved[0], "fixed and checked again")
    twice = DoubleSend()

    phone.sync(transport=twice)

    assert twice.sent >= 2 * 4
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    assert_exactly_once(server, [*saved, edited])


@pytest.mark.parametrize(
    "skew",
    [timedelta(days=1), timedelta(days=-365), datetime(2000, 1, 1, tzinfo=UTC)],
    ids=["a-day-ahead", "a-year-behind", "2000-01-01"],
)
def test_a_wrong_phone_clock_changes_nothing_on_the_server_but_the_recorded_device_time(
    server: LiveServer, phone: Phone, skew: timedelta | datetime
) -> None:
    def phone_clock() -> str:
        now = datetime.now(UTC)
        return (skew if isinstance(skew, datetime) else now + skew).isoformat()

    before = datetime.now(UTC)
    saved = [phone.save_recheck([small_jpeg(i)], device_time=phone_clock()) for i in range(3)]
    phone.sync()
    after = datetime.now(UTC)

    assert_exactly_once(server, saved)
    with server.client(phone.token) as c:
        rows = [c.get(f"/api/v1/records/{e['record_id']}").json() for e in saved]
    receipts = [r["revisions"][0]["receipt"] for r in rows]
    for env, row, receipt in zip(saved, rows, receipts, strict=True):
        assert row["revisions"][0]["envelope"] == env  # device time kept as the phone said
        received = datetime.fromisoformat(receipt["received_at"].replace("Z", "+00:00"))
        assert before - timedelta(seconds=5) <= received <= after + timedelta(seconds=5)
    # the ledger orders them as the phone saved them, whatever its clock said
    assert [r["ledger_index"] for r in receipts] == sorted(r["ledger_index"] for r in receipts)
    assert phone.store.get_setting("last_sync_at")[:10] == after.date().isoformat()


def test_two_phones_editing_one_record_get_a_conflict_and_keep_mine_loses_neither_edit(
    server: LiveServer, phone: Phone, tmp_path: Path
) -> None:
    second = Phone(server, tmp_path / "second-phone", phone.username)  # the same supervisor's other phone
    try:
        original = phone.save_recheck([], note="bins overflowing")
        phone.sync()
        second.store.import_history([(original, phone.store.get_record(original["record_id"])["receipt"])])
        first_edit = phone.edit(original, "emptied on Monday")
        second_edit = second.edit(original, "emptied on Tuesday, photo taken")
        phone.sync()

        result = second.sync()

        rid = original["record_id"]
        assert result.conflicts == [rid]
        view = second.store.get_record(rid)
        assert view["state"] == "conflict"
        assert view["server_envelope"]["content"]["note"] == "emptied on Monday"
        assert view["content"]["note"] == "emptied on Tuesday, photo taken"

        second.store.resolve_conflict(rid, "keep_mine")
        second.sync()

        with server.client(phone.token) as c:
            record = c.get(f"/api/v1/records/{rid}").json()
        notes = [r["envelope"]["content"]["note"] for r in record["revisions"]]
        assert notes == ["bins overflowing", "emptied on Monday", "emptied on Tuesday, photo taken"]
        assert record["revisions"][2]["envelope"]["base_revision"] == 2
        assert second.leftovers()["outbox"] == 0
        assert second.store.get_record(rid)["state"] == "synced"
        assert first_edit["revision"] == second_edit["revision"] == 2
    finally:
        second.close()


def test_taking_the_servers_version_ends_the_conflict_without_a_new_revision(
    server: LiveServer, phone: Phone, tmp_path: Path
) -> None:
    second = Phone(server, tmp_path / "second-phone", phone.username)
    try:
        original = phone.save_recheck([], note="pile of rubble")
        phone.sync()
        second.store.import_history([(original, phone.store.get_record(original["record_id"])["receipt"])])
        phone.edit(original, "rubble cleared")
        second.edit(original, "rubble half cleared")
        phone.sync()
        assert second.sync().conflicts == [original["record_id"]]

        second.store.resolve_conflict(original["record_id"], "take_server")
        second.sync()

        assert second.leftovers()["outbox"] == 0
        assert len(server_copies(server)["revisions"]) == 2
    finally:
        second.close()


def test_a_revoked_phone_stops_syncing_and_says_so_instead_of_retrying(server: LiveServer, phone: Phone) -> None:
    phone.save_recheck([small_jpeg(1)])
    with _admin(server) as admin:
        assert admin.post(f"/api/v1/devices/{phone.device_id}/revoke", json={"reason": "phone lost"}).status_code == 200

    with pytest.raises(DeviceRevoked) as caught:
        phone.sync()
    assert caught.value.code == "auth.device_revoked"

    scheduler = SyncScheduler(phone.store, phone.folder, period=0.05, base_delay=0.05)
    for _ in range(3):  # what its thread does after each wait: once revoked, no pass runs
        assert scheduler.run_once() == scheduler.period
    status = scheduler.status()
    assert status["state"] == "revoked" and status["last_error"]["code"] == "auth.device_revoked"
    assert status["passes"] == 1  # it tried once, then waits for a new sign-in
    assert phone.leftovers()["outbox"] == 1  # nothing was dropped


def test_reference_data_and_review_decisions_come_down_and_deletions_arrive(server: LiveServer, phone: Phone) -> None:
    env = phone.save_recheck([], note="not yet")
    phone.sync()
    server.add_user("li", "office_reviewer")
    with _admin(server) as admin, server.client(server.enroll("li", kind="browser")["token"]) as office:
        for i in range(7):
            assert admin.put(f"/api/v1/reference/village/v{i}", json={"name": f"村{i}"}).status_code in (200, 201)
        assert admin.delete("/api/v1/reference/village/v3").status_code in (200, 204)
        review = {"revision": 1, "action": "send_back", "reason": "photo of the bins missing"}
        assert office.post(f"/api/v1/records/{env['record_id']}/reviews", json=review).status_code == 201

    result = phone.sync()

    assert result.changes >= 9
    assert sorted(phone.store.reference("village")) == ["v0", "v1", "v2", "v4", "v5", "v6"]
    view = phone.store.get_record(env["record_id"])
    assert view["state"] == "sent_back"
    assert "bins" in str(view["review"])
    cursor = phone.store.cursor()
    assert cursor > 0 and phone.sync().changes == 0 and phone.store.cursor() == cursor


def test_an_officer_can_prove_the_server_accepted_her_record(server: LiveServer, phone: Phone) -> None:
    env = phone.save_recheck([small_jpeg(3)])
    phone.sync()
    api = phone.api()
    try:
        proof = prove_record(phone.store, api, env["record_id"])
        assert proof.ledger_index == phone.store.get_record(env["record_id"])["receipt"]["ledger_index"]
        assert proof.tree_size > proof.ledger_index
        assert phone.store.get_setting(PINNED_KEY_SETTING) == proof.public_key

        # a server that now signs with another key is caught
        phone.store.set_setting(PINNED_KEY_SETTING, base64.b64encode(bytes(32)).decode())
        with pytest.raises(ProofFailed) as caught:
            prove_record(phone.store, api, env["record_id"])
        assert caught.value.code == "checkpoint.untrusted_key"
    finally:
        api.close()


def test_sync_starts_by_itself_reports_progress_and_runs_again_on_sync_now(server: LiveServer, phone: Phone) -> None:
    phone.save_recheck([small_jpeg(10)])
    scheduler = SyncScheduler(phone.store, phone.folder, period=60.0)
    states: list[dict] = []
    scheduler.on_change(states.append)
    watch = StatusWatch(scheduler)
    scheduler.start()
    try:
        watch.until(lambda s: s["passes"] >= 1 and s["state"] != "running")
        assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
        later = phone.save_recheck([small_jpeg(11)])
        scheduler.sync_now()
        status = watch.until(lambda s: s["passes"] >= 2 and s["state"] != "running")
    finally:
        scheduler.stop()
    assert phone.leftovers()["outbox"] == 0
    assert status["online"] is True and status["last_success_at"]
    assert any(s["progress"]["bytes_done"] > 0 for s in states)
    assert any(s["state"] == "running" for s in states)
    assert later["record_id"] in server_copies(server)["revisions"].__str__()


def test_backoff_grows_with_failures_is_capped_and_jittered() -> None:
    rng = random.Random(4)
    first = [backoff(1, base=2, cap=60, rng=rng) for _ in range(200)]
    tenth = [backoff(10, base=2, cap=60, rng=rng) for _ in range(200)]
    assert all(1 <= d <= 2 for d in first)
    assert all(1 <= d <= 60 for d in tenth) and max(tenth) > 40
    assert len({round(d, 3) for d in tenth}) > 150  # phones do not come back in lockstep


class _ManualClock:
    """A monotonic clock that only the link moves: the phone's idea of how long a batch took."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class _SteeredBatches(httpx.HTTPTransport):
    """A link on which record batch ``n`` takes ``durations[n]`` seconds of its manual clock (the
    last duration for later batches), whatever the machine's load. With
    ``hold_later_batches_until_a_photo``, the answer to every batch after the first is held
    until a photo upload has started (or a minute has passed, so that a phone which never
    starts one fails the test instead of hanging it). Logs when each request starts and when
    its answer is back."""

    def __init__(self, durations: list[float], *, hold_later_batches_until_a_photo: bool = False) -> None:
        super().__init__()
        self.durations = durations
        self.hold = hold_later_batches_until_a_photo
        self.clock = _ManualClock()
        self.batches = 0
        self.log: list[tuple[str, str]] = []
        self._photo_started = threading.Event()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = "batch" if request.url.path.endswith("/records/batch") else "photo" if "/photos/" in request.url.path else "other"
        with self._lock:
            self.log.append(("start", kind))
            number = self.batches
            self.batches += kind == "batch"
        if kind == "photo":
            self._photo_started.set()
        response = super().handle_request(request)
        if kind == "batch":
            if self.hold and number > 0:
                self._photo_started.wait(timeout=60)
            self.clock.advance(self.durations[min(number, len(self.durations) - 1)])
        with self._lock:
            self.log.append(("end", kind))
        return response


def _save_two_batches(phone: Phone) -> list[dict]:
    """A full first batch of records without photos, then a few records with photos."""
    return [phone.save_recheck([]) for _ in range(BATCH)] + [phone.save_recheck([small_jpeg(900 + i)]) for i in range(3)]


def _sync_through(link: _SteeredBatches, server: LiveServer, phone: Phone, saved: list[dict]) -> tuple[int, int]:
    """Sync every saved record and photo over ``link``; answer where in the link's log the
    first photo started and the last batch's answer came back."""
    result = phone.sync(transport=link, clock=link.clock)
    assert result.receipts == len(saved) and result.photos_sent == 3
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    assert_exactly_once(server, saved)
    first_photo = link.log.index(("start", "photo"))
    return first_photo, max(i for i, event in enumerate(link.log) if event == ("end", "batch"))


def test_on_a_fast_link_photos_start_before_the_last_records_are_answered(server: LiveServer, phone: Phone) -> None:
    saved = _save_two_batches(phone)
    # The first batch is answered at once; the second one's answer is held back until a photo
    # has started, which happens only if the phone took the link for a fast one.
    link = _SteeredBatches([0.0], hold_later_batches_until_a_photo=True)

    first_photo, last_batch_back = _sync_through(link, server, phone, saved)

    assert first_photo < last_batch_back


def test_on_a_slow_link_every_record_is_answered_before_any_photo_goes(server: LiveServer, phone: Phone) -> None:
    saved = _save_two_batches(phone)
    link = _SteeredBatches([FAST_BATCH_SECONDS + 0.2])  # every batch as slow as on 2G

    first_photo, last_batch_back = _sync_through(link, server, phone, saved)

    assert last_batch_back < first_photo
