"""What every console page shares: templates, language, the signed-in session, roles, CSRF, error pages.

Pages are Jinja2 templates extending ``base.html``, autoescaped (every value a user typed is
escaped wherever it appears), with text only from ``catalogue``. The session dependency
(``signed_in``) answers the caller's ``Session`` or sends the browser to the sign-in page;
``role_in(...)`` lets only some roles through; ``checked_form`` refuses a POST whose CSRF
token is not the session's. Errors on ``/console`` pages become pages in the reader's
language; the API keeps its JSON errors.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.console import catalogue, sessions
from server.console.sessions import Session
from server.infra import http_errors
from server.infra.db import read
from server.infra.settings import Settings
from server.infra.writer import write
from xuncha_core.errors import AuthError, ForbiddenError, NotFoundError, XunchaError

TEMPLATES = Path(__file__).parent / "templates"
log = logging.getLogger("xuncha.console")
LANG_COOKIE = "xuncha_lang"
CONSOLE_ROLES = ("office_reviewer", "legal_reviewer", "admin", "auditor")
REVIEWERS = ("office_reviewer", "legal_reviewer")
ISSUERS = ("office_reviewer", "admin")
ADMIN = ("admin",)
DEVICE_READERS = ("admin", "auditor")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.Undefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# (route, catalogue key, roles that see it in the menu)
NAV = (
    ("/console/", "nav.dashboard", CONSOLE_ROLES),
    ("/console/records", "nav.records", CONSOLE_ROLES),
    ("/console/orders", "nav.orders", CONSOLE_ROLES),
    ("/console/ranking", "nav.ranking", CONSOLE_ROLES),
    ("/console/assessment", "nav.assessment", CONSOLE_ROLES),
    ("/console/report", "nav.report", CONSOLE_ROLES),
    ("/console/users", "nav.users", CONSOLE_ROLES),
    ("/console/devices", "nav.devices", DEVICE_READERS),
    ("/console/reference", "nav.reference", CONSOLE_ROLES),
    ("/console/plans", "nav.plans", CONSOLE_ROLES),
    ("/console/directories", "nav.directories", ISSUERS),
)


class SignedOut(AuthError):
    """No live console session: the browser is sent to the sign-in page."""


class FormExpired(ForbiddenError):
    """A POST without the session's CSRF token: refused, nothing changed."""


def lang_of(request: Request) -> str:
    return catalogue.language(request.cookies.get(LANG_COOKIE))


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return catalogue.text(key, lang, **values)

    return t


def render(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name`` in the reader's language, with the session (if any) and the menu."""
    lang = lang_of(request)
    session: Session | None = getattr(request.state, "console_session", None)
    role = session.actor.role if session else None
    context.setdefault("notice", "")
    page = _env.get_template(name).render(
        t=translator(lang),
        lang=lang,
        session=session,
        csrf=session.csrf_token if session else "",
        nav=[(href, key) for href, key, roles in NAV if role in roles],
        path=request.url.path,
        here=quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe=""),
        **context,
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path on this server, never elsewhere."""
    if value and value.startswith("/console") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console/"


def idle_timeout(request: Request) -> timedelta:
    settings: Settings = request.app.state.settings
    return timedelta(minutes=settings.console_idle_minutes)


def now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def signed_in(request: Request) -> Session:
    """The caller's live session (its last use stamped), or SignedOut."""
    engine = request.app.state.engine
    at = now(request)
    with read(engine) as conn:
        found = sessions.find(conn, request.cookies.get(sessions.COOKIE), now=at, idle=idle_timeout(request))
    if found is None:
        raise SignedOut("console.signed_out", "Sign in to use the office console.", "请登录办公室后台。")
    if found.actor.role not in CONSOLE_ROLES:
        raise ForbiddenError("console.forbidden", "The console is for office staff.", catalogue.text("signin.field_role"))
    if sessions.needs_touch(found, at):
        write(engine, lambda conn: sessions.touch(conn, found.session_hash, now=at))
    request.state.console_session = found
    return found


SessionDep = Annotated[Session, Depends(signed_in)]


def role_in(*roles: str) -> Callable[[Request, Session], Awaitable[Session]]:
    allowed = frozenset(roles)

    async def check(request: Request, session: SessionDep) -> Session:
        if session.actor.role not in allowed:
            raise ForbiddenError(
                "console.forbidden",
                f"Your role ({session.actor.role}) may not see or do this.",
                catalogue.text("error.forbidden"),
            )
        return session

    return check


async def checked_form(request: Request, session: SessionDep) -> FormData:
    """The POSTed form, if it carries the session's CSRF token; FormExpired otherwise."""
    form = await request.form()
    token = form.get("csrf_token")
    if not sessions.same_token(token if isinstance(token, str) else None, session.csrf_token):
        raise FormExpired("console.csrf", catalogue.text("error.csrf", "en"), catalogue.text("error.csrf"))
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def field(form: FormData, name: str, limit: int = 2000) -> str:
    """A form field as text, stripped, NUL-free and at most ``limit`` characters."""
    value = form.get(name)
    return value.replace("\x00", "").strip()[:limit] if isinstance(value, str) else ""


# -- error pages -------------------------------------------------------------------------


def install_error_pages(app: FastAPI) -> None:
    """Errors on /console paths become pages; everywhere else the API's handlers answer as before."""
    for kind in (XunchaError, StarletteHTTPException, RequestValidationError, Exception):
        previous = app.exception_handlers.get(kind)
        app.exception_handlers[kind] = _page_or(previous)


def _page_or(previous: Callable[..., Any] | None) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/console") or previous is None:
            return error_page(request, exc)
        result = previous(request, exc)
        return await result if isinstance(result, Awaitable) else result

    return handle


def error_page(request: Request, exc: Exception) -> Response:
    lang = lang_of(request)
    if isinstance(exc, SignedOut):
        params = []
        if request.method == "GET":
            params.append("next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe=""))
        if request.cookies.get(sessions.COOKIE):
            params.append("expired=1")  # there was a session: say why it is gone
        return redirect("/console/sign-in" + ("?" + "&".join(params) if params else ""))
    status, message = 500, catalogue.text("error.generic", lang)
    if isinstance(exc, ForbiddenError):
        status, message = 403, _message(exc, lang)
    elif isinstance(exc, NotFoundError):
        status, message = 404, catalogue.text("error.not_found", lang)
    elif isinstance(exc, XunchaError):
        status, message = http_errors.status_for(exc), _message(exc, lang)
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        message = catalogue.text("error.not_found" if status == 404 else "error.generic", lang)
    elif isinstance(exc, RequestValidationError):
        status, message = 422, catalogue.text("error.not_found", lang)
    if status >= 500:
        log.exception("console page failed", exc_info=exc)
    return render(request, "error.html", status=status, message=message)


def _message(exc: XunchaError, lang: str) -> str:
    return exc.message_zh if lang == "zh" and exc.message_zh else exc.message


Reader = Annotated[Session, Depends(role_in(*CONSOLE_ROLES))]
Reviewer = Annotated[Session, Depends(role_in(*REVIEWERS))]
Issuer = Annotated[Session, Depends(role_in(*ISSUERS))]
Admin = Annotated[Session, Depends(role_in(*ADMIN))]
DeviceReader = Annotated[Session, Depends(role_in(*DEVICE_READERS))]
