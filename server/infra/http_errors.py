"""Errors as HTTP: the one place that maps the error tree to statuses and headers.

Every error answers the core's one body (``xuncha_core.errors.ErrorEnvelope``)::

    {"error": {"code", "message", "message_zh", "detail"}}

``code`` is stable (clients branch on it); the two messages say what is wrong and
what to do, in English and Chinese. Domain code raises the ``xuncha_core.errors``
family and never imports FastAPI; the status comes from the error's branch:

    BadRequestError 400   AuthError 401 (+ WWW-Authenticate)   ForbiddenError 403
    NotFoundError 404     ConflictError 409                    TooLargeError 413
    ValidationError 422   IntegrityError 422                   RateLimitedError 429
    UnavailableError 503  any other XunchaError 400

(two published codes keep the statuses they were first answered with, ``_STATUS_OF_CODE``).
``retry_after`` becomes a ``Retry-After`` header; an upload refusal that names the
offset to continue from (``detail.offset``) also sends it as ``Upload-Offset``.

An error answer can always be written (``ErrorResponse``): whatever it echoes,
text that is not valid Unicode is shown with ``\\udXXX`` escapes, values that are
not JSON become text, nesting is cut off, and it never grows with the input
(messages, paths and problem lists are cut short; an oversized detail is dropped).
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from xuncha_core.errors import (
    MAX_MESSAGE_CHARS,
    MAX_PROBLEMS,
    AuthError,
    BadRequestError,
    ConflictError,
    ErrorEnvelope,
    ForbiddenError,
    IntegrityError,
    NotFoundError,
    RateLimitedError,
    TooLargeError,
    UnavailableError,
    ValidationError,
    XunchaError,
    error_body,
    shown,
)

MAX_ERROR_BYTES = 2 * 1024 * 1024  # a conflict carries the server's envelope: up to ~300 KB
_MAX_ECHO_DEPTH = 80

log = logging.getLogger("xuncha.server")


class ErrorResponse(JSONResponse):
    """A JSON answer that renders whatever it holds (see the module docstring)."""

    def render(self, content: Any) -> bytes:
        try:
            return _dumps(content)
        except (ValueError, TypeError, RecursionError):  # a lone surrogate, NaN, a non-JSON value
            return _dumps(writable(content))

    @classmethod
    def of(cls, status: int, content: ErrorEnvelope, headers: dict[str, str] | None = None) -> ErrorResponse:
        response = cls(content, status, headers=headers)
        if len(response.body) > MAX_ERROR_BYTES:
            content["error"]["detail"] = {"omitted": "the detail was too large to send"}
            response = cls(content, status, headers=headers)
        return response


def _dumps(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def writable(value: Any) -> Any:
    """``value`` with everything JSON cannot carry replaced: text made valid, the rest as text."""
    if isinstance(value, str):
        return shown(value, MAX_MESSAGE_CHARS) if not _encodable(value) else value
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _writable_container(value)


def _writable_container(value: Any) -> Any:
    # Without recursion: what an error echoes may be nested as deep as a hostile input.
    root: list[Any] = [None]
    stack: list[tuple[Any, list[Any] | dict[str, Any], Any, int]] = [(value, root, 0, 0)]
    while stack:
        item, parent, slot, depth = stack.pop()
        if isinstance(item, dict) and depth < _MAX_ECHO_DEPTH:
            made: Any = {}
            for k, v in item.items():
                stack.append((v, made, writable(str(k)), depth + 1))
        elif isinstance(item, (list, tuple)) and depth < _MAX_ECHO_DEPTH:
            made = [None] * len(item)
            stack.extend((v, made, i, depth + 1) for i, v in enumerate(item))
        elif isinstance(item, (dict, list, tuple)):
            made = "…"
        elif isinstance(item, (str, bool, int, float)) or item is None:
            made = writable(item)
        else:
            made = shown(str(item), MAX_MESSAGE_CHARS)
        parent[slot] = made
    return root[0]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_STATUS_OF_BRANCH: tuple[tuple[type[XunchaError], int], ...] = (
    (BadRequestError, 400),
    (AuthError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (TooLargeError, 413),
    (ValidationError, 422),
    (IntegrityError, 422),
    (RateLimitedError, 429),
    (UnavailableError, 503),
)
_STATUS_OF_CODE = {
    "photo.too_many_pixels": 422,  # a TooLargeError first answered as an unreadable image
    "photo.file_missing": 500,  # the server's own store is damaged, not the request
}


def status_for(exc: XunchaError) -> int:
    """The HTTP status that answers ``exc``."""
    status = _STATUS_OF_CODE.get(exc.code)
    if status is not None:
        return status
    return next((status for branch, status in _STATUS_OF_BRANCH if isinstance(exc, branch)), 400)


def headers_for(exc: XunchaError) -> dict[str, str] | None:
    headers: dict[str, str] = {}
    if isinstance(exc, AuthError):
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    offset = exc.detail.get("offset")
    if exc.code.startswith("upload.") and isinstance(offset, int):
        headers["Upload-Offset"] = str(offset)
    return headers or None


def response_for(exc: XunchaError) -> ErrorResponse:
    """The answer to an error, for handlers and for middleware that answers on its own."""
    return ErrorResponse.of(status_for(exc), exc.to_body(), headers_for(exc))


def _body(code: str, message: str, message_zh: str, detail: dict[str, Any] | None = None) -> ErrorEnvelope:
    return {"error": error_body(code, message, message_zh, detail)}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(XunchaError)
    async def _domain_error(_req: Request, exc: XunchaError) -> JSONResponse:
        return response_for(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "path": shown(".".join(str(p) for p in err.get("loc", ()) if p != "body")),
                "code": f"request.{shown(str(err.get('type', 'invalid')))}",
                "message": shown(str(err.get("msg", "invalid")), 300),
            }
            for err in exc.errors()[:MAX_PROBLEMS]
        ]
        summary = "; ".join(f"{p['path']}: {p['message']}" for p in problems[:5])
        return ErrorResponse.of(
            422,
            _body("request.invalid", f"The request is malformed: {summary}", f"请求格式不正确：{summary}", {"problems": problems}),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
            return response_for(unreadable_body())
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http.{exc.status_code}")
        zh = {404: "找不到该资源", 405: "不支持该请求方法"}.get(exc.status_code, str(exc.detail))
        return ErrorResponse.of(exc.status_code, _body(code, str(exc.detail), zh), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        # Answered outside every middleware, so it carries the header all answers carry.
        return ErrorResponse.of(
            500,
            _body("internal", "The server failed; nothing was changed. Try again later.", "服务器出错，未做任何更改，请稍后重试。"),
            {"X-Content-Type-Options": "nosniff"},
        )


_FASTAPI_BODY_ERROR = "There was an error parsing the body"


def unreadable_body() -> ValidationError:
    return ValidationError(
        "request.bad_json",
        "The request body is not readable JSON (it must be UTF-8 JSON text). Check what is sent.",
        "请求内容不是可读的 JSON（须为 UTF-8 编码的 JSON 文本），请检查发送的内容。",
    )


def client_gone() -> BadRequestError:
    """The client closed the connection before its body arrived: nothing was kept."""
    return BadRequestError(
        "request.client_gone",
        "The connection closed before the whole body arrived; nothing was kept. Send it again.",
        "请求内容未传完连接就已断开，未保存任何内容，请重新发送。",
    )
