"""Bad input never breaks the server: schemathesis sends what /openapi.json allows and much it does
not (huge numbers, NUL bytes, wrong types), as a field user and as the admin. No answer is a 5xx.

Schemathesis never generates lone surrogates (they cannot be UTF-8) nor deep nesting, which are
what broke the server in issue 7 (holes 2 and 6); ``hostile_body`` mixes them into the bodies it
generates: text with lone surrogates (sent as ``\ud800`` escapes), astral, combining, right-to-left
and zero-width characters, and values nested to each limit and past it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.databases import backends, fresh_database
from tests.support.live_server import LiveServer
from tests.support.records import Member, member
from xuncha_core.json_limits import MAX_BODY_DEPTH, MAX_DEPTH, MAX_KEY_CHARS

# Signing out ends the session the fuzzer is using; its behaviour is covered in test_auth.
SELF_REVOKING = "/api/v1/auth/sign-out"


@pytest.fixture(scope="module", params=backends())
def fuzz_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with fresh_database(request.param, tmp) as url:
        srv = LiveServer(tmp / "data", url).start()
        try:
            boss = member(srv, "boss", "admin")
            wang = member(srv, "wang", "supervisor", admin=boss)
            yield {"server": srv, "tokens": {"supervisor": wang, "admin": boss}}
        finally:
            srv.stop()


HOSTILE_TEXT = [
    "\ud800",
    "\udfff",
    "x\ud83d",  # half of an emoji
    "\udbff\udbff",
    "😀🇨🇳𠀀",
    "e\u0301\u0308",
    "\u202eabc\u202c\u200f",
    "\u200b\u200d\ufeff",
    "\x00",
    "\uffff\U0010ffff",
    "𪚥" * (MAX_KEY_CHARS + 1),
]
DEPTHS = [MAX_DEPTH, MAX_DEPTH + 1, MAX_BODY_DEPTH, MAX_BODY_DEPTH + 1, 300]


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = {"a": value} if i % 2 else [value]
    return value


def _retext(value: Any, draw: Any) -> Any:
    """``value`` with some of its strings and keys prefixed by hostile text."""
    if isinstance(value, str):
        return draw(st.sampled_from(HOSTILE_TEXT)) + value if draw(st.booleans()) else value
    if isinstance(value, list):
        return [_retext(v, draw) for v in value]
    if isinstance(value, dict):
        return {_retext(k, draw): _retext(v, draw) for k, v in value.items()}
    return value


@st.composite
def _hostile(draw: Any, body: Any) -> Any:
    how = draw(st.sampled_from(["as generated", "text", "nested", "both"]))
    if how in ("text", "both"):
        body = _retext(body, draw)
    if how in ("nested", "both"):
        deep = _nested(draw(st.sampled_from(DEPTHS)))
        if isinstance(body, dict) and body:
            body = {**body, draw(st.sampled_from(sorted(body))): deep}
        else:
            body = deep
    return body


def hostile_body(_context: Any, body: Any) -> st.SearchStrategy[Any]:
    return _hostile(body)


@pytest.fixture(scope="module")
def api_schema(fuzz_server: dict[str, Any]) -> Any:
    srv: LiveServer = fuzz_server["server"]
    loaded = schemathesis.openapi.from_url(f"{srv.url}/openapi.json")
    loaded.hooks.register_hook_with_name(hostile_body, "flatmap_body")
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path=SELF_REVOKING)


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_makes_the_server_fail(case: Any, fuzz_server: dict[str, Any]) -> None:
    srv: LiveServer = fuzz_server["server"]
    people: dict[str, Member] = fuzz_server["tokens"]
    for who in people.values():
        response = case.call(base_url=srv.url, headers={"Authorization": f"Bearer {who.token}"}, timeout=30)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} as {who.role} -> {response.status_code}: {response.text[:500]}\n"
            f"{case.as_curl_command()}"
        )
    # The sessions are still usable: a fuzzed request never revokes or breaks them.
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        for who in people.values():
            assert c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {who.token}"}).status_code == 200
