"""Who may call what: every route of the app against every role, the public, and a revoked device.

EXPECTED lists every route with the roles it lets through. A route added to the
app without an entry here fails ``test_every_route_is_listed_in_the_access_table``:
decide who may call it, then list it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from server.infra.settings import Settings
from tests.conftest import PHOTOS
from tests.support.live_server import LiveServer
from tests.support.records import (
    ROLES,
    Member,
    member,
    one_of_each_role,
    recheck_content,
    remediation_content,
)

FIELD = frozenset({"supervisor", "officer"})
READ = frozenset({"office_reviewer", "legal_reviewer", "admin", "auditor"})
SIGNED_IN = FIELD | READ
PUBLIC = "public"
# Only a scrape carrying XUNCHA_METRICS_TOKEN; everyone else, signed in or not, gets 404 (issue 12).
SCRAPER = "scraper"

# (method, path) -> PUBLIC, or the roles that get through. A pair (roles, row_roles) means
# row_roles also get through to the route, where the row itself decides (their own records,
# photos their records refer to): they never get 401, and 403/404 is theirs to get.
EXPECTED: dict[tuple[str, str], object] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/metrics"): SCRAPER,
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
    ("GET", "/api/v1/photos/{sha256}/thumbnail"): (READ, FIELD),
    ("GET", "/api/v1/sync/own-records"): SIGNED_IN,
    ("GET", "/api/v1/calendar"): SIGNED_IN,
    ("PUT", "/api/v1/calendar/{year}"): frozenset({"office_reviewer", "admin"}),
    ("POST", "/api/v1/uploads"): FIELD,
    ("GET", "/api/v1/uploads/{sha256}"): FIELD,
    ("HEAD", "/api/v1/uploads/{sha256}"): FIELD,
    ("PATCH", "/api/v1/uploads/{sha256}"): FIELD,
    # random inspections (issue 11): the office plans and draws, the read roles watch, anyone sees what is published
    ("POST", "/api/v1/inspections/draws"): frozenset({"office_reviewer", "admin"}),
    ("GET", "/api/v1/inspections/draws"): READ,
    ("GET", "/api/v1/inspections/draws/{draw_id}"): READ,
    ("POST", "/api/v1/inspections/draws/{draw_id}/commitment"): frozenset({"office_reviewer", "admin"}),
    ("POST", "/api/v1/inspections/draws/{draw_id}/random-values"): frozenset({"office_reviewer", "admin"}),
    ("GET", "/api/v1/inspections/publication"): READ,
    ("GET", "/api/v1/inspections/directories/{kind}"): frozenset({"office_reviewer", "admin"}),
    ("POST", "/api/v1/inspections/directories/{kind}"): frozenset({"office_reviewer", "admin"}),
    ("PUT", "/api/v1/inspections/pin"): FIELD,  # one's own PIN hash, for one's colleagues' phones
    ("GET", "/api/v1/public/draws"): PUBLIC,
    ("GET", "/api/v1/public/draws/{draw_id}"): PUBLIC,
    ("GET", "/public/"): PUBLIC,
    ("GET", "/public/draws/{draw_id}"): PUBLIC,
    ("GET", "/public/static/public.css"): PUBLIC,
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
    "year": "2031",
    "kind": "conflicts",
    "draw_id": "2026-03-02-00000000",
}


# The office console's pages take a session cookie, not a device token: their own matrix is
# tests/server/test_console_pages.py. /docs/assets holds the API viewers' static files.
CHECKED_ELSEWHERE = ("/console", "/docs/assets")


def app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """Every (method, path) the application answers, from the app object itself."""
    from server.app import create_app

    data = tmp_path / "routes"
    app = create_app(Settings(data_dir=data, database_url=f"sqlite:///{data / 'x.sqlite3'}"))
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if route.path.startswith(CHECKED_ELSEWHERE):
            continue
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


def test_the_public_routes_are_exactly_ledger_health_enrollment_docs_and_the_public_page() -> None:
    public = sorted(path for (_m, path), who in EXPECTED.items() if who == PUBLIC)
    for path in public:
        assert path.startswith(
            ("/api/v1/ledger/", "/api/v1/public/", "/public/", "/docs", "/redoc", "/openapi")
        ) or path in (
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
        if who == SCRAPER:
            answers = {role: call(sqlite_server, m.token, method, path).status_code for role, m in town.items()}
            if anonymous.status_code != 404 or set(answers.values()) != {404}:
                wrong.append(f"{method} {path} -> {anonymous.status_code} anonymous, {answers}: only the scraper's")
            continue
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
        if who in (PUBLIC, SCRAPER):
            continue
        r = call(sqlite_server, lost.token, method, path)
        assert r.status_code == 401, f"{method} {path}"
        if method != "HEAD":
            assert r.json()["error"]["code"] == "auth.device_revoked", f"{method} {path}"


# -- for whom: the row decides (issue 7) ---------------------------------------------------

CODE_ISSUERS = frozenset({"office_reviewer", "admin"})


def _may_issue_for(issuer: str, target: str) -> bool:
    """The rule: an office reviewer for field staff only; an admin for anyone (never themselves)."""
    return issuer == "admin" or (issuer == "office_reviewer" and target in FIELD)


def _rows(server: LiveServer, sql: str) -> int:
    return int(server.scalar(sql))

def test_enrollment_codes_are_issued_only_for_whom_the_issuers_role_allows_and_never_for_oneself(
    sqlite_server: LiveServer, town: dict[str, Member]
) -> None:
    """Issue 7, hole 1: an office reviewer got a code for "admin" and enrolled as admin with it."""
    with town["admin"].client() as c:
        for role in ROLES:
            r = c.post("/api/v1/users", json={"username": f"t_{role}", "role": role, "password": "password-123"})
            assert r.status_code == 201, r.text
    wrong: list[str] = []
    for issuer, m in town.items():
        targets = [(f"t_{role}", role) for role in ROLES] + [(m.username, "self")]
        for username, target in targets:
            codes, ledger = _rows(sqlite_server, "SELECT COUNT(*) FROM enrollment_codes"), sqlite_server_size(sqlite_server)
            with m.client() as c:
                r = c.post("/api/v1/auth/enrollment-codes", json={"username": username})
            allowed = issuer in CODE_ISSUERS and target != "self" and _may_issue_for(issuer, target)
            if allowed:
                if r.status_code != 201 or not r.json().get("code"):
                    wrong.append(f"{issuer} for {target}: {r.status_code}, expected 201")
                continue
            expected = "enrollment_code.forbidden" if issuer in CODE_ISSUERS else "auth.forbidden"
            error = r.json().get("error") or {}
            if r.status_code != 403 or error.get("code") != expected or "code" in r.json():
                wrong.append(f"{issuer} for {target}: {r.status_code} {error.get('code')}, expected 403 {expected}")
            elif not (error.get("message") and error.get("message_zh")):
                wrong.append(f"{issuer} for {target}: the refusal must say why in both languages")
            if (_rows(sqlite_server, "SELECT COUNT(*) FROM enrollment_codes"), sqlite_server_size(sqlite_server)) != (
                codes, ledger
            ):
                wrong.append(f"{issuer} for {target}: a refused code wrote something")
    assert wrong == []


def test_an_office_reviewer_cannot_enroll_as_the_admin_with_a_code_issued_for_the_admin(
    sqlite_server: LiveServer, town: dict[str, Member]
) -> None:
    """Issue 7, hole 1, end to end: the code is refused, so there is nothing to enroll with."""
    with town["office_reviewer"].client() as c:
        r = c.post("/api/v1/auth/enrollment-codes", json={"username": town["admin"].username})
    assert r.status_code == 403 and r.json()["error"]["code"] == "enrollment_code.forbidden"
    assert "code" not in r.json()
    assert _rows(sqlite_server, "SELECT COUNT(*) FROM enrollment_codes") == 0


def test_an_office_reviewer_learns_nothing_about_accounts_it_may_not_issue_codes_for(
    sqlite_server: LiveServer, town: dict[str, Member]
) -> None:
    """Unknown, disabled-or-not and office accounts answer the same refusal; an admin is told "not found"."""
    with town["office_reviewer"].client() as c:
        unknown = c.post("/api/v1/auth/enrollment-codes", json={"username": "no-such-user"})
        office = c.post("/api/v1/auth/enrollment-codes", json={"username": town["legal_reviewer"].username})
    assert unknown.status_code == office.status_code == 403
    assert unknown.json()["error"]["code"] == office.json()["error"]["code"] == "enrollment_code.forbidden"
    assert unknown.json()["error"]["detail"] == office.json()["error"]["detail"]
    with town["admin"].client() as c:
        r = c.post("/api/v1/auth/enrollment-codes", json={"username": "no-such-user"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "user.not_found"


def sqlite_server_size(server: LiveServer) -> int:
    return _rows(server, "SELECT COUNT(*) FROM ledger_entries")


def _put_photo(m: Member, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    with m.client() as c:
        r = c.put(f"/api/v1/photos/{digest}", content=data)
    assert r.status_code == 201, r.text
    return digest


def _photo_status(m: Member, digest: str) -> tuple[int, str | None]:
    with m.client() as c:
        r = c.get(f"/api/v1/photos/{digest}")
    return r.status_code, (r.json()["error"]["code"] if r.status_code >= 400 else None)


def test_a_photo_is_read_by_its_uploader_and_read_roles_never_by_citing_its_hash(
    sqlite_server: LiveServer, town: dict[str, Member]
) -> None:
    """Issue 7, hole 4: a field user read anyone's photo by pushing a re-check citing its hash."""
    wang, li = town["supervisor"], town["officer"]
    zhou = member(sqlite_server, "u_zhou", "supervisor", admin=town["admin"])
    cited = _put_photo(wang, (PHOTOS / "gps_DSCN0010.jpg").read_bytes())  # cited by wang's own check
    loose = _put_photo(li, (PHOTOS / "mobile_jolla.jpg").read_bytes())  # uploaded, cited by nobody
    with wang.client() as c:
        assert c.post("/api/v1/records", json=wang.envelope(photos=[cited])).status_code == 201
    assert _photo_status(zhou, cited) == (403, "photo.forbidden")
    with zhou.client() as c:  # the hash is public; citing it must not open the photo
        r = c.post("/api/v1/records", json=zhou.envelope(kind="recheck", content=recheck_content([cited]), photos=[cited]))
    assert r.status_code == 201, r.text

    assert _photo_status(zhou, cited) == (403, "photo.forbidden")  # cited, but not hers to read
    assert _photo_status(wang, cited) == (200, None)  # her own record, her upload
    assert _photo_status(li, loose) == (200, None)  # the uploader, with no record yet
    assert _photo_status(li, cited) == (403, "photo.forbidden")
    assert _photo_status(wang, loose) == (403, "photo.forbidden")
    for role in READ:  # the office reads every record, so every photo
        assert _photo_status(town[role], cited) == (200, None), role
        assert _photo_status(town[role], loose) == (200, None), role
    never = hashlib.sha256(b"never sent").hexdigest()
    assert _photo_status(town["auditor"], never) == (404, "photo.not_found")
    assert _photo_status(zhou, never) == (403, "photo.forbidden")  # as for a photo kept but not hers


