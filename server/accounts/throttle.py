"""Sign-in throttling: back-off per account and per client address, kept in the database.

Each password or enrollment-code guess names its keys: the account tried
(``account_key``) and the address it came from (``address_key``; an IPv6
client is judged by its /64, which one subscriber usually holds whole). Before a
guess is judged, ``check`` refuses it (429 ``auth.throttled``, ``Retry-After``)
while any of its keys is backing off; only then does the caller run the password
hash, inside ``hash_slot()``, which bounds how many argon2 runs (64 MiB each)
happen at once. A wrong guess is then ``failed``; a right one ``succeeded``.

A key may fail ``free`` times; after that each failure makes it wait, doubling
from ``first_wait`` up to ``longest_wait``, and a refused (throttled) guess
neither counts nor extends the wait. So nobody is ever locked out for good: once
the wait is over the right password works, and a success clears the account's
failures. An address is not cleared by a success (a guesser with one real
account could clear it); it is forgotten, like an account, ``forget_after`` its
last failure.

The failures live in ``sign_in_failures`` so that a restart does not reset them
and every server process shares them. The clock is the caller's: pass ``now``.

The address is the connection's, or, behind a reverse proxy, the one the proxy
names in ``X-Forwarded-For``: uvicorn believes that header only from the
addresses in ``FORWARDED_ALLOW_IPS`` (by default 127.0.0.1 and ::1, a proxy on the same
machine); a proxy elsewhere must be listed there, or every client looks alike.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from server.infra import clock
from server.infra import tables as t
from server.infra.db import is_sqlite
from xuncha_core.errors import RateLimitedError, UnavailableError, XunchaError

HASH_SLOTS = 2  # argon2 runs at once, per process: each takes 64 MiB and a core for ~0.1 s
HASH_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Policy:
    free: int
    first_wait: timedelta
    longest_wait: timedelta
    forget_after: timedelta = timedelta(days=1)

    def wait_after(self, failures: int) -> timedelta:
        """How long a key that has failed ``failures`` times must wait before its next guess."""
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 32)
        return min(self.longest_wait, self.first_wait * 2**doublings)


# A person mistypes a few times; a guesser tries thousands. An address may be a
# town hall's one public address or a carrier's NAT, so it gets more free tries.
ACCOUNT = Policy(free=5, first_wait=timedelta(seconds=10), longest_wait=timedelta(minutes=15))
ADDRESS = Policy(free=20, first_wait=timedelta(seconds=10), longest_wait=timedelta(minutes=15))


@dataclass(frozen=True)
class Key:
    name: str
    policy: Policy


def account_key(username: str) -> Key:
    return Key(f"account:{username}", ACCOUNT)


def address_key(host: str | None) -> Key:
    try:
        ip = ipaddress.ip_address(host or "")
    except ValueError:
        return Key(f"address:{(host or 'unknown')[:100]}", ADDRESS)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return Key(f"address:{ip.ipv4_mapped}", ADDRESS)
        return Key(f"address:{ipaddress.IPv6Network((ip, 64), strict=False)}", ADDRESS)
    return Key(f"address:{ip}", ADDRESS)


def check(conn: Connection, keys: Sequence[Key], *, now: datetime) -> None:
    """Raise 429 ``auth.throttled`` if any key must still wait; otherwise return."""
    by_name = {k.name: k for k in keys}
    rows = conn.execute(
        select(t.sign_in_failures).where(t.sign_in_failures.c.key.in_(list(by_name)))
    ).all()
    until = now
    for row in rows:
        policy = by_name[row.key].policy
        last = datetime.fromisoformat(row.last_failed_at)
        if now - last >= policy.forget_after:
            continue
        until = max(until, last + policy.wait_after(row.failures))
    if until > now:
        raise throttled(until, now)


def failed(conn: Connection, keys: Iterable[Key], *, now: datetime) -> None:
    """Count one failed guess against each key (a key forgotten by now starts again at one)."""
    f = t.sign_in_failures
    stamp = _stamp(now)
    for key in keys:
        forgotten = _stamp(now - key.policy.forget_after)
        insert = (sqlite.insert(f) if is_sqlite(conn) else postgresql.insert(f)).values(
            key=key.name, failures=1, last_failed_at=stamp
        )
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=[f.c.key],
                set_={
                    "failures": case((f.c.last_failed_at <= forgotten, 1), else_=f.c.failures + 1),
                    "last_failed_at": stamp,
                },
            )
        )
    oldest = max((ACCOUNT.forget_after, ADDRESS.forget_after))
    conn.execute(delete(f).where(f.c.last_failed_at < _stamp(now - oldest)))


def succeeded(conn: Connection, keys: Iterable[Key]) -> None:
    """Forget the failures of these keys (pass the account's, not the address's)."""
    conn.execute(delete(t.sign_in_failures).where(t.sign_in_failures.c.key.in_([k.name for k in keys])))


_hash_slots = threading.BoundedSemaphore(HASH_SLOTS)


@contextmanager
def hash_slot(wait_seconds: float = HASH_WAIT_SECONDS) -> Iterator[None]:
    """Hold one of the ``HASH_SLOTS`` places to run a password hash; 503 ``auth.busy`` if none
    frees up within ``wait_seconds``."""
    if not _hash_slots.acquire(timeout=wait_seconds):
        raise UnavailableError(
            "auth.busy",
            "The server is busy checking other sign-ins. Try again in a few seconds.",
            "服务器正忙于处理其他登录，请几秒钟后再试。",
            retry_after=5,
        )
    try:
        yield
    finally:
        _hash_slots.release()


def throttled(until: datetime, now: datetime) -> XunchaError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    at = until.astimezone(clock.BEIJING).strftime("%H:%M:%S")
    wait_en = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    wait_zh = f"{seconds} 秒" if seconds < 120 else f"{math.ceil(seconds / 60)} 分钟"
    return RateLimitedError(
        "auth.throttled",
        f"Too many failed sign-ins for this account or from this network. Try again in {wait_en} "
        f"(after {at} Beijing time). If you have forgotten the password, ask the office for an enrollment code.",
        f"该账号或本网络登录失败次数过多，请在 {wait_zh}后（北京时间 {at} 之后）再试。如忘记密码，请向办公室索取注册码。",
        {"retry_after": seconds, "retry_at": until.astimezone(UTC).isoformat(timespec="seconds")},
        retry_after=seconds,
    )


def _stamp(moment: datetime) -> str:
    """One fixed ISO 8601 form in UTC, so stamps compare as text in SQL."""
    return clock.timestamp(moment)
