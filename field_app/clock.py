"""The phone's one clock.

The device's wall time is recorded (in an envelope, on a draft, on a photo's stamp) and
used for nothing else: order comes from the outbox and from the server's sequence numbers.
Timeouts, backoff and link speed use the monotonic clock.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime


def now() -> datetime:
    """The device's time, with its UTC offset."""
    return datetime.now().astimezone()


def now_iso() -> str:
    """The device's time as ISO 8601 to the second, with its UTC offset."""
    return now().isoformat(timespec="seconds")


def now_utc_iso() -> str:
    """The device's time in UTC, for local bookkeeping (never to order records by)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def today() -> date:
    return now().date()


def monotonic() -> float:
    return time.monotonic()
