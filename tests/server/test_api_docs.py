"""/docs and /redoc load nothing from outside the server, and the OpenAPI description declares
the bearer scheme on the routes that need a device token (issue 10)."""

from __future__ import annotations

import httpx

from tests.support.live_server import LiveServer


def test_the_docs_pages_name_only_assets_this_server_serves(sqlite_server: LiveServer) -> None:
    with httpx.Client(base_url=sqlite_server.url) as c:
        for path in ("/docs", "/redoc"):
            r = c.get(path)
            assert r.status_code == 200 and "https://" not in r.text.replace("https://github.com", "")
            policy = r.headers["content-security-policy"]
            assert "cdn" not in policy and "script-src 'self'" in policy
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            assert c.get(f"/docs/assets/{asset}").status_code == 200


def test_the_openapi_description_declares_the_bearer_scheme_where_a_token_is_needed(sqlite_server: LiveServer) -> None:
    schema = httpx.get(f"{sqlite_server.url}/openapi.json").json()
    scheme = next(iter(schema["components"]["securitySchemes"].values()))
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    assert schema["paths"]["/api/v1/records"]["post"]["security"]
    assert "security" not in schema["paths"]["/api/v1/health"]["get"]
    assert "security" not in schema["paths"]["/api/v1/auth/enroll"]["post"]
    assert not [p for p in schema["paths"] if p.startswith("/console")]
