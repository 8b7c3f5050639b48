"""The server's one clock: what time it is, and how a time is written down.

Every time the server stamps (received_at, ledger entries, reviews, enrollment codes,
uploads, migrations, checkpoints) comes from here, written one way: ISO 8601 in UTC
with microseconds (``2025-03-01T08:00:00.000000+00:00``), so stored times sort as text.
A day, by contrast, is the township's: ``town_date`` (China, UTC+8, whatever the server's
own zone), so a deadline falls due at midnight where the office is, not at 08:00.
The app keeps a ``Clock`` (``app.state.clock``) that tests may move for sign-in throttling.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

Clock = Callable[[], datetime]
BEIJING = timezone(timedelta(hours=8))  # China keeps one zone and no summer time


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime | None = None) -> str:
    """``moment`` (now, if not given) as the server writes times down."""
    return (moment or utc_now()).astimezone(UTC).isoformat(timespec="microseconds")


def town_date(moment: datetime) -> date:
    """The date in the township (Beijing time) at ``moment``."""
    return moment.astimezone(BEIJING).date()
