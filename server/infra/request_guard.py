"""What every HTTP request passes before a route sees it: the caller first, then the body.

1. **The caller.** Under ``/api/`` every route needs a device token except the
   public ones (health, the ledger, ``/api/v1/public/``, enrollment). The token is
   looked up before a byte of the body is read; the actor is left in
   ``request.state.actor`` so the route's ``current_actor`` does not look again.
2. **The body's size.** Each route has a cap: photo PUT and upload PATCH stream
   up to the photo limit from the settings (counted as it streams, whatever
   Content-Length says); a record batch ``json_limits.MAX_BATCH_BODY_BYTES``;
   everything else ``json_limits.MAX_BODY_BYTES``. Over the cap is 413
   ``request.too_large``, whether declared or only found by counting.
3. **The JSON.** A body the route will parse as JSON must be UTF-8 JSON, nested
   at most ``json_limits.MAX_BODY_DEPTH``, with only valid Unicode text and finite
   numbers: otherwise 422 ``request.bad_json`` before any route or model sees it.
   Each route then judges its own documents (``json_limits.document_problems``).

Before an early refusal (401, 413) the rest of the body is read and dropped, never
kept or parsed, up to ``DRAIN_FACTOR`` times the cap, so the client hears the
answer instead of a reset connection; a body announced larger than that is not
waited for.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.infra.deps import actor_of
from server.infra.http_errors import response_for, unreadable_body
from server.infra.settings import Settings
from xuncha_core import json_limits
from xuncha_core.errors import TooLargeError, ValidationError, XunchaError

PUBLIC_PATHS = frozenset({"/api/v1/health", "/api/v1/auth/enroll"})
PUBLIC_PREFIXES = ("/api/v1/ledger/", "/api/v1/public/")
STREAMED = (("PUT", "/api/v1/photos/"), ("PATCH", "/api/v1/uploads/"))
BATCH = ("POST", "/api/v1/records/batch")
DRAIN_FACTOR = 4
_CHECK_IN_THREAD_BYTES = 64 * 1024  # larger bodies are parsed off the event loop


class RequestGuard:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp, *, engine: Engine, settings: Settings) -> None:
        self.app = app
        self.engine = engine
        self.photo_cap = settings.max_photo_bytes + 4 * settings.upload_chunk_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        streamed = any(method == m and path.startswith(p) for m, p in STREAMED)
        cap = self.photo_cap if streamed else body_cap(method, path)
        declared = _declared_length(scope)
        if needs_token(path):
            try:
                actor = await actor_of(HTTPConnection(scope), self.engine)
            except XunchaError as refused:
                # Bounded by the JSON cap, not the route's: whoever this is has not signed in.
                await _drain(receive, declared, DRAIN_FACTOR * json_limits.MAX_BODY_BYTES)
                await response_for(refused)(scope, receive, send)
                return
            scope.setdefault("state", {})["actor"] = actor
        if declared is not None and declared > cap:
            await _drain(receive, declared, DRAIN_FACTOR * cap)
            await response_for(too_large(cap))(scope, receive, send)
            return
        if streamed:
            await self.app(scope, _counting(receive, cap), send)
            return
        body, ended = await _read(receive, cap)
        if body is None:  # over the cap (or the client went away)
            if not ended:
                await _drain(receive, None, DRAIN_FACTOR * cap)
            await response_for(too_large(cap))(scope, receive, send)
            return
        if body and _parsed_as_json(scope):
            try:
                if len(body) > _CHECK_IN_THREAD_BYTES:
                    await run_in_threadpool(check_json, body)
                else:
                    check_json(body)
            except XunchaError as refused:
                await response_for(refused)(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)


def needs_token(path: str) -> bool:
    """Whether a request to ``path`` must carry a device token (routes check the role)."""
    return path.startswith("/api/") and path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES)


def body_cap(method: str, path: str) -> int:
    """The largest body a (non-streamed) request to this route may carry."""
    return json_limits.MAX_BATCH_BODY_BYTES if (method, path) == BATCH else json_limits.MAX_BODY_BYTES


def too_large(cap: int) -> XunchaError:
    return TooLargeError(
        "request.too_large",
        f"The request body is larger than this route accepts ({cap} bytes). Send less at a time.",
        f"请求内容超过该接口的上限（{cap} 字节），请分批发送。",
        {"limit": cap},
    )


def check_json(body: bytes) -> None:
    """Raise ValidationError (422) ``request.bad_json`` unless ``body`` is JSON that every route can handle."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        return  # the route answers 422 with where the syntax breaks
    except (ValueError, RecursionError):  # not UTF-8, NaN, an integer of thousands of digits, too deep
        raise unreadable_body() from None
    problems = json_limits.document_problems(value, max_depth=json_limits.MAX_BODY_DEPTH, max_bytes=None)
    if problems:
        first = problems[0]
        raise ValidationError(
            "request.bad_json",
            f"The request body cannot be accepted: {first.path or 'body'}: {first.message}.",
            f"请求内容无法接受：{first.path or '内容'}：{first.message_zh}",
            {"problems": [p.as_dict() for p in problems]},
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parsed_as_json(scope: Scope) -> bool:
    """Whether FastAPI would parse this body as JSON (a JSON media type, or none given)."""
    raw = dict(scope["headers"]).get(b"content-type")
    if raw is None:
        return True
    message = email.message.Message()
    message["content-type"] = raw.decode("latin-1")
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _declared_length(scope: Scope) -> int | None:
    raw = dict(scope["headers"]).get(b"content-length", b"")
    return int(raw) if raw.isdigit() else None


async def _read(receive: Receive, cap: int) -> tuple[bytes | None, bool]:
    """(the whole body, or None once it passes ``cap`` bytes or the client leaves; whether the
    request has nothing more to receive)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, True
        chunk = message.get("body", b"")
        size += len(chunk)
        ended = not message.get("more_body", False)
        if size > cap:
            return None, ended
        chunks.append(chunk)
        if ended:
            return b"".join(chunks), True


async def _drain(receive: Receive, declared: int | None, limit: int) -> None:
    """Read and drop the rest of the body, up to ``limit`` bytes; nothing if it was announced
    as larger than that (the answer goes at once and the connection closes)."""
    if declared is not None and declared > limit:
        return
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the route the body already read, then whatever comes next."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _counting(receive: Receive, cap: int) -> Receive:
    """A ``receive`` that refuses (TooLargeError, 413) once the streamed body passes ``cap`` bytes."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise too_large(cap)
        return message

    return counted
