"""The history index: a small summary of every accepted record, so listing never reads every month.

For each record in ``history/<month>.json`` the index keeps what the history list
filters and sorts on (month, village, kind, state, revisions, the server's receive
time, an update counter, photos the server still owes, a search text). It is
sharded like the history, ``history_index/<month>.json``, so storing a receipt
rewrites one small shard beside its month file, and opening the store reads only
the shards.

Two files cannot be replaced in one atomic step. So every month file carries a
generation number (bumped by each write, inside the same atomic write), and its
shard, written right after it, records which version of the month it describes:
that generation and the month file's identity (inode, size, mtime) as written. A
kill between the two writes leaves a shard whose month file has moved on. At
start, a shard that is missing, unreadable or describes another version of its
month (a ``stat``, no read) is rebuilt from that month file alone; when a month
file is read later its generation and identity are compared again. The index is
derived data: it is never trusted over the month files and never moved aside.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from field_app.store.store_file import Shelf, StoreFile
from xuncha_core.review_flow import DECIDED, state_after

FOLDER = "history_index"
TABLE = "summary"
ROWS = "records"
META = "_meta"
REVIEW_STATES = DECIDED  # the decisions a phone keeps

_MACHINE_VALUE = re.compile(r"[!-~]*[0-9._:/+#@=-][!-~]*|[0-9a-fA-F]{32,}")


class Summary(NamedTuple):
    """What the history list filters and sorts on, for one accepted record."""

    month: str
    kind: str | None
    village_id: str | None
    state: str
    revision: int
    revisions: tuple[int, ...]
    received_at: str
    updated: int
    owed: tuple[str, ...]
    text: str

    def row(self) -> list[Any]:
        """The shard's compact form (the month is the shard's name)."""
        return [self.kind, self.village_id, self.state, self.revision, list(self.revisions),
                self.received_at, self.updated, list(self.owed), self.text]  # fmt: skip

    @classmethod
    def from_row(cls, month: str, row: list[Any]) -> Summary:
        """The summary a shard row describes; ValueError/TypeError if the row is malformed."""
        kind, village, state, revision, revisions, received, updated, owed, text = row
        if not (isinstance(state, str) and isinstance(revision, int) and isinstance(text, str)):
            raise ValueError("malformed summary")
        return cls(month, kind, village, state, revision, tuple(revisions), str(received), int(updated), tuple(owed), text)


def entry_state(entry: dict[str, Any]) -> str:
    """synced, or the state the latest decision on the latest accepted revision left it in:
    approved, sent_back, rejected, or legal_review (the office approved a major decision and
    the legal reviewer has yet to sign it off)."""
    for review in reversed(entry.get("reviews") or []):
        if review.get("revision") == entry["revision"] and (state := state_after(review)):
            return state
    return "synced"


def search_text(content: Any) -> str:
    """The words a search looks in: every distinct text value of the content, case-folded.

    Machine values (ids, codes, hashes, dates, times: ASCII without spaces that holds
    a digit or punctuation) are left out: nobody searches for them by typing, and
    they would make the index several times larger. Notes, titles, names stay.
    """
    seen: dict[str, None] = {}
    stack = [content]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, str) and value and not _MACHINE_VALUE.fullmatch(value):
            seen[value.casefold()] = None
    return "\n".join(seen)


def summarize(entry: dict[str, Any], month: str) -> Summary:
    """The index's summary of one history entry (what ``history()`` filters and sorts on)."""
    latest = entry["revisions"][str(entry["revision"])]
    envelope = latest.get("envelope") or {}
    content = envelope.get("content") or {}
    receipt = latest.get("receipt") or {}
    owed = {
        sha
        for item in entry["revisions"].values()
        for sha in ((item.get("receipt") or {}).get("photos_missing") or [])
        if isinstance(sha, str)
    }
    return Summary(
        month=month,
        kind=entry.get("kind") or envelope.get("kind"),
        village_id=content.get("village_id") if isinstance(content, dict) else None,
        state=entry_state(entry),
        revision=int(entry["revision"]),
        revisions=tuple(sorted(int(r) for r in entry["revisions"])),
        received_at=str(receipt.get("received_at") or ""),
        updated=int(entry.get("updated") or 0),
        owed=tuple(sorted(owed)),
        text=search_text(content),
    )


class HistoryIndex:
    """The summary shards, one per history month; callers hold the store lock."""

    def __init__(self, shelf: Shelf) -> None:
        self._shelf = shelf
        self._shards: dict[str, StoreFile] = {}

    def months(self) -> list[str]:
        """Months that have a shard on disk (none in memory)."""
        return self._shelf.names(FOLDER)

    def _shard(self, month: str) -> StoreFile:
        if month not in self._shards:
            self._shards[month] = self._shelf.open(f"{FOLDER}/{month}.json", rebuildable=True)
        return self._shards[month]

    def source(self, month: str) -> dict[str, Any] | None:
        """Which version of the month file the shard describes: {generation, file} (None: unknown)."""
        return self._shard(month).get(META, "source")

    def load(self, month: str, identity: list[int] | None) -> tuple[list[tuple[str, Summary]], str | None]:
        """The month's summaries if its shard describes the month file with ``identity``;
        else no summaries and the reason the shard cannot be trusted."""
        shard = self._shard(month)
        try:
            if shard.damage is not None:
                return [], f"unreadable ({shard.damage})"
            source = shard.get(META, "source")
            if source is None:
                return [], "missing"
            if source.get("file") != identity:
                return [], "older than its month file"
            rows = dict(shard.raw_items(TABLE)).get(ROWS) or {}
            return [(rid, Summary.from_row(month, row)) for rid, row in rows.items()], None
        except (AttributeError, TypeError, ValueError) as exc:
            return [], f"unreadable ({exc})"
        finally:
            shard.forget()  # the book keeps the summaries; the parsed shard would be a second copy

    def put(self, month: str, record_id: str, summary: Summary | None, source: dict[str, Any]) -> None:
        """Store (or, with None, remove) one record's summary and the month version it reflects."""
        self.put_many(month, {record_id: summary}, source)

    def put_many(self, month: str, summaries: dict[str, Summary | None], source: dict[str, Any]) -> None:
        """``put`` for many records of one month, in one atomic write."""
        shard = self._shard(month)
        rows = shard.get(TABLE, ROWS, {})
        for record_id, summary in summaries.items():
            if summary is None:
                rows.pop(record_id, None)
            else:
                rows[record_id] = summary.row()
        with shard.batch():
            shard.put(TABLE, ROWS, rows)
            shard.put(META, "source", source)

    def replace(self, month: str, pairs: list[tuple[str, Summary]], source: dict[str, Any]) -> None:
        """Rewrite the month's shard whole (a rebuild), in one atomic write."""
        shard = self._shard(month)
        with shard.batch():
            shard.put(TABLE, ROWS, {rid: summary.row() for rid, summary in pairs})
            shard.put(META, "source", source)
        shard.damage = None

    def drop(self, month: str) -> None:
        """Remove the shard of a month whose file is gone."""
        shard = self._shard(month)
        del self._shards[month]
        shard.close()
        if shard.path is not None:
            shard.path.unlink(missing_ok=True)

    def close(self) -> None:
        for shard in self._shards.values():
            shard.close()
