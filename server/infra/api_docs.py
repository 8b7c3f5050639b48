"""The API documentation (/docs, /redoc) served whole by this server, and the bearer scheme declared.

Swagger UI and ReDoc load their scripts and styles from this server (``/docs/assets``), from
the files the ``fastapi-offline`` package ships (MIT; Swagger UI Apache-2.0, ReDoc MIT), so
the pages work on a town hall network with no Internet, and their Content-Security-Policy
allows this server alone (``'self'``), plus inline styles, which both viewers set as they
render (styles cannot run code). The OpenAPI description declares the device token as an
HTTP bearer scheme on every route that needs one, so "Authorize" in Swagger UI works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from server.infra.request_guard import needs_token
from server.infra.security_headers import page_policy

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"
BEARER = "deviceToken"


def install(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Serve /docs, /docs/oauth2-redirect and /redoc from local assets, each with a policy made
    for it (``security_headers.page_policy``), and declare the bearer scheme where
    ``request_guard.needs_token`` says a route takes the device token."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    title = f"{app.title} API"
    swagger = bytes(get_swagger_ui_html(
        openapi_url=openapi_url, title=title, oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
    ).body).decode("utf-8")
    redoc = bytes(get_redoc_html(
        openapi_url=openapi_url, title=title, redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False,
    ).body).decode("utf-8")
    redirect = bytes(get_swagger_ui_oauth2_redirect_html().body).decode("utf-8")
    viewer = {
        "script_src": "'self'",
        "style_src": "'self' 'unsafe-inline'",
        "extra": "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:",
    }
    pages = {
        "/docs": (swagger, page_policy(swagger, **viewer)),
        "/redoc": (redoc, page_policy(redoc, **viewer)),
        "/docs/oauth2-redirect": (redirect, page_policy(redirect)),
    }
    for path, (html, policy) in pages.items():
        app.add_api_route(path, _page(html, policy), methods=["GET"], include_in_schema=False)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _page(html: str, policy: str) -> Any:
    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    return page


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
        schema.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = {
            "type": "http",
            "scheme": "bearer",
            "description": "The device token from POST /api/v1/auth/enroll.",
        }
        for path, operations in schema.get("paths", {}).items():
            if needs_token(path):
                for operation in operations.values():
                    operation["security"] = [{BEARER: []}]
        app.openapi_schema = schema
    return app.openapi_schema
