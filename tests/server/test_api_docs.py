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


DECLARED = [
    ("/api/v1/auth/enroll", "post", "201"),
    ("/api/v1/auth/me", "get", "200"),
    ("/api/v1/auth/enrollment-codes", "post", "201"),
    ("/api/v1/auth/sign-out", "post", "200"),
    ("/api/v1/devices/{device_id}/revoke", "post", "200"),
    ("/api/v1/devices", "get", "200"),
    ("/api/v1/users", "get", "200"),
    ("/api/v1/users", "post", "201"),
    ("/api/v1/sync/changes", "get", "200"),
    ("/api/v1/reference/{topic}", "get", "200"),
    ("/api/v1/reference/{topic}/{key}", "put", "201"),
    ("/api/v1/reference/{topic}/{key}", "delete", "200"),
    ("/api/v1/calendar", "get", "200"),
    ("/api/v1/calendar/{year}", "put", "201"),
    ("/api/v1/ledger/checkpoint", "get", "200"),
    ("/api/v1/ledger/entries/{index}", "get", "200"),
    ("/api/v1/ledger/entries/{index}/content", "get", "200"),
    ("/api/v1/ledger/proof/inclusion", "get", "200"),
    ("/api/v1/ledger/proof/consistency", "get", "200"),
]


def test_the_openapi_description_names_the_fields_each_account_reference_and_ledger_answer_holds(
    sqlite_server: LiveServer,
) -> None:
    schema = httpx.get(f"{sqlite_server.url}/openapi.json").json()
    shapes = schema["components"]["schemas"]
    for path, method, status in DECLARED:
        answer = schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        ref = answer.get("$ref") or answer.get("items", {}).get("$ref")
        assert ref, (path, method, answer)
        shape = shapes[ref.rsplit("/", 1)[1]]
        assert shape["properties"] and shape["additionalProperties"] is False, (path, shape)


def test_every_operation_has_its_own_operation_id(sqlite_server: LiveServer) -> None:
    """Client generators and strict validators refuse a description where two operations share an id."""
    schema = httpx.get(f"{sqlite_server.url}/openapi.json").json()
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
