"""Browser sessions of the office console, kept on the server.

Signing in (``server.accounts.sign_in.with_password``, the API's own sign-in behind the same
throttle) enrolls a ``browser`` device; the session binds a random cookie token to that
device. The server keeps only the token's SHA-256, with the session's CSRF token and
when it was last used. A session ends when its user signs out (the row is deleted and
the device revoked: a ledger entry), when it has been idle longer than the idle timeout,
when an administrator revokes its device, or when the account is disabled: every request
looks all of that up, so a revoked device is cut off at its next click.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (another site's form
does not carry it), ``Secure`` when the console is served over HTTPS, and scoped to
``/console``. Forms carry the session's CSRF token, compared in constant time; the
sign-in form, before any session exists, carries a token that must equal a cookie set
with it (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select

from server.accounts.accounts import Actor
from server.infra import tables as t

COOKIE = "xuncha_console"
PRE_COOKIE = "xuncha_console_csrf"  # the sign-in form's double-submit token
COOKIE_PATH = "/console"
DEFAULT_IDLE = timedelta(minutes=30)
TOUCH_EVERY = timedelta(seconds=60)  # last use is written at most this often (one write a minute)

console_sessions = t.console_sessions


@dataclass(frozen=True)
class Session:
    actor: Actor
    session_hash: str
    csrf_token: str
    last_used_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def start(conn: Connection, *, device_id: str, now: datetime) -> str:
    """A new session on the browser device just enrolled; answer the cookie token."""
    token = new_token()
    conn.execute(
        console_sessions.insert().values(
            session_hash=_hash(token),
            device_id=device_id,
            csrf_token=new_token(),
            created_at=_stamp(now),
            last_used_at=_stamp(now),
        )
    )
    return token


def find(conn: Connection, token: str | None, *, now: datetime, idle: timedelta = DEFAULT_IDLE) -> Session | None:
    """The live session of ``token``: None when there is none, it has been idle too long, its
    device is revoked or its account disabled."""
    if not token or len(token) > 200:
        return None
    s, d, u = console_sessions, t.devices, t.users
    row = conn.execute(
        select(s, d.c.revoked_at, u.c.id.label("user_id"), u.c.username, u.c.display_name, u.c.role, u.c.active)
        .join(d, d.c.id == s.c.device_id)
        .join(u, u.c.id == d.c.user_id)
        .where(s.c.session_hash == _hash(token))
    ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    last = datetime.fromisoformat(row.last_used_at)
    if now - last > idle:
        return None
    actor = Actor(
        user_id=row.user_id, username=row.username, display_name=row.display_name, role=row.role, device_id=row.device_id
    )
    return Session(actor, row.session_hash, row.csrf_token, last)


def needs_touch(session: Session, now: datetime) -> bool:
    return now - session.last_used_at >= TOUCH_EVERY


def touch(conn: Connection, session_hash: str, *, now: datetime) -> None:
    conn.execute(
        console_sessions.update().where(console_sessions.c.session_hash == session_hash).values(last_used_at=_stamp(now))
    )


def end(conn: Connection, session_hash: str) -> None:
    conn.execute(delete(console_sessions).where(console_sessions.c.session_hash == session_hash))


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the one expected."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
