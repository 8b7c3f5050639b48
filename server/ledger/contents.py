"""What the public sees of an entry, and who may read the content beside it.

The public ledger serves each entry's committed form (``xuncha_core.ledger_entries``);
a legacy entry, whose text holds its content, is withheld (``public_text`` answers
None) while its leaf hash and proofs stay public. Its content, and every committed
entry's content and salt, are read by signing in: the read-all roles read any entry,
a field user the entries of her own records (``check_may_read``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from server.accounts.accounts import READ_ALL_ROLES, Actor
from server.infra import tables as t
from server.ledger.shapes import EntryContent
from xuncha_core import ledger_entries
from xuncha_core.errors import ForbiddenError, IntegrityError


@dataclass(frozen=True)
class StoredContent:
    index: int
    type: str | None
    entry: str  # the exact text that was hashed
    leaf_hash: bytes
    content_text: str | None  # canonical JSON (a legacy entry: its whole text)
    salt: str | None
    legacy: bool
    record_id: str | None

    @property
    def content(self) -> Any:
        return None if self.content_text is None else json.loads(self.content_text)

    def as_dict(self) -> EntryContent:
        return {
            "index": self.index,
            "entry": self.entry,
            "leaf_hash": self.leaf_hash.hex(),
            "content": self.content,
            "salt": self.salt,
            "legacy": self.legacy,
        }


def public_text(text: str) -> str | None:
    """The text anyone may read: the committed form, or None for a legacy (or unreadable) entry."""
    try:
        return text if ledger_entries.parse(text) is not None else None
    except IntegrityError:
        return None


_JOINED = select(
    t.ledger_entries.c.idx,
    t.ledger_entries.c.entry,
    t.ledger_entries.c.leaf_hash,
    t.ledger_contents.c.type,
    t.ledger_contents.c.content,
    t.ledger_contents.c.salt,
    t.ledger_contents.c.legacy,
    t.ledger_contents.c.record_id,
).select_from(t.ledger_entries.outerjoin(t.ledger_contents, t.ledger_contents.c.idx == t.ledger_entries.c.idx))


def _stored(row: Any) -> StoredContent:
    legacy = bool(row.legacy) if row.legacy is not None else public_text(row.entry) is None
    content = row.content if row.content is not None or not legacy else row.entry
    return StoredContent(
        index=int(row.idx),
        type=row.type,
        entry=row.entry,
        leaf_hash=bytes(row.leaf_hash),
        content_text=content,
        salt=row.salt,
        legacy=legacy,
        record_id=row.record_id,
    )


def read(conn: Connection, index: int) -> StoredContent | None:
    """Entry ``index`` with its content, or None if the ledger has no such entry."""
    row = conn.execute(_JOINED.where(t.ledger_entries.c.idx == index)).first()
    return None if row is None else _stored(row)


def read_range(conn: Connection, start: int, end: int, *, batch: int = 2000) -> Iterator[StoredContent]:
    """Entries [start, end) with their contents, in order, a page at a time."""
    e = t.ledger_entries.c
    while start < end:
        rows = conn.execute(_JOINED.where(e.idx >= start, e.idx < min(end, start + batch)).order_by(e.idx)).all()
        yield from (_stored(r) for r in rows)
        start += batch


def read_many(conn: Connection, indexes: list[int]) -> list[StoredContent]:
    """These entries with their contents, in ledger order."""
    found: list[StoredContent] = []
    for i in range(0, len(indexes), 500):
        chunk = indexes[i : i + 500]
        found += [_stored(r) for r in conn.execute(_JOINED.where(t.ledger_entries.c.idx.in_(chunk))).all()]
    return sorted(found, key=lambda s: s.index)


def record_entry_indexes(conn: Connection, record_id: str, size: int) -> list[int]:
    """The indexes below ``size`` of this record's entries (its revisions and its reviews)."""
    c = t.ledger_contents.c
    return [int(i) for i in conn.execute(select(c.idx).where(c.record_id == record_id, c.idx < size)).scalars()]


def check_may_read(conn: Connection, actor: Actor, stored: StoredContent) -> None:
    """Refuse (403) a caller who may not read this entry's content."""
    if actor.role in READ_ALL_ROLES:
        return
    if stored.record_id is None:
        raise ForbiddenError(
            "auth.forbidden",
            f"Your role ({actor.role}) may read the ledger contents of your own records only.",
            "您的角色只能查看自己记录的账本内容。",
        )
    author = conn.execute(select(t.records.c.author).where(t.records.c.record_id == stored.record_id)).scalar()
    if author != actor.username:
        raise ForbiddenError(
            "record.forbidden",
            "You may read the ledger contents of your own records only.",
            "您只能查看自己记录的账本内容。",
        )
