"""The phone's history of records the server has accepted, one file per month.

A record's entry holds every revision the server accepted (envelope and receipt),
the latest revision number and the review decisions that reached the phone. The
entry lives in ``history/<YYYY-MM>.json`` for the month the record is about
(``content["month"]``), else the month the server received it, so storing a
receipt rewrites one month's file however long the history grows. An index of
record id → month is built in memory at start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from field_app.store.store_file import Shelf, StoreFile

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
UNDATED = "undated"
TABLE = "records"
FOLDER = "history"
MONTHS_IN_MEMORY = 3

REVIEW_STATES = {"approve": "approved", "send_back": "sent_back", "reject": "rejected"}


def record_month(envelope: dict[str, Any], receipt: dict[str, Any] | None = None) -> str:
    """The month a record belongs to: the month it is about, else the server's receive month."""
    content = envelope.get("content") or {}
    for candidate in (content.get("month"), str(content.get("date") or "")[:7]):
        if isinstance(candidate, str) and MONTH_RE.match(candidate):
            return candidate
    received = str((receipt or {}).get("received_at") or "")[:7]
    return received if MONTH_RE.match(received) else UNDATED


def entry_state(entry: dict[str, Any]) -> str:
    """synced, or the review decision on the latest accepted revision."""
    for review in reversed(entry.get("reviews") or []):
        if review.get("revision") == entry["revision"]:
            return REVIEW_STATES.get(review.get("action"), "synced")
    return "synced"


