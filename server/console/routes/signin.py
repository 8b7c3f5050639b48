"""Signing in to the console, signing out, and choosing the language.

Sign-in is the API's own (``sign_in.with_password``: the same throttle per account and
per address, the same password check); it enrolls a ``browser`` device and the console
starts a session on it. Only office roles get a session: a field account's device is
revoked at once and the page says to use the phone app.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, delete

from server.accounts import accounts, sign_in
from server.console import catalogue, sessions, web
from server.console.web import SessionDep
from server.infra import http_errors
from server.infra.writer import write
from xuncha_core.errors import XunchaError

router = APIRouter(prefix="/console", include_in_schema=False)
Text = Annotated[str, Form(max_length=256)]


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/console/", expired: int = 0, out: int = 0) -> Response:
    return _form(request, next=next, notice=_notice(request, expired, out))


def _notice(request: Request, expired: int, out: int) -> str:
    lang = web.lang_of(request)
    if out:
        return catalogue.text("signin.signed_out", lang)
    return catalogue.text("signin.expired", lang) if expired else ""


def _form(request: Request, *, next: str, username: str = "", error: str = "", notice: str = "", status: int = 200) -> HTMLResponse:
    token = request.cookies.get(sessions.PRE_COOKIE) or sessions.new_token()
    page = web.render(
        request, "sign_in.html", status=status, form_token=token, next=web.safe_next(next),
        username=username, error=error, notice=notice,
    )
    _cookie(request, page, sessions.PRE_COOKIE, token, max_age=3600)
    return page


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Text = "",
    csrf_token: Text = "",
    next: Annotated[str, Form(max_length=2000)] = "/console/",
) -> Response:
    lang = web.lang_of(request)
    if not sessions.same_token(csrf_token, request.cookies.get(sessions.PRE_COOKIE)):
        return _form(request, next=next, username=username, error=catalogue.text("error.csrf", lang), status=403)
    username = username.replace("\x00", "").strip()
    if not username or not password:
        return _form(request, next=next, username=username, error=catalogue.text("signin.missing", lang), status=422)
    engine, at = request.app.state.engine, web.now(request)
    address = request.client.host if request.client else None
    agent = request.headers.get("user-agent", "")[:60]
    try:
        device = sign_in.with_password(
            engine, username=username, password=password, device_name=f"console {agent}".strip(),
            kind="browser", address=address, now=at,
        )
    except XunchaError as refused:
        return _refused(request, refused, next=next, username=username)
    if device["user"]["role"] not in web.CONSOLE_ROLES:
        actor = accounts.Actor(device["user"]["user_id"], username, username, device["user"]["role"], device["device_id"])
        write(engine, lambda conn: accounts.revoke_device(conn, device_id=device["device_id"], reason="not an office role", by=actor))
        return _form(request, next=next, username=username, error=catalogue.text("signin.field_role", lang), status=403)
    idle = web.idle_timeout(request)

    def begin(conn: Connection) -> str:
        _forget_idle(conn, at, idle)
        return sessions.start(conn, device_id=device["device_id"], now=at)

    token = write(engine, begin)
    response = web.redirect(web.safe_next(next))
    _cookie(request, response, sessions.COOKIE, token)
    response.delete_cookie(sessions.PRE_COOKIE, path=sessions.COOKIE_PATH)
    return response


def _refused(request: Request, refused: XunchaError, *, next: str, username: str) -> Response:
    lang = web.lang_of(request)
    if refused.code == "auth.throttled":
        seconds = refused.detail.get("retry_after", 60)
        message = catalogue.text("signin.throttled", lang, seconds=seconds)
    elif refused.code == "auth.busy":
        message = catalogue.text("signin.busy", lang)
    else:
        message = catalogue.text("signin.bad", lang)
    page = _form(request, next=next, username=username, error=message, status=http_errors.status_for(refused))
    if refused.retry_after is not None:
        page.headers["Retry-After"] = str(refused.retry_after)
    return page


def _forget_idle(conn: Connection, at: datetime, idle: timedelta) -> None:
    """Sessions long past their idle timeout are deleted as others sign in (nothing else reads them)."""
    cutoff = (at - idle * 4).isoformat(timespec="microseconds")
    conn.execute(delete(sessions.console_sessions).where(sessions.console_sessions.c.last_used_at < cutoff))


@router.post("/sign-out")
def sign_out(request: Request, session: SessionDep, form: web.FormDep) -> Response:
    def end(conn: Connection) -> None:
        sessions.end(conn, session.session_hash)
        accounts.revoke_device(conn, device_id=session.actor.device_id, reason="signed out", by=session.actor)

    write(request.app.state.engine, end)
    response = web.redirect("/console/sign-in?out=1")
    response.delete_cookie(sessions.COOKIE, path=sessions.COOKIE_PATH)
    return response


@router.get("/lang/{lang}")
def choose_language(request: Request, lang: str, next: str = "/console/") -> RedirectResponse:
    response = web.redirect(web.safe_next(next))
    _cookie(request, response, web.LANG_COOKIE, catalogue.language(lang), max_age=365 * 86400, http_only=False)
    return response


def _cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None,
            http_only: bool = True) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=sessions.COOKIE_PATH, httponly=http_only,
        samesite="lax", secure=request.url.scheme == "https",
    )
