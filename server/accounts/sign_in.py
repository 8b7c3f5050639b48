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

from sqlalchemy import Connection, Engine

from server.accounts import accounts, throttle
from server.accounts.shapes import Enrolled
from server.infra.db import read
from server.infra.writer import write
from xuncha_core.errors import XunchaError


def with_password(
    engine: Engine, *, username: str, password: str, device_name: str, kind: str, address: str | None, now: datetime
) -> Enrolled:
    """Enroll a device by password; AuthError (401) for a wrong guess, 429 while throttled."""
    account = throttle.account_key(username)
    keys = [account, throttle.address_key(address)]
    with read(engine) as conn:
        throttle.check(conn, keys, now=now)
        user = accounts.password_user(conn, username)
    with throttle.hash_slot():
        right = accounts.password_matches(user, password)

    def settle(conn: Connection) -> Enrolled | None:
        if not right:
            throttle.failed(conn, keys, now=now)
            return None
        # Judged again in the write: the account may have been disabled meanwhile.
        current = accounts.password_user(conn, username)
        if current is None:
            return None
        throttle.succeeded(conn, [account])
        return accounts.issue_device(conn, user=current, device_name=device_name, kind=kind, via="password")

    device = write(engine, settle)
    if device is None:
        raise accounts.bad_credentials()
    return device


def with_code(
    engine: Engine, *, code: str, device_name: str, kind: str, address: str | None, now: datetime
) -> Enrolled:
    """Enroll a device by a one-time code; AuthError (401) for a wrong code, 429 while throttled.

    A code names no account until it matches, so only its address is throttled.
    """
    keys = [throttle.address_key(address)]
    with read(engine) as conn:
        throttle.check(conn, keys, now=now)
    try:
        return write(engine, lambda conn: accounts.enroll_with_code(conn, code=code, device_name=device_name, kind=kind))
    except XunchaError as refused:
        if refused.code == "auth.bad_enrollment_code":
            write(engine, lambda conn: throttle.failed(conn, keys, now=now))
        raise
