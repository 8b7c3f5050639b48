"""Accounts, roles and devices.

Users sign in once per device, by password (argon2id) or by a one-time
enrollment code the office issues, and receive a device token: 256 random bits,
of which the server keeps only the SHA-256 (a token is not a password: it has
full entropy, so a fast hash cannot be brute-forced, and every request can be
checked without a KDF). A revoked device's next request is refused with
``auth.device_revoked``. Every account and device change is a ledger entry.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, bindparam, select

from server import ledger
from server.accounts.access import FIELD_ROLES as FIELD_ROLES
from server.accounts.access import READ_ALL_ROLES as READ_ALL_ROLES
from server.accounts.access import code_target
from server.accounts.shapes import Caller, Device, Enrolled, EnrollmentCode, User
from server.infra import clock
from server.infra import tables as t
from server.infra.db import inserted_id
from xuncha_core import ledger_entries
from xuncha_core.errors import AuthError, ConflictError, NotFoundError, ValidationError, XunchaError

ROLES: dict[str, str] = {
    "supervisor": "保洁队长",
    "officer": "执法人员",
    "office_reviewer": "办公室审核",
    "legal_reviewer": "法制审核",
    "admin": "管理员",
    "auditor": "审计（只读）",
}
DEVICE_KINDS = ("phone", "browser", "cli")
ENROLLMENT_CODE_TTL = timedelta(days=7)

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 second recommendation)
# A fixed hash verified when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("xuncha-no-such-user")


@dataclass(frozen=True)
class Actor:
    """Who is calling: the signed-in user and the device they use."""

    user_id: int
    username: str
    display_name: str
    role: str
    device_id: str
    # when the device was last noted as seen, as the sign-in lookup found it (not part of who it is)
    last_seen_at: str | None = field(default=None, compare=False, repr=False)

    def public(self) -> Caller:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "device_id": self.device_id,
        }


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(
    conn: Connection,
    *,
    username: str,
    role: str,
    password: str | None,
    display_name: str | None = None,
    cert_no: str | None = None,
    unit: str | None = None,
    created_by: str = "cli",
) -> int:
    if role not in ROLES:
        raise ValidationError("user.bad_role", f"role must be one of {', '.join(ROLES)}", f"角色必须是：{', '.join(ROLES)}")
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationError("user.bad_username", "username must be 1 to 64 characters", "用户名长度须为 1 到 64 个字符")
    if password is not None and len(password) < 8:
        raise ValidationError("user.weak_password", "password must be at least 8 characters", "密码至少 8 位")
    exists = conn.execute(select(t.users.c.id).where(t.users.c.username == username)).first()
    if exists:
        raise ConflictError("user.exists", f"user {username!r} already exists", f"用户 {username} 已存在")
    user_id = inserted_id(
        conn.execute(
            t.users.insert().values(
                username=username,
                display_name=display_name or username,
                role=role,
                password_hash=hash_password(password) if password else None,
                cert_no=cert_no,
                unit=unit,
                active=True,
                created_at=clock.timestamp(),
            )
        )
    )
    ledger.append(
        conn,
        ledger_entries.user_created(
            username=username,
            display_name=display_name or username,
            role=role,
            cert_no=cert_no,
            by=created_by,
            at=clock.timestamp(),
        ),
    )
    return int(user_id)


def _issue_device(conn: Connection, *, user: Any, device_name: str, kind: str, via: str) -> Enrolled:
    if kind not in DEVICE_KINDS:
        raise ValidationError("device.bad_kind", f"device kind must be one of {', '.join(DEVICE_KINDS)}", "设备类型不正确")
    device_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(32)
    conn.execute(
        t.devices.insert().values(
            id=device_id,
            user_id=user.id,
            name=device_name[:100] or kind,
            kind=kind,
            token_hash=_token_hash(token),
            created_at=clock.timestamp(),
        )
    )
    ledger.append(
        conn,
        ledger_entries.device_enrolled(
            device_id=device_id, username=user.username, name=device_name[:100], kind=kind, via=via, at=clock.timestamp()
        ),
    )
    return {
        "device_id": device_id,
        "token": token,
        "user": {
            "user_id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
        },
    }


def enroll_with_password(
    conn: Connection, *, username: str, password: str, device_name: str, kind: str = "phone"
) -> Enrolled:
    user = password_user(conn, username)
    if not password_matches(user, password):
        raise bad_credentials()
    return _issue_device(conn, user=user, device_name=device_name, kind=kind, via="password")


def password_user(conn: Connection, username: str) -> Any:
    """The active user who may sign in by password as ``username``, or None."""
    user = conn.execute(select(t.users).where(t.users.c.username == username)).first()
    return user if user is not None and user.active and user.password_hash else None


def password_matches(user: Any, password: str) -> bool:
    """Run the argon2 check (also for no user, so timing does not reveal who exists)."""
    try:
        _hasher.verify(user.password_hash if user is not None else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return user is not None


def bad_credentials() -> XunchaError:
    return AuthError(
        "auth.bad_credentials",
        "Wrong username or password. Check both, or ask the office for an enrollment code.",
        "用户名或密码错误。请检查，或向办公室索取注册码。",
    )


def issue_device(conn: Connection, *, user: Any, device_name: str, kind: str, via: str) -> Enrolled:
    """Enroll a device for ``user`` (already judged) and answer its token."""
    return _issue_device(conn, user=user, device_name=device_name, kind=kind, via=via)


def issue_enrollment_code(conn: Connection, *, username: str, issued_by: Actor | None) -> EnrollmentCode:
    """A one-time code for ``username``, if ``issued_by`` may issue it (``access.code_target``);
    ``issued_by`` None is the server's CLI, run by whoever runs the server."""
    user = code_target(conn, issuer=issued_by, username=username)
    # 10 digits in two groups: easy to read aloud and type on a phone keypad.
    digits = "".join(secrets.choice("0123456789") for _ in range(10))
    code = f"{digits[:5]}-{digits[5:]}"
    expires = clock.utc_now() + ENROLLMENT_CODE_TTL
    conn.execute(
        t.enrollment_codes.insert().values(
            code_hash=_token_hash(code),
            user_id=user.id,
            created_by=issued_by.user_id if issued_by else user.id,
            created_at=clock.timestamp(),
            expires_at=clock.timestamp(expires),
        )
    )
    ledger.append(
        conn,
        ledger_entries.enrollment_code_issued(
            username=username,
            by=issued_by.username if issued_by else "cli",
            expires_at=clock.timestamp(expires),
            at=clock.timestamp(),
        ),
    )
    return {"code": code, "username": username, "expires_at": clock.timestamp(expires)}


