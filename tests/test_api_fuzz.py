"""Bad input never breaks the server: schemathesis sends what /openapi.json allows and much it does
not (huge numbers, NUL bytes, wrong types), as a field user and as the admin. No answer is a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.support.databases import backends, fresh_database
from tests.support.live_server import LiveServer
from tests.support.records import Member, member

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


@pytest.fixture(scope="module")
def api_schema(fuzz_server: dict[str, Any]) -> Any:
    srv: LiveServer = fuzz_server["server"]
    return schemathesis.openapi.from_url(f"{srv.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path=SELF_REVOKING)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
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
