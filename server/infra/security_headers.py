"""Security headers: ``nosniff`` on every answer, and a locked-down policy on every HTML page.

Every HTML page (the API documentation today; the office console and the public
pages later) gets a Content-Security-Policy that forbids framing
(``frame-ancestors 'none'``), plugins, ``<base>`` tricks and, unless the page
says otherwise, anything not served by this server; plus ``X-Frame-Options``,
``Referrer-Policy: no-referrer`` (URLs can hold record ids), a same-origin opener
policy and a permissions policy that turns off camera, microphone and location.
A page that needs more (the API documentation's viewers set inline styles, see
``api_docs``) sets its own ``Content-Security-Policy``, built by ``page_policy`` from
the page itself, and keeps the rest.
"""

from __future__ import annotations

import base64
import hashlib
import re

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
