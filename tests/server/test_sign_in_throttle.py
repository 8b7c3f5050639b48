"""Sign-in and enrollment back off (issue 7, hole 8): 50 wrong passwords no longer get 50 argon2
runs, the right password still works once the wait is over, and the back-off outlives a restart.

The server runs in this process on a real uvicorn so the test can move its clock: nothing here
waits in real time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from server.accounts import accounts, throttle
from server.infra.http_errors import headers_for, status_for
from tests.support.app_server import AppServer, ManualClock
from tests.support.databases import write
from xuncha_core.errors import UnavailableError

WRONG = {"username": "wang", "password": "not-the-password"}
RIGHT = {"username": "wang", "password": "password-123"}
LI = {"username": "li", "password": "password-123"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def town(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[AppServer]:
    with AppServer(tmp_path / "data", database_url, clock) as srv:
        srv.add_user("wang")
        srv.add_user("li")
        yield srv


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash the server runs, by username (the server is in this process)."""
    seen: list[str] = []
    real: Callable[[Any, str], bool] = accounts.password_matches

    def counted(user: Any, password: str) -> bool:
        seen.append(user.username if user is not None else "?")
        return real(user, password)

    monkeypatch.setattr(accounts, "password_matches", counted)
    return seen


def test_fifty_wrong_passwords_are_throttled_and_only_the_free_ones_run_the_hash(
    town: AppServer, hashes: list[str]
) -> None:
    answers = [town.enroll(WRONG) for _ in range(50)]
    assert [r.status_code for r in answers[:5]] == [401] * 5
    assert {r.status_code for r in answers[5:]} == {429}
    assert len(hashes) == 5
    throttled = answers[-1]
    err = throttled.json()["error"]
    assert err["code"] == "auth.throttled"
    assert throttled.headers["Retry-After"] == "10" and err["detail"]["retry_after"] == 10
    assert "Try again in 10 seconds" in err["message"] and "10 秒后" in err["message_zh"]
    # While it backs off, even the right password is not tried.
    assert town.enroll(RIGHT).status_code == 429 and len(hashes) == 5


def test_after_the_back_off_the_right_password_works_and_clears_the_accounts_failures(
    town: AppServer, clock: ManualClock
) -> None:
    for _ in range(5):
        assert town.enroll(WRONG).status_code == 401
    wait = int(town.enroll(RIGHT).headers["Retry-After"])
    clock.advance(wait - 1)
    assert town.enroll(RIGHT).status_code == 429
    clock.advance(1)
    signed_in = town.enroll(RIGHT)
    assert signed_in.status_code == 201 and signed_in.json()["user"]["username"] == "wang"
    # The success forgot the failures: the next mistakes are free again.
    assert [town.enroll(WRONG).status_code for _ in range(5)] == [401] * 5


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_fifteen_minutes(
    town: AppServer, clock: ManualClock
) -> None:
    for _ in range(5):
        town.enroll(WRONG)
    waits = []
    for _ in range(9):
        refused = town.enroll(WRONG)
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(waits[-1])
        assert town.enroll(WRONG).status_code == 401  # a guess is judged again once the wait is over
    assert waits == [10, 20, 40, 80, 160, 320, 640, 900, 900]
    # A day without failures and the account starts afresh.
    clock.advance(24 * 3600)
    assert [town.enroll(WRONG).status_code for _ in range(5)] == [401] * 5


def test_another_account_and_another_address_are_not_held_back(town: AppServer) -> None:
    for _ in range(6):
        town.enroll(WRONG)
    assert town.enroll(WRONG).status_code == 429
    assert town.enroll(LI).status_code == 201  # same address, another account
    guesser, neighbour = "198.51.100.7", "198.51.100.8"
    for i in range(20):  # one address guessing at many accounts
        assert town.enroll({"username": f"nobody{i}", "password": "guess-guess"}, address=guesser).status_code == 401
    assert town.enroll(LI, address=guesser).status_code == 429
    assert town.enroll(LI, address=neighbour).status_code == 201


def test_wrong_enrollment_codes_back_off_by_address(town: AppServer) -> None:
    with write(town.app.state.engine) as conn:
        code = accounts.issue_enrollment_code(conn, username="li", issued_by=None)["code"]
    guesser, office = "203.0.113.5", "203.0.113.6"
    for i in range(20):
        assert town.enroll({"enrollment_code": f"00000-{i:05d}"}, address=guesser).status_code == 401
    refused = town.enroll({"enrollment_code": code}, address=guesser)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "auth.throttled"
    assert town.enroll({"enrollment_code": code}, address=office).status_code == 201


def test_the_back_off_survives_a_restart_and_binds_every_server_process(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    with AppServer(tmp_path / "data", database_url, clock) as first:
        first.add_user("wang")
        for _ in range(5):
            assert first.enroll(WRONG).status_code == 401
    with AppServer(tmp_path / "data", database_url, clock) as restarted, AppServer(
        tmp_path / "data", database_url, clock
    ) as another:
        assert restarted.enroll(RIGHT).status_code == 429
        assert another.enroll(RIGHT).status_code == 429
        clock.advance(10)
        assert another.enroll(RIGHT).status_code == 201


def test_ipv6_clients_are_judged_by_their_64_and_mapped_ipv4_as_ipv4() -> None:
    assert throttle.address_key("2001:db8::1") == throttle.address_key("2001:db8::ffff:1")
    assert throttle.address_key("2001:db8::1") != throttle.address_key("2001:db8:0:1::1")
    assert throttle.address_key("::ffff:192.0.2.1") == throttle.address_key("192.0.2.1")
    assert throttle.address_key(None).name == "address:unknown"


def test_no_more_password_hashes_run_at_once_than_there_are_slots() -> None:
    release = threading.Event()
    holding = threading.Barrier(throttle.HASH_SLOTS + 1)

    def hold() -> None:
        with throttle.hash_slot():
            holding.wait()
            release.wait()

    holders = [threading.Thread(target=hold) for _ in range(throttle.HASH_SLOTS)]
    for h in holders:
        h.start()
    holding.wait()  # every slot is taken
    try:
        with pytest.raises(UnavailableError) as busy, throttle.hash_slot(wait_seconds=0):
            pass
        assert status_for(busy.value) == 503 and busy.value.code == "auth.busy"
        assert headers_for(busy.value) == {"Retry-After": "5"}
    finally:
        release.set()
        for h in holders:
            h.join()
    with throttle.hash_slot(wait_seconds=0):
        pass
