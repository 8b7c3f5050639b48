"""A TCP proxy on loopback that behaves like a bad village link.

It forwards HTTP/1.1 between a client and a server and can

* cut a fraction of exchanges in the middle of a body: the request body (the server never
  sees the end of it) or the response body (the server committed, the phone never heard),
  by resetting both sockets;
* cut once, on purpose, after a given number of request-body bytes sent to a path
  (``arm_cut``), e.g. half-way through a photo;
* throttle the whole link to N kbit/s in each direction (one shared token bucket per
  direction, as a 2G cell would);
* count every byte on the wire each way.

Decisions come from ``random.Random(seed)``, so a test run is reproducible. It frames
messages by ``Content-Length`` (what httpx and uvicorn send for our calls); anything
chunked is passed through without cuts.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class _Exchange:
    method: str
    path: str
    cut_request_at: int | None = None  # body offset
    cut_response_at: float | None = None  # fraction of the response body


class LinkClock:
    """The time a throttled link runs on: real time by default. A test that checks the
    throttle itself hands the proxy a ``LinkClock(manual=True)``, whose ``sleep`` only moves
    its own time forward, so the link's time is exact whatever the machine's load."""

    def __init__(self, *, manual: bool = False) -> None:
        self.manual = manual
        self.now = 0.0
        self.lock = threading.Lock()

    def time(self) -> float:
        if not self.manual:
            return time.monotonic()
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        if not self.manual:
            time.sleep(seconds)  # the throttle itself: holding bytes back is what it does
            return
        with self.lock:
            self.now += seconds


class _Bucket:
    """A token bucket: ``take(n)`` blocks until n bytes may pass."""

    def __init__(self, bytes_per_s: float, clock: LinkClock) -> None:
        self.rate = bytes_per_s
        self.clock = clock
        self.tokens = 0.0
        self.stamp = clock.time()
        self.lock = threading.Lock()

    def take(self, n: int) -> None:
        with self.lock:
            now = self.clock.time()
            self.tokens = min(self.rate * 0.1, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= n
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if wait > 0:
            self.clock.sleep(wait)


class FaultyProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        cut_fraction: float = 0.0,
        kbit_per_s: float | None = None,
        seed: int = 0,
        upstream_host: str = "127.0.0.1",
        clock: LinkClock | None = None,
    ) -> None:
        self.clock = clock or LinkClock()
        self.upstream = (upstream_host, upstream_port)
        self.cut_fraction = cut_fraction
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0
        self.cuts = 0
        self.cut_log: list[tuple[str, str, str]] = []  # (method, path, "request"|"response")
        self._armed: list[list] = []  # [remaining body bytes, path prefix]
        self._buckets: tuple[_Bucket, _Bucket] | None = None
        self.throttle(kbit_per_s)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closing = False
        self._sockets: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # control ------------------------------------------------------------------------
    def start(self) -> FaultyProxy:
        threading.Thread(target=self._accept_loop, daemon=True, name="proxy-accept").start()
        return self

    def stop(self) -> None:
        self._closing = True
        self._listener.close()
        with self.lock:
            for s in list(self._sockets):
                _reset(s)

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def throttle(self, kbit_per_s: float | None) -> None:
        """Limit each direction to ``kbit_per_s`` (None: as fast as loopback goes)."""
        if kbit_per_s is None:
            self._buckets = None
        else:
            rate = kbit_per_s * 1000 / 8
            self._buckets = (_Bucket(rate, self.clock), _Bucket(rate, self.clock))

    def arm_cut(self, after_body_bytes: int, path_prefix: str | tuple[str, ...] = "") -> None:
        """Cut once, when ``after_body_bytes`` more request-body bytes went to paths starting
        with ``path_prefix`` (one prefix or several, counted together)."""
        with self.lock:
            self._armed.append([after_body_bytes, path_prefix])

    def reset_counters(self) -> None:
        with self.lock:
            self.bytes_up = self.bytes_down = self.connections = self.cuts = 0
            self.cut_log.clear()

    # plumbing -----------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
                self._sockets.update((client, server))
            link = _Link(self, client, server)
            threading.Thread(target=link.pump_up, daemon=True).start()
            threading.Thread(target=link.pump_down, daemon=True).start()

    def _decide(self, method: str, path: str, length: int) -> _Exchange:
        ex = _Exchange(method, path)
        with self.lock:
            if self.cut_fraction and self.random.random() < self.cut_fraction:
                if length > 0 and self.random.random() < 0.5:
                    ex.cut_request_at = self.random.randrange(0, length)
                else:
                    ex.cut_response_at = self.random.random()
        return ex

    def _armed_cut(self, path: str, n: int) -> int | None:
        """If an armed cut falls within the next ``n`` body bytes to ``path``, where."""
        with self.lock:
            for rule in self._armed:
                if path.startswith(rule[1]):
                    if rule[0] < n:
                        self._armed.remove(rule)
                        return rule[0]
                    rule[0] -= n
        return None

    def _count(self, up: int, down: int) -> None:
        with self.lock:
            self.bytes_up += up
            self.bytes_down += down

    def _note_cut(self, ex: _Exchange, where: str) -> None:
        with self.lock:
            self.cuts += 1
            self.cut_log.append((ex.method, ex.path, where))


class _Cut(ConnectionResetError):
    pass


class _Link:
    """One client connection and its upstream twin."""

    def __init__(self, proxy: FaultyProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.pending: deque[_Exchange] = deque()
        self.cond = threading.Condition()
        self.dead = False

    def _send(self, dst: socket.socket, data: bytes, up: bool) -> None:
        buckets = self.proxy._buckets
        step = 65536 if buckets is None else max(256, int(buckets[0].rate / 20))
        for i in range(0, len(data), step):
            piece = data[i : i + step]
            if buckets is not None:
                buckets[0 if up else 1].take(len(piece))
            dst.sendall(piece)
            self.proxy._count(len(piece) if up else 0, 0 if up else len(piece))

    def _kill(self) -> None:
        with self.cond:
            self.dead = True
            self.cond.notify_all()
        for s in (self.client, self.server):
            _reset(s)
        with self.proxy.lock:
            self.proxy._sockets.discard(self.client)
            self.proxy._sockets.discard(self.server)

    def pump_up(self) -> None:
        try:
            reader = _Reader(self.client)
            while True:
                head = reader.head()
                if head is None:
                    break
                method, path, headers = _parse_head(head, request=True)
                length = int(headers.get("content-length", "0") or 0)
                ex = self.proxy._decide(method, path, length)
                with self.cond:
                    self.pending.append(ex)
                    self.cond.notify_all()
                self._send(self.server, head, up=True)
                sent = 0
                while sent < length:
                    data = reader.body(length - sent)
                    if not data:
                        raise _Cut
                    cut = None
                    if ex.cut_request_at is not None and sent <= ex.cut_request_at < sent + len(data):
                        cut = ex.cut_request_at - sent
                    armed = self.proxy._armed_cut(path, len(data))
                    if armed is not None and (cut is None or armed < cut):
                        cut = armed
                    if cut is not None:
                        self._send(self.server, data[:cut], up=True)
                        self.proxy._note_cut(ex, "request")
                        raise _Cut
                    self._send(self.server, data, up=True)
                    sent += len(data)
                if "chunked" in headers.get("transfer-encoding", ""):
                    while data := reader.body(65536):
                        self._send(self.server, data, up=True)
        except (_Cut, OSError):
            pass
        self._kill()

    def pump_down(self) -> None:
        try:
            reader = _Reader(self.server)
            while True:
                head = reader.head()
                if head is None:
                    break
                _, status, headers = _parse_head(head, request=False)
                if int(status) < 200:  # 100 Continue and friends: no exchange ends here
                    self._send(self.client, head, up=False)
                    continue
                with self.cond:
                    while not self.pending and not self.dead:
                        self.cond.wait(1.0)
                    if not self.pending:
                        break
                    ex = self.pending.popleft()
                no_body = ex.method == "HEAD" or int(status) in (204, 304)
                length = 0 if no_body else int(headers.get("content-length", "0") or 0)
                cut_at = None if ex.cut_response_at is None else int(length * ex.cut_response_at)
                if cut_at is not None and cut_at == 0:
                    self.proxy._note_cut(ex, "response")
                    raise _Cut
                self._send(self.client, head, up=False)
                sent = 0
                while sent < length:
                    data = reader.body(length - sent)
                    if not data:
                        raise _Cut
                    if cut_at is not None and sent + len(data) > cut_at:
                        self._send(self.client, data[: cut_at - sent], up=False)
                        self.proxy._note_cut(ex, "response")
                        raise _Cut
                    self._send(self.client, data, up=False)
                    sent += len(data)
                if "chunked" in headers.get("transfer-encoding", ""):
                    while data := reader.body(65536):
                        self._send(self.client, data, up=False)
        except (_Cut, OSError):
            pass
        self._kill()


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def head(self) -> bytes | None:
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        end = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:end], self.buf[end:]
        return head

    def body(self, most: int) -> bytes:
        if not self.buf:
            self.buf = self.sock.recv(65536)
        data, self.buf = self.buf[:most], self.buf[most:]
        return data


def _parse_head(head: bytes, *, request: bool) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip().lower()
    if request:
        return first[0], first[1] if len(first) > 1 else "", headers
    return first[0], first[1] if len(first) > 1 else "0", headers


def _reset(s: socket.socket) -> None:
    """Close with RST, as a dropped radio link looks to both ends."""
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.shutdown(socket.SHUT_RDWR)  # wakes the other pump thread blocked in recv
    with contextlib.suppress(OSError):
        s.close()
