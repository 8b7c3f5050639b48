"""Security headers (issue 7, hole 9): every HTML page forbids framing, sniffing and referrers and
runs only the scripts it was built with; every answer, JSON and errors too, says nosniff."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

from server.infra.security_headers import DEFAULT_PAGE_POLICY
from tests.support.live_server import LiveServer

PAGES = ["/docs", "/redoc", "/docs/oauth2-redirect"]


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", PAGES)
def test_every_html_page_refuses_framing_sniffing_and_referrers(sqlite_server: LiveServer, path: str) -> None:
    r = httpx.get(f"{sqlite_server.url}{path}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = directives(r.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in r.headers["permissions-policy"]


@pytest.mark.parametrize("path", PAGES)
def test_a_pages_policy_allows_exactly_its_own_inline_scripts(sqlite_server: LiveServer, path: str) -> None:
    r = httpx.get(f"{sqlite_server.url}{path}")
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    allowed = {v for v in directives(r.headers["content-security-policy"])["script-src"] if v.startswith("'sha256-")}
    wanted = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline}
    assert allowed == wanted


def test_the_default_page_policy_allows_nothing_from_elsewhere() -> None:
    policy = directives(DEFAULT_PAGE_POLICY)
    assert policy["frame-ancestors"] == ["'none'"] and policy["script-src"] == ["'self'"]
    assert all("http" not in v for values in policy.values() for v in values)


def test_every_answer_says_nosniff_even_refusals_and_errors(sqlite_server: LiveServer) -> None:
    base = sqlite_server.url
    answers = [
        httpx.get(f"{base}/api/v1/health"),
        httpx.get(f"{base}/openapi.json"),
        httpx.get(f"{base}/api/v1/ledger/checkpoint"),
        httpx.get(f"{base}/api/v1/records"),  # 401 from the guard, before any route
        httpx.post(f"{base}/api/v1/auth/enroll", content=b"x" * (2 * 1024 * 1024)),  # 413
        httpx.post(f"{base}/api/v1/auth/enroll", json={"username": 1}),  # 422
        httpx.get(f"{base}/no/such/page"),  # 404
        httpx.delete(f"{base}/api/v1/health"),  # 405
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 401, 413, 422, 404, 405]
    for r in answers:
        assert r.headers.get("x-content-type-options") == "nosniff", r.request.url
        assert "content-security-policy" not in r.headers  # JSON is no page
