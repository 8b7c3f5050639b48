"""The phone packs record batches by bytes as well as by count, so a batch never meets the server's
cap on a batch's body (issue 7, hole 8: bodies are now capped before they are parsed)."""

from __future__ import annotations

import json

import httpx

from field_app.sync.engine import BATCH_BYTES
from tests.support.live_server import LiveServer
from tests.support.phone import Phone, assert_exactly_once
from xuncha_core.canonical import canonical_bytes
from xuncha_core.json_limits import MAX_BATCH_BODY_BYTES


class BatchSizes(httpx.BaseTransport):
    """A real transport that notes the body size and record count of every batch sent."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.batches: list[tuple[int, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/records/batch":
            body = request.read()
            self.batches.append((len(body), len(json.loads(body)["records"])))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_the_phone_packs_batches_well_under_the_servers_cap() -> None:
    assert BATCH_BYTES * 2 == MAX_BATCH_BODY_BYTES


def test_records_larger_together_than_a_batch_may_be_go_in_several_batches_and_all_arrive(
    sqlite_server: LiveServer, phone: Phone
) -> None:
    saved = [phone.save_recheck([], note="仍有垃圾堆放" * 300) for _ in range(7)]
    one = len(canonical_bytes(saved[0]))
    limit = 2 * one + 10  # room for two records a batch
    seen = BatchSizes()

    result = phone.sync(transport=seen, batch_bytes=limit)

    assert result.receipts == 7 and phone.leftovers()["outbox"] == 0
    assert [count for _size, count in seen.batches] == [2, 2, 2, 1]
    assert all(size <= limit + 20 for size, _count in seen.batches)  # plus the {"records":[…]} wrapping
    assert_exactly_once(sqlite_server, saved)


def test_a_record_larger_than_the_packing_limit_still_goes_alone(sqlite_server: LiveServer, phone: Phone) -> None:
    saved = [phone.save_recheck([], note="仍有垃圾堆放" * 300) for _ in range(2)]
    seen = BatchSizes()

    result = phone.sync(transport=seen, batch_bytes=100)

    assert result.receipts == 2 and [count for _size, count in seen.batches] == [1, 1]
    assert_exactly_once(sqlite_server, saved)
