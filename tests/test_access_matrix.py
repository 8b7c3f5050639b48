"""Who may call what: every route of the app against every role, the public, and a revoked device.

EXPECTED lists every route with the roles it lets through. A route added to the
app without an entry here fails ``test_every_route_is_listed_in_the_access_table``:
decide who may call it, then list it.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from server.settings import Settings
from tests.support.live_server import LiveServer
from tests.support.records import Member, one_of_each_role

FIELD = frozenset({"supervisor", "officer"})
READ = frozenset({"office_reviewer", "legal_reviewer", "admin", "auditor"})
SIGNED_IN = FIELD | READ
PUBLIC = "public"

# (method, path) -> PUBLIC, or the roles that get through. A pair (roles, row_roles) means
# row_roles also get through to the route, where the row itself decides (their own records,
# photos their records refer to): they never get 401, and 403/404 is theirs to get.
EXPECTED: dict[tuple[str, str], object] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/api/v1/health"): PUBLIC,
    ("POST", "/api/v1/auth/enroll"): PUBLIC,
    ("GET", "/api/v1/ledger/checkpoint"): PUBLIC,
    ("GET", "/api/v1/ledger/entries/{index}"): PUBLIC,
    ("GET", "/api/v1/ledger/proof/inclusion"): PUBLIC,
    ("GET", "/api/v1/ledger/proof/consistency"): PUBLIC,
    ("GET", "/api/v1/ledger/entries/{index}/content"): (READ, FIELD),
    ("GET", "/api/v1/auth/me"): SIGNED_IN,
    ("POST", "/api/v1/auth/sign-out"): SIGNED_IN,
    ("POST", "/api/v1/auth/enrollment-codes"): frozenset({"office_reviewer", "admin"}),
    ("POST", "/api/v1/devices/{device_id}/revoke"): frozenset({"admin"}),
    ("GET", "/api/v1/devices"): frozenset({"admin", "auditor"}),
    ("GET", "/api/v1/users"): READ,
    ("POST", "/api/v1/users"): frozenset({"admin"}),
    ("POST", "/api/v1/records"): FIELD,
    ("POST", "/api/v1/records/batch"): FIELD,
    ("GET", "/api/v1/records"): SIGNED_IN,
    ("GET", "/api/v1/records/{record_id}"): (READ, FIELD),
    ("POST", "/api/v1/records/{record_id}/reviews"): frozenset({"office_reviewer", "legal_reviewer"}),
    ("GET", "/api/v1/sync/changes"): SIGNED_IN,
    ("GET", "/api/v1/reference/{topic}"): SIGNED_IN,
    ("PUT", "/api/v1/reference/{topic}/{key}"): frozenset({"admin"}),
    ("DELETE", "/api/v1/reference/{topic}/{key}"): frozenset({"admin"}),
    ("POST", "/api/v1/photos/missing"): FIELD,
    ("PUT", "/api/v1/photos/{sha256}"): FIELD,
    ("GET", "/api/v1/photos/{sha256}"): (READ, FIELD),
    ("POST", "/api/v1/uploads"): FIELD,
    ("GET", "/api/v1/uploads/{sha256}"): FIELD,
    ("HEAD", "/api/v1/uploads/{sha256}"): FIELD,
    ("PATCH", "/api/v1/uploads/{sha256}"): FIELD,
}
# Calling these ends the caller's own session, so each call gets a device of its own.
SELF_REVOKING = {("POST", "/api/v1/auth/sign-out")}

PATH_VALUES = {
    "index": "0",
    "topic": "village",
    "key": "v-matrix",
    "sha256": "ab" * 32,
    "record_id": "00000000-0000-4000-8000-000000000000",
    "device_id": "00000000-0000-4000-8000-000000000001",
}


def app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """Every (method, path) the application answers, from the app object itself."""
    from server.app import create_app

    data = tmp_path / "routes"
    app = create_app(Settings(data_dir=data, database_url=f"sqlite:///{data / 'x.sqlite3'}"))
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        methods = route.methods or {"MOUNT"}
        for method in methods:
            # Starlette adds HEAD to every GET route; it is the same handler, checked by the GET.
            if method == "HEAD" and "GET" in methods and (method, route.path) not in EXPECTED:
                continue
            found.add((method, route.path))
    app.state.engine.dispose()
    return found


def concrete(path: str) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[0]
        return PATH_VALUES.get(name, "x")

    return re.sub(r"\{([^}]+)\}", fill, path)


def call(server: LiveServer, token: str | None, method: str, path: str) -> httpx.Response:
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    with server.client(token) as c:
        return c.request(method, concrete(path), **kwargs)


def test_every_route_is_listed_in_the_access_table(tmp_path: Path) -> None:
    actual = app_routes(tmp_path)
    assert sorted(actual - EXPECTED.keys()) == [], "new routes: add them to EXPECTED with the roles that may call them"
    assert sorted(EXPECTED.keys() - actual) == [], "EXPECTED lists routes the app no longer has"


def test_the_public_routes_are_exactly_ledger_health_enrollment_and_docs() -> None:
    public = sorted(path for (_m, path), who in EXPECTED.items() if who == PUBLIC)
    for path in public:
        assert path.startswith(("/api/v1/ledger/", "/api/v1/public/", "/docs", "/redoc", "/openapi")) or path in (
            "/api/v1/health",
            "/api/v1/auth/enroll",
        ), path


@pytest.fixture
def town(sqlite_server: LiveServer) -> dict[str, Member]:
    return one_of_each_role(sqlite_server)


def test_each_role_reaches_exactly_its_routes_and_the_public_needs_no_login(
    sqlite_server: LiveServer, town: dict[str, Member]
) -> None:
    wrong: list[str] = []
    for (method, path), who in sorted(EXPECTED.items()):
        anonymous = call(sqlite_server, None, method, path)
        if anonymous.status_code >= 500 or (who == PUBLIC) == (anonymous.status_code == 401):
            wrong.append(f"anonymous {method} {path} -> {anonymous.status_code}")
        if who == PUBLIC:
            continue
        allowed, row_level = who if isinstance(who, tuple) else (who, frozenset())
        for role, m in town.items():
            token = m.token
            if (method, path) in SELF_REVOKING:
                token = sqlite_server.enroll(m.username)["token"]
            r = call(sqlite_server, token, method, path)
            if r.status_code >= 500 or r.status_code == 401:
                wrong.append(f"{role} {method} {path} -> {r.status_code}")
            elif role in allowed and r.status_code == 403:
                wrong.append(f"{role} {method} {path} -> 403 but the role is allowed: {r.text[:200]}")
            elif role not in allowed and role not in row_level and r.status_code != 403:
                wrong.append(f"{role} {method} {path} -> {r.status_code}, expected 403")
            elif r.status_code == 403 and method != "HEAD" and r.json()["error"]["code"] not in (
                "auth.forbidden", "record.forbidden", "photo.forbidden"
            ):
                wrong.append(f"{role} {method} {path} -> 403 with code {r.json()['error']['code']}")
    assert wrong == []


def test_a_revoked_device_is_refused_everywhere_saying_it_was_revoked(
    sqlite_server: LiveServer, town: dict[str, Member]
) -> None:
    lost = town["supervisor"]
    with town["admin"].client() as c:
        assert c.post(f"/api/v1/devices/{lost.device_id}/revoke", json={"reason": "手机丢失"}).status_code == 200
    for (method, path), who in sorted(EXPECTED.items()):
        if who == PUBLIC:
            continue
        r = call(sqlite_server, lost.token, method, path)
        assert r.status_code == 401, f"{method} {path}"
        if method != "HEAD":
            assert r.json()["error"]["code"] == "auth.device_revoked", f"{method} {path}"