def test_a_conflict_answer_shows_the_servers_version_only_to_the_records_author(
    sqlite_server: LiveServer, town: dict[str, Member]
) -> None:
    """Issue 7, hole 3: a push under another's record id and revision answered her whole record."""
    wang = town["supervisor"]
    other_phone = sqlite_server.enroll(wang.username)
    wang2 = Member(wang.username, wang.role, other_phone["device_id"], other_phone["token"], sqlite_server)
    ran = member(sqlite_server, "u_ran", "officer", admin=town["admin"])
    secret = "王翠云家后院堆放建筑垃圾"
    mine = wang.envelope(content=remediation_content(note=secret))
    with wang.client() as c:
        assert c.post("/api/v1/records", json=mine).status_code == 201

    with wang2.client() as c:  # her own record from her other phone: she sees both versions
        own = c.post("/api/v1/records", json=wang2.envelope(record_id=mine["record_id"]))
    assert own.status_code == 409 and own.json()["error"]["code"] == "record.revision_conflict"
    assert own.json()["error"]["detail"]["server_envelope"] == mine

    probes = [ran.envelope(record_id=mine["record_id"]), ran.envelope(base=mine)]
    with ran.client() as c:
        answers = [c.post("/api/v1/records", json=p) for p in probes]
        answers += [
            httpx.Response(r["status"], json={"error": r["error"]})
            for r in c.post("/api/v1/records/batch", json={"records": probes}).json()["results"]
        ]
    for r in answers:
        assert r.status_code == 403 and r.json()["error"]["code"] == "record.not_author", r.text
        assert secret not in r.text and "server_envelope" not in r.text and "server_head" not in r.text
    assert _rows(sqlite_server, "SELECT COUNT(*) FROM record_revisions") == 1


def test_sending_a_photo_someone_else_already_sent_says_it_is_kept_but_not_whose(
    sqlite_server: LiveServer, town: dict[str, Member]
) -> None:
    """Issue 7, "for whom": a photo's receipt named its uploader to any field user who sent the
    same bytes (hashes are public, so anyone could ask)."""
    wang, li = town["supervisor"], town["officer"]
    data = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()
    digest = _put_photo(wang, data)
    with li.client() as c:
        put = c.put(f"/api/v1/photos/{digest}", content=data)
        post = c.post("/api/v1/uploads", json={"sha256": digest, "length": len(data)})
        status = c.get(f"/api/v1/uploads/{digest}")
    for answer in (put, post, status):
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["complete"] is True if "complete" in body else body["replayed"] is True
        assert body["ledger_index"] >= 0
        assert "uploaded_by" not in body and wang.username not in answer.text
    with wang.client() as c:  # the uploader still sees her own receipt whole
        assert c.put(f"/api/v1/photos/{digest}", content=data).json()["uploaded_by"] == wang.username
