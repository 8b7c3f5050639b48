"""Signing a device in, by password or by enrollment code, behind the throttle.

The order is the point: the throttle is consulted before the password hash runs
(a throttled guess costs a read, not 64 MiB of argon2); the hash runs outside any
transaction, in one of ``throttle.HASH_SLOTS``, so it never holds SQLite's write
lock; the outcome is then written: the device, or the failure. Phones enroll
through ``POST /api/v1/auth/enroll``; the office console's browser sign-in uses
the same functions with ``kind="browser"``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from server import accounts, throttle
from server.db import read, write
from server.errors import ApiError


def with_password(
    engine: Engine, *, username: str, password: str, device_name: str, kind: str, address: str | None, now: datetime
) -> dict[str, Any]:
    """Enroll a device by password; ApiError 401 for a wrong guess, 429 while throttled."""
    account = throttle.account_key(username)
    keys = [account, throttle.address_key(address)]
    with read(engine) as conn:
        throttle.check(conn, keys, now=now)
        user = accounts.password_user(conn, username)
    with throttle.hash_slot():
        right = accounts.password_matches(user, password)
    with write(engine) as conn:
        if not right:
            throttle.failed(conn, keys, now=now)
        else:
            # Judged again in the write: the account may have been disabled meanwhile.
            user = accounts.password_user(conn, username)
            if user is not None:
                throttle.succeeded(conn, [account])
                return accounts.issue_device(conn, user=user, device_name=device_name, kind=kind, via="password")
    raise accounts.bad_credentials()


def with_code(
    engine: Engine, *, code: str, device_name: str, kind: str, address: str | None, now: datetime
) -> dict[str, Any]:
    """Enroll a device by a one-time code; ApiError 401 for a wrong code, 429 while throttled.

    A code names no account until it matches, so only its address is throttled.
    """
    keys = [throttle.address_key(address)]
    with read(engine) as conn:
        throttle.check(conn, keys, now=now)
    try:
        with write(engine) as conn:
            return accounts.enroll_with_code(conn, code=code, device_name=device_name, kind=kind)
    except ApiError as refused:
        if refused.code == "auth.bad_enrollment_code":
            with write(engine) as conn:
                throttle.failed(conn, keys, now=now)
        raise
