"""Hostile JSON gets a clear 4xx and changes nothing (issue 7, holes 2, 6 and 8): deep nesting,
lone surrogates, invalid UTF-8, bodies past their cap, and bodies sent without a token, which the
server now refuses before it reads them. On a real server, on each database backend.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.databases import backends, fresh_database
from tests.support.live_server import LiveServer
from tests.support.records import Member, member
from xuncha_core.json_limits import MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES, MAX_BODY_DEPTH, MAX_DEPTH

JSON = {"Content-Type": "application/json"}


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def raw(value: Any) -> bytes:
    """JSON as a hostile client writes it: lone surrogates as \\ud800 escapes, any depth."""
    return json.dumps(value).encode("ascii")


def deep_raw(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.fixture(scope="module", params=backends())
def town(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One server per backend for the whole module: every test here leaves it as it found it."""
    tmp = tmp_path_factory.mktemp(f"hostile-input-{request.param}")
    with fresh_database(request.param, tmp) as url:
        srv = LiveServer(tmp / "data", url).start()
        try:
            boss = member(srv, "boss", "admin")
            yield {"server": srv, "admin": boss, "wang": member(srv, "wang", "supervisor", admin=boss)}
        finally:
            srv.stop()


@pytest.fixture
def server(town: dict[str, Any]) -> LiveServer:
    return town["server"]


@pytest.fixture
def people(town: dict[str, Any]) -> dict[str, Member]:
    return {"admin": town["admin"], "wang": town["wang"]}


def ledger_size(server: LiveServer) -> int:
    return int(httpx.get(f"{server.url}/api/v1/ledger/checkpoint").json()["size"])


def assert_refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text[:300]
    assert r.json()["error"]["code"] == code, r.text[:300]


def test_a_setting_nested_300_deep_is_refused_and_the_feed_still_serves_everyone(
    server: LiveServer, people: dict[str, Member]
) -> None:
    before = ledger_size(server)
    with people["admin"].client() as c:
        assert_refused(c.put("/api/v1/reference/setting/x", content=raw(nested(300)), headers=JSON), 422, "request.bad_json")
        assert_refused(c.put("/api/v1/reference/setting/x", json=nested(MAX_DEPTH + 1)), 422, "reference.bad_payload")
        assert ledger_size(server) == before
        assert c.put("/api/v1/reference/setting/y", json=nested(MAX_DEPTH)).status_code == 201
    with people["wang"].client() as c:
        feed = c.get("/api/v1/sync/changes", params={"after": 0})
        assert feed.status_code == 200
        assert ("setting", "y") in [(ch["topic"], ch["key"]) for ch in feed.json()["changes"]]
        assert "x" not in [ch["key"] for ch in feed.json()["changes"]]
        assert c.get("/api/v1/reference/setting").status_code == 200


STRING_SPOTS = ["author", "device_id", "device_time", "kind", "record_id", "content.village_id", "content.recorder"]


def _with_surrogate(envelope: dict[str, Any], spot: str) -> dict[str, Any]:
    env = json.loads(json.dumps(envelope))
    target = env
    *parents, last = spot.split(".")
    for name in parents:
        target = target[name]
    target[last] = "\ud800" + str(target[last])
    return env


@pytest.mark.parametrize("spot", [*STRING_SPOTS, "a key"])
def test_a_lone_surrogate_anywhere_in_a_record_is_refused_not_a_500(
    server: LiveServer, people: dict[str, Member], spot: str
) -> None:
    wang = people["wang"]
    env = wang.envelope()
    bad = {**env, "content": {**env["content"], "\udfffnote": "x"}} if spot == "a key" else _with_surrogate(env, spot)
    before = ledger_size(server)
    with wang.client() as c:
        one = c.post("/api/v1/records", content=raw(bad), headers=JSON)
        batch = c.post("/api/v1/records/batch", content=raw({"records": [wang.envelope(), bad]}), headers=JSON)
    for r in (one, batch):
        assert_refused(r, 422, "request.bad_json")
        assert r.json()["error"]["detail"]["problems"][0]["code"] == "json.bad_text"
    assert ledger_size(server) == before


def test_a_record_nested_964_deep_is_refused_and_one_past_the_limit_only_fails_itself(
    server: LiveServer, people: dict[str, Member]
) -> None:
    wang = people["wang"]
    with wang.client() as c:
        deep = wang.envelope()
        deep["content"]["note"] = "DEEP"
        body = raw(deep).replace(b'"DEEP"', deep_raw(964))  # deeper than json.dumps goes here
        assert_refused(c.post("/api/v1/records", content=body, headers=JSON), 422, "request.bad_json")
        # Deeper than a record may be, not deeper than a body may be: that record alone is refused.
        too_deep = wang.envelope()
        too_deep["content"]["note"] = nested(MAX_DEPTH)
        good = wang.envelope()
        results = c.post("/api/v1/records/batch", json={"records": [too_deep, good]}).json()["results"]
    assert results[0]["status"] == 422 and results[0]["error"]["detail"]["problems"][0]["code"] == "json.too_deep"
    assert results[1]["status"] == 201


