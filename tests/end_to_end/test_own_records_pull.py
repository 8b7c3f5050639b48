"""Her own records after a push: what the phone just sent is not downloaded again (issue 12).

A pass that pushed a thousand records then pulled all of them back from
``/api/v1/sync/own-records``, twenty pages of envelopes on a 2G link. Now the pull leaves out
this device's own revisions it got receipts for, and anything else about them (a review,
another phone's revision) still comes; another phone of hers still receives them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from field_app.sync.engine import OWN_PAGE
from tests.support.live_server import LiveServer
from tests.support.phone import DoubleSend, Phone
from tests.support.records import member

OWN_RECORDS = "/api/v1/sync/own-records"


@pytest.fixture
def phone_server(server: LiveServer) -> LiveServer:
    return server  # on SQLite and on PostgreSQL


class OwnRecordsCount(httpx.BaseTransport):
    """A real link that counts the own-records pages it fetched and the records they held."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.pages = 0
        self.records = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == OWN_RECORDS:
            response.read()
            self.pages += 1
            self.records += len(response.json().get("records") or [])
        return response

    def close(self) -> None:
        self.inner.close()


def _own_page(server: LiveServer, token: str, **params: Any) -> dict[str, Any]:
    with server.client(token) as c:
        r = c.get(OWN_RECORDS, params=params)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def _push(server: LiveServer, token: str, envelope: dict[str, Any]) -> int:
    """Send one revision straight to the server; answers its ledger index."""
    with server.client(token) as c:
        r = c.post("/api/v1/records", json=envelope)
    assert r.status_code == 201, r.text
    return int(r.json()["ledger_index"])


def _last_index(server: LiveServer) -> int:
    return int(server.scalar("SELECT MAX(ledger_index) FROM record_revisions"))


def test_a_pass_that_pushes_records_pulls_none_of_them_back_nor_does_the_next(
    server: LiveServer, phone: Phone
) -> None:
    made = [phone.save_recheck([], note=f"第{i}处") for i in range(OWN_PAGE + 10)]  # > a page
    link = OwnRecordsCount()
    result = phone.sync(transport=link)
    assert result.receipts == len(made) and phone.store.outbox() == []
    assert result.own_records == 0 and link.records == 0 and link.pages == 1
    assert phone.store.own_records_cursor() == _last_index(server)  # the largest receipted place

    again = OwnRecordsCount()
    assert phone.sync(transport=again).own_records == 0 and again.records == 0
    assert phone.store.own_records_cursor() == _last_index(server)
    assert {r["record_id"] for r in phone.store.history()} == {e["record_id"] for e in made}


def test_replayed_receipts_count_too(server: LiveServer, phone: Phone) -> None:
    made = [phone.save_recheck([], note=f"第{i}处") for i in range(3)]
    link = DoubleSend()  # every batch answered by its replay: the original places
    result = phone.sync(transport=link)
    assert result.replayed == len(made) and result.own_records == 0
    assert phone.store.own_records_cursor() == _last_index(server)


def test_a_review_made_after_the_push_comes_on_the_next_pass(
    server: LiveServer, phone: Phone
) -> None:
    made = [phone.save_recheck([], note=f"第{i}处") for i in range(3)]
    assert phone.sync().own_records == 0
    reviewer = member(server, "zhou", "office_reviewer")
    with reviewer.client() as c:
        r = c.post(f"/api/v1/records/{made[1]['record_id']}/reviews",
                   json={"revision": 1, "action": "send_back", "reason": "照片不清楚"})  # fmt: skip
        assert r.status_code == 201, r.text
    link = OwnRecordsCount()
    assert phone.sync(transport=link).own_records == 1 and link.records == 1
    record = phone.store.get_record(made[1]["record_id"])
    assert record is not None and record["review"]["reason"] == "照片不清楚"
    review_place = int(server.scalar("SELECT MAX(ledger_index) FROM reviews"))
    assert phone.store.own_records_cursor() == review_place


def test_another_phone_of_hers_still_receives_them_all(
    server: LiveServer, phone: Phone, tmp_path: Path
) -> None:
    made = [phone.save_recheck([], note=f"第{i}处") for i in range(5)]
    assert phone.sync().own_records == 0
    second = Phone(server, tmp_path / "second", "wang")  # same user, a new device
    try:
        own = [second.save_recheck([], note="新手机") for _ in range(2)]
        link = OwnRecordsCount()
        result = second.sync(transport=link)
        assert result.receipts == 2 and result.own_records == len(made) == link.records
        held = {r["record_id"] for r in second.store.history()}
        assert held == {e["record_id"] for e in made + own}
        # and the first phone gets the second phone's, not its own
        assert phone.sync().own_records == len(own)
    finally:
        second.close()


def test_mine_since_leaves_out_only_the_callers_own_device_revisions(
    server: LiveServer, phone: Phone, tmp_path: Path
) -> None:
    mine = [phone.save_recheck([], note=f"第{i}处") for i in range(3)]
    places = [_push(server, phone.token, e) for e in mine]
    second = Phone(server, tmp_path / "second", "wang")  # same user, another device
    try:
        theirs = second.save_recheck([], note="新手机")
    finally:
        second.close()
    _push(server, second.token, theirs)
    ids = [e["record_id"] for e in mine]

    def seen(token: str = phone.token, **params: Any) -> list[str]:
        return [r["record_id"] for r in _own_page(server, token, **params)["records"]]

    other = theirs["record_id"]
    assert seen(after=0) == [*ids, other]
    assert seen(after=0, mine_since=0) == [other]  # another device's revision still comes
    assert seen(after=0, mine_since=places[1]) == [ids[0], other]  # only from that place on
    page = _own_page(server, phone.token, after=0, mine_since=0)
    assert page["next"] == _last_index(server) and page["more"] is False
    # the other device, asking the same, leaves out its own and gets hers
    assert seen(second.token, after=0, mine_since=0) == ids

    reviewer = member(server, "zhou", "office_reviewer")
    with reviewer.client() as c:
        approve = {"revision": 1, "action": "approve"}
        c.post(f"/api/v1/records/{ids[2]}/reviews", json=approve).raise_for_status()
    assert seen(after=0, mine_since=0) == [other, ids[2]]  # a review always counts
    [approved] = _own_page(server, phone.token, after=0, mine_since=0)["records"][1:]
    assert approved["review_state"] == "approved" and approved["envelope"] == mine[2]  # its head
    with server.client(phone.token) as c:
        assert c.get(OWN_RECORDS, params={"mine_since": -1}).status_code == 422