def enroll_with_code(conn: Connection, *, code: str, device_name: str, kind: str = "phone") -> Enrolled:
    code = code.strip()
    row = conn.execute(
        select(t.enrollment_codes).where(t.enrollment_codes.c.code_hash == _token_hash(code))
    ).first()
    if row is None or row.used_at is not None or row.expires_at < clock.timestamp():
        raise AuthError(
            "auth.bad_enrollment_code",
            "This enrollment code is wrong, used or expired. Ask the office for a new one.",
            "注册码错误、已使用或已过期，请向办公室索取新的注册码。",
        )
    user = conn.execute(select(t.users).where(t.users.c.id == row.user_id)).first()
    if user is None or not user.active:
        raise AuthError("auth.user_disabled", "This account is disabled.", "该账号已停用。")
    result = _issue_device(conn, user=user, device_name=device_name, kind=kind, via="enrollment_code")
    conn.execute(
        t.enrollment_codes.update()
        .where(t.enrollment_codes.c.code_hash == row.code_hash)
        .values(used_at=clock.timestamp(), used_device_id=result["device_id"])
    )
    return result


# Built once: it runs on every request, and building it costs more than running it.
_DEVICE_BY_TOKEN = (
    select(
        t.devices.c.id,
        t.devices.c.revoked_at,
        t.devices.c.revoked_reason,
        t.devices.c.last_seen_at,
        t.users.c.id.label("user_id"),
        t.users.c.username,
        t.users.c.display_name,
        t.users.c.role,
        t.users.c.active,
    )
    .join(t.users, t.users.c.id == t.devices.c.user_id)
    .where(t.devices.c.token_hash == bindparam("token_hash"))
)


def authenticate(conn: Connection, token: str | None) -> Actor:
    """The actor behind a device token, or AuthError (401) saying why not."""
    if not token:
        raise AuthError(
            "auth.missing",
            "Sign in first: this needs a device token (Authorization: Bearer …).",
            "请先登录：此操作需要设备令牌。"
        )
    row = conn.execute(_DEVICE_BY_TOKEN, {"token_hash": _token_hash(token)}).first()
    if row is None:
        raise AuthError(
            "auth.invalid", "This device token is not known. Sign in again.", "设备令牌无效，请重新登录。"
        )
    if row.revoked_at is not None:
        raise AuthError(
            "auth.device_revoked",
            f"This device was revoked on {row.revoked_at[:10]} ({row.revoked_reason or 'no reason given'}). "
            "Ask the office to enroll it again.",
            f"该设备已于 {row.revoked_at[:10]} 被停用（{row.revoked_reason or '未说明原因'}），请联系办公室重新注册。"
        )
    if not row.active:
        raise AuthError("auth.user_disabled", "This account is disabled.", "该账号已停用。")
    return Actor(
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        device_id=row.id,
        last_seen_at=row.last_seen_at,
    )


def revoke_device(conn: Connection, *, device_id: str, reason: str, by: Actor | None) -> None:
    row = conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()
    if row is None:
        raise NotFoundError("device.not_found", f"no device {device_id}", "找不到该设备")
    if row.revoked_at is not None:
        return  # revoking twice is a no-op, so a retried request is safe
    at = clock.timestamp()
    conn.execute(
        t.devices.update().where(t.devices.c.id == device_id).values(revoked_at=at, revoked_reason=reason[:200])
    )
    ledger.append(
        conn,
        ledger_entries.device_revoked(
            device_id=device_id, reason=reason[:200], by=by.username if by else "cli", at=at
        ),
    )


def list_users(conn: Connection) -> list[User]:
    rows = conn.execute(select(t.users).order_by(t.users.c.id)).all()
    return [
        {
            "user_id": r.id,
            "username": r.username,
            "display_name": r.display_name,
            "role": r.role,
            "cert_no": r.cert_no,
            "unit": r.unit,
            "active": bool(r.active),
        }
        for r in rows
    ]


def list_devices(conn: Connection, *, username: str | None = None) -> list[Device]:
    q = select(t.devices, t.users.c.username).join(t.users, t.users.c.id == t.devices.c.user_id)
    if username:
        q = q.where(t.users.c.username == username)
    return [
        {
            "device_id": r.id,
            "username": r.username,
            "name": r.name,
            "kind": r.kind,
            "created_at": r.created_at,
            "revoked_at": r.revoked_at,
            "revoked_reason": r.revoked_reason,
        }
        for r in conn.execute(q.order_by(t.devices.c.created_at)).all()
    ]