@pytest.mark.parametrize(
    "body",
    [
        b'{"record_id": "\xff\xfe"}',  # not UTF-8
        b'{"revision": NaN}',
        b'{"revision": Infinity}',
        b'{"revision": ' + b"9" * 5000 + b"}",  # past Python's integer-parsing limit
        deep_raw(100_000),
    ],
    ids=["not utf-8", "NaN", "Infinity", "5000 digits", "100000 deep"],
)
def test_bodies_no_parser_should_take_are_refused_with_a_stable_code(
    server: LiveServer, people: dict[str, Member], body: bytes
) -> None:
    with people["wang"].client() as c:
        assert_refused(c.post("/api/v1/records", content=body, headers=JSON), 422, "request.bad_json")


ROUTES_WITH_TEXT = [
    ("POST", "/api/v1/users", {"username": "\ud800", "role": "officer", "password": "password-123"}, "admin"),
    ("POST", "/api/v1/auth/enrollment-codes", {"username": "\ud800"}, "admin"),
    ("POST", "/api/v1/devices/00000000-0000-4000-8000-000000000001/revoke", {"reason": "\ud800"}, "admin"),
    ("POST", "/api/v1/records/00000000-0000-4000-8000-000000000000/reviews",
     {"revision": 1, "action": "send_back", "reason": "\ud800"}, "admin"),
    ("POST", "/api/v1/photos/missing", {"hashes": ["\ud800"]}, "wang"),
    ("POST", "/api/v1/uploads", {"sha256": "\ud800", "length": 10}, "wang"),
    ("PUT", "/api/v1/reference/village/v1", {"name": "\ud800"}, "admin"),
    ("POST", "/api/v1/auth/enroll", {"username": "\ud800", "password": "password-123"}, None),
    ("POST", "/api/v1/auth/enroll", {"enrollment_code": "\ud800"}, None),
]


@pytest.mark.parametrize(("method", "path", "payload", "who"), ROUTES_WITH_TEXT, ids=lambda v: str(v)[:40])
def test_a_lone_surrogate_in_any_json_body_is_refused_before_a_route_sees_it(
    server: LiveServer, people: dict[str, Member], method: str, path: str, payload: dict[str, Any], who: str | None
) -> None:
    before = ledger_size(server)
    token = people[who].token if who else None
    with server.client(token) as c:
        r = c.request(method, path, content=raw(payload), headers=JSON)
    assert_refused(r, 422, "request.bad_json")
    assert ledger_size(server) == before


def test_an_error_never_echoes_a_huge_input_back(server: LiveServer, people: dict[str, Member]) -> None:
    wang = people["wang"]
    env = {**wang.envelope(), "x" * 200_000: 1}
    with wang.client() as c:
        r = c.post("/api/v1/records", json=env)
    assert r.status_code == 422 and len(r.content) < 5_000


def test_a_request_without_a_token_is_refused_before_its_body_is_read(server: LiveServer) -> None:
    with server.client() as c:
        assert_refused(c.post("/api/v1/records", content=b"{not json", headers=JSON), 401, "auth.missing")
        assert_refused(c.post("/api/v1/records/batch", content=deep_raw(100_000), headers=JSON), 401, "auth.missing")
    # A body announced as a gigabyte and never sent: the answer comes without waiting for it.
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(
            b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n{"
        )
        answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 401")


def _chunks(total: int) -> Iterator[bytes]:
    """A body streamed without Content-Length: the server only finds its size by counting."""
    yield b'{"records": ["'
    sent = 0
    while sent < total:
        yield b"x" * 65536
        sent += 65536
    yield b'"]}'


def test_bodies_past_their_routes_cap_are_refused_413_whether_declared_or_counted(
    server: LiveServer, people: dict[str, Member]
) -> None:
    wang, boss = people["wang"], people["admin"]
    before = ledger_size(server)
    padding = {"note": "x" * MAX_BODY_BYTES}
    with wang.client() as c:
        assert_refused(c.post("/api/v1/records", json=padding), 413, "request.too_large")
        assert_refused(c.post("/api/v1/records", content=_chunks(MAX_BODY_BYTES), headers=JSON), 413, "request.too_large")
        # A batch may be larger than one record, up to its own cap.
        roomy = c.post("/api/v1/records/batch", json={"records": [padding, padding]})
        assert roomy.status_code == 200 and [x["status"] for x in roomy.json()["results"]] == [422, 422]
        assert_refused(
            c.post("/api/v1/records/batch", content=_chunks(MAX_BATCH_BODY_BYTES), headers=JSON), 413, "request.too_large"
        )
    with boss.client() as c:
        big = c.put("/api/v1/reference/setting/big", json=padding)
    assert_refused(big, 413, "request.too_large")
    assert big.json()["error"]["detail"]["limit"] == MAX_BODY_BYTES
    assert ledger_size(server) == before


def test_a_body_may_wrap_documents_but_not_nest_without_bound(server: LiveServer, people: dict[str, Member]) -> None:
    with people["admin"].client() as c:
        r = c.put("/api/v1/reference/setting/x", content=raw(nested(MAX_BODY_DEPTH + 1)), headers=JSON)
    assert_refused(r, 422, "request.bad_json")
    assert r.json()["error"]["detail"]["problems"][0]["code"] == "json.too_deep"
