"""Console sign-in behind the API's throttle, and the idle timeout, on a clock the test moves (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.app_server import AppServer, ManualClock
from tests.support.console import post_sign_in


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    tmp: Path = tmp_path_factory.mktemp("console-clock")
    with AppServer(tmp / "data", f"sqlite:///{tmp / 'xuncha.sqlite3'}", ManualClock()) as srv:
        srv.add_user("zhou.hb", "right-password-1", role="office_reviewer")
        srv.add_user("li.fz", "right-password-2", role="legal_reviewer")
        yield srv


def _client(app: AppServer, address: str) -> httpx.Client:
    return httpx.Client(base_url=app.url, timeout=30, headers={"X-Forwarded-For": address})


def test_wrong_passwords_are_throttled_and_the_right_user_still_gets_in_afterwards(app: AppServer) -> None:
    guesser = _client(app, "198.51.100.7")
    answers = [post_sign_in(guesser, "zhou.hb", f"guess-{i}").status_code for i in range(7)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429, 429]
    page = post_sign_in(guesser, "zhou.hb", "guess-8")
    assert "登录失败次数过多" in page.text and int(page.headers["retry-after"]) >= 1
    # the owner, at the town hall, is held back only while the account waits ...
    owner = _client(app, "203.0.113.5")
    assert post_sign_in(owner, "zhou.hb", "right-password-1").status_code == 429
    app.clock.advance(int(page.headers["retry-after"]))
    r = post_sign_in(owner, "zhou.hb", "right-password-1")
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    assert owner.get("/console/", follow_redirects=False).status_code == 200
    # ... and other accounts were never affected
    assert post_sign_in(_client(app, "203.0.113.6"), "li.fz", "right-password-2").status_code == 303


def test_a_session_left_idle_past_the_timeout_sends_the_browser_to_sign_in(app: AppServer) -> None:
    client = _client(app, "203.0.113.9")
    assert post_sign_in(client, "li.fz", "right-password-2").status_code == 303
    app.clock.advance(25 * 60)
    assert client.get("/console/records", follow_redirects=False).status_code == 200  # used: the clock restarts
    app.clock.advance(25 * 60)
    assert client.get("/console/records", follow_redirects=False).status_code == 200
    app.clock.advance(31 * 60)
    r = client.get("/console/records?state=submitted", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/sign-in?next=%2Fconsole%2Frecords%3Fstate%3Dsubmitted&expired=1"
    assert "请重新登录" in client.get(r.headers["location"]).text
