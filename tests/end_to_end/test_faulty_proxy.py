"""The faulty proxy itself: the sync fault tests are only as honest as it is."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.faulty_proxy import FaultyProxy, LinkClock
from tests.support.waits import wait_until


class _Sink(BaseHTTPRequestHandler):
    """Answers every PUT with how many body bytes it read; remembers partial reads."""

    protocol_version = "HTTP/1.1"
    received: list[int] = []  # noqa: RUF012 - shared on purpose, per test server

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        got = 0
        while got < length:
            data = self.rfile.read(min(65536, length - got))
            if not data:
                break
            got += len(data)
        type(self).received.append(got)
        if got < length:
            self.close_connection = True
            return
        body = (b'{"got": %d, "pad": "' % got) + b"x" * 2000 + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sink() -> Iterator[tuple[ThreadingHTTPServer, type[_Sink]]]:
    handler = type("Sink", (_Sink,), {"received": []})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv, handler
    srv.shutdown()
    srv.server_close()


def test_clean_proxy_passes_every_byte_and_counts_them(sink) -> None:
    srv, handler = sink
    with FaultyProxy(srv.server_address[1]) as proxy, httpx.Client(base_url=proxy.url) as client:
        payload = bytes(range(256)) * 400
        for _ in range(3):
            r = client.put("/x", content=payload)
            assert r.json()["got"] == len(payload)
        assert handler.received == [len(payload)] * 3
        assert proxy.cuts == 0
        assert 3 * len(payload) < proxy.bytes_up < 3 * len(payload) + 3 * 400
        assert proxy.bytes_down > 3 * 2000


def test_armed_cut_stops_the_body_at_exactly_the_asked_byte(sink) -> None:
    srv, handler = sink
    with FaultyProxy(srv.server_address[1]) as proxy, httpx.Client(base_url=proxy.url) as client:
        proxy.arm_cut(50_000, "/photo")
        with pytest.raises(httpx.TransportError):
            client.put("/photo", content=b"p" * 100_000)
        wait_until(lambda: handler.received, "the server to see the end of the cut body")
        assert handler.received == [50_000]
        assert proxy.cut_log == [("PUT", "/photo", "request")]
        # the next request goes through again
        assert client.put("/photo", content=b"p" * 10).json()["got"] == 10


def _cut_pattern(port: int, seed: int) -> list[bool]:
    outcome = []
    with FaultyProxy(port, cut_fraction=0.3, seed=seed) as proxy:
        for _ in range(30):
            with httpx.Client(base_url=proxy.url) as client:
                try:
                    client.put("/x", content=b"a" * 5000)
                    outcome.append(True)
                except httpx.TransportError:
                    outcome.append(False)
    return outcome


def test_cuts_hit_about_the_asked_fraction_and_repeat_with_the_seed(sink) -> None:
    srv, _ = sink
    first = _cut_pattern(srv.server_address[1], seed=7)
    again = _cut_pattern(srv.server_address[1], seed=7)
    assert first == again
    assert 3 <= first.count(False) <= 18


def test_throttle_holds_the_link_to_its_rate(sink) -> None:
    srv, _ = sink
    link = LinkClock(manual=True)
    with FaultyProxy(srv.server_address[1], kbit_per_s=256, clock=link) as proxy, httpx.Client(base_url=proxy.url) as client:
        client.put("/x", content=b"t" * 48_000)  # 384 kbit at 256 kbit/s: 1.5 s
    assert 1.5 <= link.now < 1.6  # the body and both heads, held to the rate
