"""The server's one clock: what time it is, and how a time is written down.

Every time the server stamps (received_at, ledger entries, reviews, enrollment codes,
uploads, migrations, checkpoints) comes from here, written one way: ISO 8601 in UTC
with microseconds (``2025-03-01T08:00:00.000000+00:00``), so stored times sort as text.
The app keeps a ``Clock`` (``app.state.clock``) that tests may move for sign-in throttling.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime | None = None) -> str:
    """``moment`` (now, if not given) as the server writes times down."""
    return (moment or utc_now()).astimezone(UTC).isoformat(timespec="microseconds")
