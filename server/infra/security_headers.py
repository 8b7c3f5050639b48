"""Security headers: ``nosniff`` on every answer, and a locked-down policy on every HTML page.

Every HTML page (the API documentation today; the office console and the public
pages later) gets a Content-Security-Policy that forbids framing
(``frame-ancestors 'none'``), plugins, ``<base>`` tricks and, unless the page
says otherwise, anything not served by this server; plus ``X-Frame-Options``,
``Referrer-Policy: no-referrer`` (URLs can hold record ids), a same-origin opener
policy and a permissions policy that turns off camera, microphone and location.
A page that needs more (the documentation loads its viewer from a CDN) sets its
own ``Content-Security-Policy``, built by ``page_policy`` from the page itself,
and keeps the rest.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_DOCS_CDN = "https://cdn.jsdelivr.net"


class SecurityHeaders:
    """ASGI middleware: adds the headers above to each answer as it starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_headers(headers: MutableHeaders) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    if not headers.get("content-type", "").lower().startswith("text/html"):
        return
    if "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = DEFAULT_PAGE_POLICY
    for name, value in PAGE_HEADERS.items():
        headers.setdefault(name, value)


def page_policy(html: str, *, script_src: str = "", style_src: str = "", extra: str = "") -> str:
    """A policy for one fixed page: its own inline scripts allowed by hash, nothing else inline."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode('utf-8')).digest()).decode('ascii')}'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    parts = [
        "default-src 'none'",
        f"script-src {script_src} {hashes}".strip(),
        f"style-src {style_src}".strip() if style_src else "style-src 'none'",
        extra,
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ]
    return "; ".join(p for p in parts if p)


def install_docs(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Serve /docs, /docs/oauth2-redirect and /redoc, each with a policy made for it.

    FastAPI's own pages (turned off in ``create_app``) would get the default policy,
    which blocks their viewer; these are the same pages with a policy that lets
    exactly their scripts run.
    """
    title = f"{app.title} API"
    swagger = bytes(
        get_swagger_ui_html(openapi_url=openapi_url, title=title, oauth2_redirect_url="/docs/oauth2-redirect").body
    ).decode("utf-8")
    redoc = bytes(get_redoc_html(openapi_url=openapi_url, title=title, with_google_fonts=False).body).decode("utf-8")
    redirect = bytes(get_swagger_ui_oauth2_redirect_html().body).decode("utf-8")
    viewer = dict(
        script_src=_DOCS_CDN,
        # Both viewers set styles inline as they render; styles cannot run code.
        style_src=f"{_DOCS_CDN} 'unsafe-inline'",
        extra=f"img-src 'self' data: https://fastapi.tiangolo.com {_DOCS_CDN}; font-src {_DOCS_CDN} data:; "
        "connect-src 'self'; worker-src blob:",
    )
    pages = {
        "/docs": (swagger, page_policy(swagger, **viewer)),
        "/redoc": (redoc, page_policy(redoc, **viewer)),
        "/docs/oauth2-redirect": (redirect, page_policy(redirect)),
    }
    for path, (html, policy) in pages.items():
        app.add_api_route(path, _page(html, policy), methods=["GET"], include_in_schema=False)


def _page(html: str, policy: str) -> Callable[[], Awaitable[HTMLResponse]]:
    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    return page