class HistoryBook:
    """Month files of accepted records, with an in-memory index; callers hold the store lock."""

    def __init__(self, shelf: Shelf) -> None:
        self._shelf = shelf
        self._months: dict[str, StoreFile] = {}
        self._recent: list[str] = []
        self._index: dict[str, str] = {}
        self._revisions: dict[str, set[int]] = {}
        self._owed: dict[str, set[str]] = {}
        self.duplicates: list[tuple[str, str]] = []
        for month in shelf.names(FOLDER):
            self._load(month)

    def _file(self, month: str) -> StoreFile:
        if month not in self._months:
            self._months[month] = self._shelf.open(f"{FOLDER}/{month}.json")
        # Only the few months in use stay in memory: a long history must neither fill a
        # phone's memory nor slow every save with garbage-collector passes over it.
        if month in self._recent:
            self._recent.remove(month)
        self._recent.append(month)
        while len(self._recent) > MONTHS_IN_MEMORY:
            self._months[self._recent.pop(0)].forget()
        return self._months[month]

    def _load(self, month: str) -> None:
        for record_id, entry in self._file(month).raw_items(TABLE):
            if not isinstance(entry, dict) or not isinstance(entry.get("revisions"), dict):
                continue
            if record_id in self._index:
                self.duplicates.append((record_id, month))
                continue
            self._remember(record_id, month, entry)

    def _remember(self, record_id: str, month: str, entry: dict[str, Any]) -> None:
        self._index[record_id] = month
        self._revisions[record_id] = {int(r) for r in entry["revisions"]}
        owed = {
            sha
            for item in entry["revisions"].values()
            for sha in ((item.get("receipt") or {}).get("photos_missing") or [])
            if isinstance(sha, str)
        }
        if owed:
            self._owed[record_id] = owed
        else:
            self._owed.pop(record_id, None)

    # reads

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._index

    def __len__(self) -> int:
        return len(self._index)

    def has_revision(self, record_id: str, revision: int) -> bool:
        return revision in self._revisions.get(record_id, ())

    def latest_revision(self, record_id: str) -> int | None:
        revs = self._revisions.get(record_id)
        return max(revs) if revs else None

    def owed_photos(self) -> set[str]:
        """Hashes that some receipt listed as missing on the server (maybe uploaded since)."""
        return set().union(*self._owed.values()) if self._owed else set()

    def get(self, record_id: str) -> dict[str, Any] | None:
        month = self._index.get(record_id)
        return None if month is None else self._file(month).get(TABLE, record_id)

    def months(self) -> list[str]:
        return sorted(set(self._index.values()))

    def raw_entries(self) -> list[dict[str, Any]]:
        """Every record's entry, not copied: for reading only."""
        out: list[dict[str, Any]] = []
        for m in self.months():
            out.extend(v for k, v in self._file(m).raw_items(TABLE) if self._index.get(k) == m)
        return out

    # writes

    def store_revision(
        self, envelope: dict[str, Any], receipt: dict[str, Any] | None, *, source: str = "phone"
    ) -> dict[str, Any]:
        """Add an accepted revision to its record's entry (idempotent) and return the entry."""
        record_id, revision = envelope["record_id"], int(envelope["revision"])
        old_month = self._index.get(record_id)
        entry = self.get(record_id) or {
            "record_id": record_id,
            "kind": envelope.get("kind"),
            "revision": revision,
            "revisions": {},
            "reviews": [],
        }
        stored = entry["revisions"].get(str(revision))
        if stored is not None and (receipt is None or stored.get("receipt") == receipt):
            return entry  # already here; a missing receipt never replaces a stored one
        entry["revisions"][str(revision)] = {"envelope": envelope, "receipt": receipt, "source": source}
        latest = max(int(r) for r in entry["revisions"])
        entry["revision"] = latest
        latest_rev = entry["revisions"][str(latest)]
        month = record_month(latest_rev["envelope"], latest_rev["receipt"])
        self._file(month).put(TABLE, record_id, entry)
        self._remember(record_id, month, entry)
        if old_month is not None and old_month != month:
            self._file(old_month).delete(TABLE, record_id)
        return entry

    def add_reviews(self, record_id: str, reviews: Iterable[dict[str, Any]]) -> bool:
        """Append review decisions not yet on the entry; False if the record is not here."""
        entry = self.get(record_id)
        if entry is None:
            return False
        known = entry.setdefault("reviews", [])
        fresh = [r for r in reviews if r not in known]
        if fresh:
            known.extend(fresh)
            self._file(self._index[record_id]).put(TABLE, record_id, entry)
        return True

    def import_entries(self, pairs: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
        """Store many accepted revisions with one write per month (a restore); returns how many."""
        by_month: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
        for envelope, receipt in pairs:
            by_month.setdefault(record_month(envelope, receipt), []).append((envelope, receipt))
        n = 0
        for month, group in by_month.items():
            with self._file(month).batch():
                for envelope, receipt in group:
                    self.store_revision(envelope, receipt, source="import")
                    n += 1
        return n

    def remove_duplicates(self) -> list[str]:
        """Merge copies of a record left in two month files by a kill mid-move; keep one."""
        notes = []
        for record_id, stray_month in self.duplicates:
            first_month = self._index[record_id]
            first = self._file(first_month).get(TABLE, record_id) or {}
            stray = self._file(stray_month).get(TABLE, record_id) or {}
            revisions = dict(stray.get("revisions") or {})
            for rev, item in (first.get("revisions") or {}).items():
                if rev not in revisions or item.get("receipt") is not None:
                    revisions[rev] = item
            reviews = list(first.get("reviews") or [])
            reviews += [r for r in stray.get("reviews") or [] if r not in reviews]
            latest = max(revisions, key=int)
            entry = {**first, "revisions": revisions, "reviews": reviews, "revision": int(latest)}
            month = record_month(revisions[latest]["envelope"], revisions[latest]["receipt"])
            self._file(month).put(TABLE, record_id, entry)
            self._remember(record_id, month, entry)
            for m in {first_month, stray_month} - {month}:
                self._file(m).delete(TABLE, record_id)
            notes.append(f"record {record_id} was in history {first_month} and {stray_month}; kept one copy in {month}")
        self.duplicates.clear()
        return notes

    def close(self) -> None:
        for f in self._months.values():
            f.close()
