"""What the console reads from the database, beyond what the API's own reads already answer.

The review queue (filters, sorting, pages, and every filtered row for an export), the
counts the dashboard shows, the scores and ratings behind the rankings, the checks and
re-checks behind the rectification orders, and the names that turn ids into words.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import BigInteger, Connection, Numeric, and_, case, cast, func, select

from server.infra import tables as t
from server.reference import feed
from server.reference.shapes import Item

PAGE_SIZE = 50
SORTS: dict[str, tuple[str, bool]] = {
    # name: (column, descending)
    "updated": ("updated_at", True),
    "oldest": ("updated_at", False),
    "village": ("village_id", False),
    "month": ("month", True),
    "state": ("review_state", False),
}


@dataclass(frozen=True)
class QueueFilters:
    village_id: str | None = None
    month: str | None = None
    kind: str | None = None
    author: str | None = None
    state: str | None = None
    sort: str = "updated"

    def query(self) -> str:
        """The filters as a query string (for page links and export links)."""
        pairs = [(k, v) for k, v in (("village", self.village_id), ("month", self.month), ("kind", self.kind),
                                     ("author", self.author), ("state", self.state)) if v]
        if self.sort != "updated":
            pairs.append(("sort", self.sort))
        return urlencode(pairs)


def _filtered(f: QueueFilters) -> Any:
    r = t.records
    q = select(r)
    for column, value in ((r.c.village_id, f.village_id), (r.c.month, f.month), (r.c.kind, f.kind),
                          (r.c.author, f.author), (r.c.review_state, f.state)):
        if value:
            q = q.where(column == value)
    return q


def _ordered(q: Any, sort: str) -> Any:
    name, descending = SORTS.get(sort, SORTS["updated"])
    column = t.records.c[name]
    tie = t.records.c.record_id
    if name == "updated_at":
        return q.order_by(column.desc(), tie.desc()) if descending else q.order_by(column.asc(), tie.asc())
    then = t.records.c.updated_at.desc()
    return q.order_by(column.desc() if descending else column.asc(), then, tie.desc())


def queue_page(conn: Connection, f: QueueFilters, page: int) -> tuple[list[Any], int]:
    """One page of record heads and the number of heads the filters match."""
    q = _filtered(f)
    total = int(conn.execute(select(func.count()).select_from(q.subquery())).scalar_one())
    rows = conn.execute(_ordered(q, f.sort).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)).all()
    return list(rows), total


def queue_all(conn: Connection, f: QueueFilters) -> list[Any]:
    """Every record head the filters match, in the page's order (for an export): one query
    (pages by offset sorted the whole match again for each; the export holds every row anyway)."""
    return list(conn.execute(_ordered(_filtered(f), f.sort)).all())


def state_counts(conn: Connection) -> dict[str, int]:
    r = t.records
    return {row[0]: int(row[1]) for row in conn.execute(select(r.c.review_state, func.count()).group_by(r.c.review_state))}


def head_envelopes(conn: Connection, *, kind: str, months: Sequence[str], states: Sequence[str] | None = None,
                   village_id: str | None = None, with_orders: bool = False) -> list[tuple[str, dict[str, Any], str]]:
    """(record_id, head envelope, review state) of the records of ``kind`` in ``months``."""
    r, rv = t.records, t.record_revisions
    q = (
        select(r.c.record_id, r.c.review_state, rv.c.envelope)
        .join(rv, and_(rv.c.record_id == r.c.record_id, rv.c.revision == r.c.head_revision))
        .where(r.c.kind == kind, r.c.month.in_(list(months)))
    )
    if states is not None:
        q = q.where(r.c.review_state.in_(list(states)))
    if village_id:
        q = q.where(r.c.village_id == village_id)
    if with_orders:  # canonical JSON has no spaces: a check without orders holds exactly this
        q = q.where(~rv.c.envelope.contains('"orders":[]'))
    return [(row.record_id, json.loads(row.envelope), row.review_state) for row in conn.execute(q)]


def approved_score_sums(conn: Connection, months: Sequence[str]) -> dict[tuple[str, str], tuple[Decimal, int]]:
    """(village, month) → (sum of scores, number of checks) over the approved remediation checks
    in ``months``, added up by the database from ``records.score`` (one index read, no envelope
    opened). Scores have at most two decimals, so they are summed exactly as whole hundredths."""
    r = t.records
    hundredths = cast(func.round(cast(r.c.score, Numeric(12, 2)) * 100), BigInteger)
    q = (
        select(r.c.village_id, r.c.month, func.sum(hundredths), func.count())
        .where(r.c.kind == "remediation_check", r.c.review_state == "approved", r.c.month.in_(list(months)),
               r.c.score.is_not(None), r.c.village_id.is_not(None))
        .group_by(r.c.village_id, r.c.month)
    )
    return {(row[0], row[1]): (Decimal(int(row[2])) / 100, int(row[3])) for row in conn.execute(q)}


# -- names ------------------------------------------------------------------------------


def reference(conn: Connection, topic: str) -> list[Item]:
    return feed.current(conn, topic=topic)


def reference_map(conn: Connection, topic: str) -> dict[str, dict[str, Any]]:
    return {row["key"]: row["payload"] for row in feed.current(conn, topic=topic)}


def user_names(conn: Connection) -> dict[str, str]:
    u = t.users
    return {row.username: row.display_name for row in conn.execute(select(u.c.username, u.c.display_name))}


def authors(conn: Connection) -> list[tuple[str, str]]:
    """(username, name) of every field account, for the author filter."""
    u = t.users
    rows = conn.execute(select(u.c.username, u.c.display_name).where(u.c.role.in_(("supervisor", "officer"))).order_by(u.c.username))
    return [(row.username, row.display_name) for row in rows]


def kept_photos(conn: Connection, hashes: Sequence[str]) -> set[str]:
    if not hashes:
        return set()
    p = t.photos
    return {row[0] for row in conn.execute(select(p.c.sha256).where(p.c.sha256.in_(list(hashes))))}


def devices(conn: Connection) -> list[Any]:
    """Every device with its user and health (when last heard from, by a feed pull or any other
    signed-in request; app version; outbox)."""
    d, u, h = t.devices, t.users, t.device_health
    pulled, seen = h.c.last_seen_at, d.c.last_seen_at
    heard = case((pulled.is_(None), seen), (seen.is_(None), pulled), (pulled > seen, pulled), else_=seen)
    q = (
        select(d, u.c.username, u.c.display_name, heard.label("heard_at"), h.c.app_version, h.c.outbox)
        .join(u, u.c.id == d.c.user_id)
        .outerjoin(h, h.c.device_id == d.c.id)
        .order_by(d.c.revoked_at.is_not(None), d.c.created_at.desc())
    )
    return list(conn.execute(q))


def records_per_author_waiting(conn: Connection) -> dict[str, int]:
    """Photos the server still lacks, counted per author (what their phone has yet to send)."""
    rp, ph, r = t.record_photos, t.photos, t.records
    q = (
        select(r.c.author, func.count())
        .select_from(rp.join(r, and_(r.c.record_id == rp.c.record_id, r.c.head_revision == rp.c.revision))
                     .outerjoin(ph, ph.c.sha256 == rp.c.sha256))
        .where(ph.c.sha256.is_(None))
        .group_by(r.c.author)
    )
    return {row[0]: int(row[1]) for row in conn.execute(q)}
