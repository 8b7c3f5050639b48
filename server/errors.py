"""The server's one error shape, with stable codes.

Every error answers ``{"error": {"code", "message", "message_zh", "detail"}}``.
``code`` is stable (clients branch on it); the two messages say what is wrong and
what to do, in English and Chinese. Domain errors from ``xuncha_core.errors``
map to HTTP statuses here, so domain code never imports FastAPI.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from xuncha_core.errors import ConflictError, IntegrityError, ValidationError, XunchaError

log = logging.getLogger("xuncha.server")


class ApiError(Exception):
    """An error with an HTTP status, a stable code and messages in both languages."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        message_zh: str | None = None,
        detail: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.message_zh = message_zh or message
        self.detail = detail or {}
        self.headers = headers


def body(code: str, message: str, message_zh: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "message_zh": message_zh, "detail": detail or {}}}


def _status_for(exc: XunchaError) -> int:
    if isinstance(exc, ValidationError):
        return 422
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, IntegrityError):
        return 422
    return 400


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            body(exc.code, exc.message, exc.message_zh, exc.detail), exc.status, headers=exc.headers
        )

    @app.exception_handler(XunchaError)
    async def _domain_error(_req: Request, exc: XunchaError) -> JSONResponse:
        zh = exc.detail.get("message_zh") if isinstance(exc.detail, dict) else None
        return JSONResponse(body(exc.code, exc.message, zh or exc.message, exc.detail), _status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "path": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "code": f"request.{err.get('type', 'invalid')}",
                "message": str(err.get("msg", "invalid")),
            }
            for err in exc.errors()
        ]
        summary = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
        return JSONResponse(
            body("request.invalid", f"The request is malformed: {summary}", f"请求格式不正确：{summary}", {"problems": problems}),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http.{exc.status_code}")
        zh = {404: "找不到该资源", 405: "不支持该请求方法"}.get(exc.status_code, str(exc.detail))
        return JSONResponse(body(code, str(exc.detail), zh), exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            body("internal", "The server failed; nothing was changed. Try again later.", "服务器出错，未做任何更改，请稍后重试。"),
            500,
        )
