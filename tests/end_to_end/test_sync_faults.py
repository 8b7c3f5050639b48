"""Sync under crashes and a bad link: nothing lost, nothing twice (issue 4).

The phone side is the real headless sync CLI killed with SIGKILL at named points, or the
real engine talking through a loopback proxy that cuts connections mid-body or holds the
link to 2G speed. The server is a real uvicorn process, itself killed with SIGKILL.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from field_app.sync.engine import Progress
from field_app.sync.errors import Offline
from tests.support.faulty_proxy import FaultyProxy
from tests.support.live_server import LiveServer
from tests.support.phone import (
    Phone,
    assert_exactly_once,
    cli_summary,
    iter_real_photos,
    server_copies,
    small_jpeg,
)
from tests.support.waits import wait_until

# the paths photo bodies take: resumable chunks, and whole photos (the prefix also counts the
# few hundred bytes of the POST /api/v1/photos/missing list)
PHOTO_BODIES = ("/api/v1/uploads", "/api/v1/photos/")


@pytest.mark.parametrize("kill_at", ["before_send", "mid_photo", "after_commit", "mid_pull"])
def test_a_phone_killed_at_any_step_and_restarted_sends_everything_exactly_once(
    sqlite_server: LiveServer, phone: Phone, kill_at: str
) -> None:
    big = next(iter_real_photos("mobile_*.jpg"))  # several chunks: the kill lands inside one
    saved = [phone.save_recheck([big])] + [phone.save_recheck([small_jpeg(i)]) for i in range(4)]
    sqlite_server.add_user("boss", "admin")
    with sqlite_server.client(sqlite_server.enroll("boss", kind="browser")["token"]) as admin:
        for i in range(3):
            admin.put(f"/api/v1/reference/village/v{i}", json={"name": f"村{i}"}).raise_for_status()
    phone.close()

    killed = phone.cli("--once", kill_at=kill_at)
    assert killed.returncode == -9, killed.stderr

    held = server_copies(sqlite_server)
    if kill_at == "before_send":
        assert not held["revisions"]
    if kill_at in ("after_commit", "mid_photo", "mid_pull"):
        assert len(held["revisions"]) == len(saved)  # the server has them; the phone may not know
    if kill_at == "mid_photo":
        assert (sqlite_server.data_dir / "uploads").exists() and not held["photos"].get(saved[0]["photos"][0])

    done = phone.cli("--until-done", "--retry-base", "0.1", "--max-seconds", "40")
    summary = cli_summary(done)
    assert done.returncode == 0 and summary["ok"], done.stdout + done.stderr

    phone.reopen()
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    assert_exactly_once(sqlite_server, saved)
    assert sorted(phone.store.reference("village")) == ["v0", "v1", "v2"]
    for env in saved:
        assert phone.store.get_record(env["record_id"])["state"] == "synced"


def test_a_phone_killed_after_photos_were_acknowledged_but_before_they_were_marked_sends_none_twice(
    sqlite_server: LiveServer, phone: Phone
) -> None:
    """Photo marks are stored in groups: a kill between the server's acknowledgement and the
    group's write loses the marks, and the next pass only re-checks those photos."""
    saved = [phone.save_recheck([small_jpeg(i)]) for i in range(6)]
    phone.close()

    killed = phone.cli("--once", kill_at="photo_acked")
    assert killed.returncode == -9, killed.stderr
    held = set(server_copies(sqlite_server)["photos"])
    assert held  # the server acknowledged at least one photo …
    phone.reopen()
    assert phone.leftovers()["photos_pending"] == len(saved)  # … that the phone never marked
    phone.close()

    done = phone.cli("--until-done", "--retry-base", "0.1", "--max-seconds", "40")
    summary = cli_summary(done)
    assert done.returncode == 0 and summary["ok"], done.stdout + done.stderr
    # What the server held at the kill is not sent again (an upload already on the wire when
    # the phone died may still land after the count, so this is an upper bound).
    assert summary["photos_sent"] <= len(saved) - len(held)
    phone.reopen()
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    assert_exactly_once(sqlite_server, saved)


@pytest.mark.slow
def test_the_server_killed_during_ingest_and_restarted_loses_and_doubles_nothing(
    sqlite_server: LiveServer, phone: Phone
) -> None:
    saved = [phone.save_recheck([small_jpeg(100 + i)]) for i in range(150)]
    phone.close()
    env_cmd = [sys.executable, "-m", "field_app.sync.cli", "--data", str(phone.folder), "--quiet",
               "--until-done", "--retry-base", "0.2", "--max-seconds", "50"]
    client = subprocess.Popen(env_cmd, env=sqlite_server.env(), cwd=sqlite_server.env()["PYTHONPATH"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        kills = 0
        # kill once while the record batch is going in, once while photos are arriving
        for ready, what in ((lambda h: True, "the batch going in"), (lambda h: len(h["photos"]) >= 10, "photos arriving")):
            wait_until(lambda ready=ready: ready(server_copies(sqlite_server)), what)
            sqlite_server.kill()
            kills += 1
            sqlite_server.start()
        out, err = client.communicate(timeout=60)
    finally:
        if client.poll() is None:
            client.kill()
    assert kills == 2
    assert client.returncode == 0, out + err
    phone.reopen()
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    assert_exactly_once(sqlite_server, saved)


@pytest.mark.slow
def test_200_records_with_photos_arrive_once_through_a_link_that_cuts_a_fifth_of_the_connections(
    sqlite_server: LiveServer, phone: Phone
) -> None:
    saved = [phone.save_recheck([small_jpeg(1000 + i)]) for i in range(200)]
    with FaultyProxy(sqlite_server.port, cut_fraction=0.2, seed=20) as proxy:
        phone.sync_until_done(url=proxy.url)
        assert proxy.cuts >= 10  # the link really was bad
        assert {where for _, _, where in proxy.cut_log} == {"request", "response"}
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    held = assert_exactly_once(sqlite_server, saved)
    assert held["heads"] == 200


@pytest.mark.slow
def test_photos_over_a_2g_link_show_progress_and_resume_after_each_cut(sqlite_server: LiveServer, phone: Phone) -> None:
    photos = list(iter_real_photos("orientation_landscape_*.jpg"))[:3]  # about 140 KB each
    saved = [phone.save_recheck([p]) for p in photos]
    payload = sum(len(p) for p in photos)
    with FaultyProxy(sqlite_server.port, kbit_per_s=256, seed=2) as proxy:
        # three cuts in the middle of photo bodies, whether a photo goes in chunks or whole
        # (the phone sizes its first chunks from how fast its records went: a matter of timing)
        for at in (60_000, 200_000, 330_000):
            proxy.arm_cut(at, PHOTO_BODIES)
        per_pass: list[list[Progress]] = []
        for _ in range(10):
            per_pass.append([])
            try:
                phone.sync(url=proxy.url, on_progress=per_pass[-1].append)
                break
            except Offline:  # a pass may give up after repeated cuts; the next one resumes
                continue
        cuts = proxy.cuts
    assert phone.leftovers() == {"outbox": 0, "photos_pending": 0}
    assert_exactly_once(sqlite_server, saved)
    assert cuts == 3
    sent_total = sum(max((p.bytes_done for p in seen), default=0) for seen in per_pass)
    resent = sent_total - payload
    assert 0 <= resent <= cuts * phone.sizer.largest, (resent, phone.sizer.largest)
    steps = {p.bytes_done for seen in per_pass for p in seen}
    assert len(steps) > 10  # the bar moved while the photos crawled
