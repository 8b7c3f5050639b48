"""The phone's history of records the server has accepted, one file per month, and its index.

A record's entry holds every revision the server accepted (envelope and receipt),
the latest revision number, the review decisions that reached the phone and an
update counter. The entry lives in ``history/<YYYY-MM>.json`` for the month the
record is about (``content["month"]``), else the month the server received it, so
storing a receipt rewrites one month's file however long the history grows.
What the history list needs to filter and sort is in the index (history_index):
opening the store reads the index, and a month file is read only when one of its
records is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from field_app.store.history_index import (
    REVIEW_STATES,
    HistoryIndex,
    Summary,
    entry_state,
    summarize,
)
from field_app.store.store_file import Shelf, StoreFile, plain

__all__ = ["REVIEW_STATES", "HistoryBook", "entry_state", "record_month"]

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
UNDATED = "undated"
TABLE = "records"
META = "_meta"
FOLDER = "history"
MONTHS_IN_MEMORY = 3


def record_month(envelope: dict[str, Any], receipt: dict[str, Any] | None = None) -> str:
    """The month a record belongs to: the month it is about, else the server's receive month."""
    content = envelope.get("content") or {}
    for candidate in (content.get("month"), str(content.get("date") or "")[:7]):
        if isinstance(candidate, str) and MONTH_RE.match(candidate):
            return candidate
    received = str((receipt or {}).get("received_at") or "")[:7]
    return received if MONTH_RE.match(received) else UNDATED


def _is_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("revisions"), dict)
        and bool(entry["revisions"])
        and str(entry.get("revision")) in entry["revisions"]
    )


class HistoryBook:
    """Month files of accepted records, kept in step with their index; callers hold the store lock."""

    def __init__(self, shelf: Shelf) -> None:
        self._shelf = shelf
        self._months: dict[str, StoreFile] = {}
        self._recent: list[str] = []
        self._index = HistoryIndex(shelf)
        self._summaries: dict[str, Summary] = {}
        self._owed: dict[str, set[str]] = {}
        self._verified: set[str] = set()
        self._deferred: set[str] | None = None
        self._clock = 0
        self.reindexed_on_read = 0
        self._members: dict[str, dict[str, None]] = {}  # month -> its record ids
        self._ordered: dict[str, list[str]] = {}  # month -> its record ids, newest first (a cache)
        self.duplicates: list[tuple[str, str]] = []
        month_files = set(shelf.names(FOLDER))
        for month in sorted(month_files | set(self._index.months())):
            if month not in month_files:
                self._index.drop(month)
                self._note(f"history index of {month} had no month file; removed it")
                continue
            summaries, reason = self._index.load(month, self._identity(month))
            if reason is None:
                self._adopt(month, summaries)
            else:
                self._reindex(month, f"index was {reason}")

    # the index

    def _note(self, sentence: str) -> None:
        self._shelf.report.reindexed.append(sentence)

    def _identity(self, month: str) -> list[int] | None:
        return self._shelf.identity(f"{FOLDER}/{month}.json")

    def _source(self, month: str) -> dict[str, Any]:
        return {"generation": int(self._file(month).get(META, "generation", 0)), "file": self._identity(month)}

    def _adopt(self, month: str, pairs: Iterable[tuple[str, Summary]]) -> None:
        summaries, owed = self._summaries, self._owed
        members = self._members.setdefault(month, {})
        for record_id, summary in pairs:
            held = summaries.get(record_id)
            if held is not None and held.month != month:
                self.duplicates.append((record_id, month))
                continue
            summaries[record_id] = summary
            members[record_id] = None
            if summary.owed:
                owed[record_id] = set(summary.owed)
            elif record_id in owed:
                del owed[record_id]
            if summary.updated > self._clock:
                self._clock = summary.updated
        self._ordered.pop(month, None)

    def _remember(self, record_id: str, summary: Summary) -> None:
        self._forget(record_id)
        self._adopt(summary.month, [(record_id, summary)])

    def _forget(self, record_id: str) -> None:
        held = self._summaries.pop(record_id, None)
        self._owed.pop(record_id, None)
        if held is not None:
            self._members[held.month].pop(record_id, None)
            self._ordered.pop(held.month, None)

    def _reindex(self, month: str, reason: str | None) -> int:
        """Rebuild the month's shard from its month file; returns how many records it holds."""
        pairs = [(rid, summarize(e, month)) for rid, e in self._file(month).raw_items(TABLE) if _is_entry(e)]
        self._index.replace(month, pairs, self._source(month))
        for record_id in [rid for rid, s in self._summaries.items() if s.month == month]:
            self._forget(record_id)
        self._adopt(month, pairs)
        self._verified.add(month)
        if reason is not None:
            self._note(f"history {month}: {reason}; rebuilt it from the month file ({len(pairs)} records)")
        return len(pairs)

    def _check(self, month: str) -> None:
        """Before a month file is first used in this session: does its shard describe it?"""
        if month in self._verified:
            return
        known, actual = self._index.source(month), self._source(month)
        if known != actual and (known is not None or actual["generation"] or self._file(month).count(TABLE)):
            self._reindex(month, "index did not match the month file when it was read")
            self.reindexed_on_read += 1
        self._verified.add(month)

    def rebuild_index(self) -> int:
        """Rebuild every shard from the month files (reads them all); returns how many records."""
        month_files = set(self._shelf.names(FOLDER)) | set(self._months)
        for month in set(self._index.months()) - month_files:
            self._index.drop(month)
        self.duplicates.clear()
        return sum(self._reindex(month, None) for month in sorted(month_files))

    # month files

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

    def _write(self, month: str, record_id: str, entry: dict[str, Any] | None) -> None:
        """Put (or with None, remove) one entry: the month file first, then its shard."""
        self._check(month)
        f = self._file(month)
        generation = int(f.get(META, "generation", 0)) + 1
        with f.batch():
            if entry is None:
                f.delete(TABLE, record_id)
            else:
                f.put(TABLE, record_id, entry)
            f.put(META, "generation", generation)
        summary = None if entry is None else summarize(entry, month)
        if summary is not None:
            self._remember(record_id, summary)
        elif (held := self._summaries.get(record_id)) is not None and held.month == month:
            self._forget(record_id)
        if self._deferred is not None:
            self._deferred.add(month)
        else:
            self._index.put(month, record_id, summary, {"generation": generation, "file": self._identity(month)})

    # reads

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._summaries

    def __len__(self) -> int:
        return len(self._summaries)

    def summaries(self) -> dict[str, Summary]:
        """Every record's summary, not copied: for reading only."""
        return self._summaries

    def has_revision(self, record_id: str, revision: int) -> bool:
        summary = self._summaries.get(record_id)
        return summary is not None and revision in summary.revisions

    def owed_photos(self) -> set[str]:
        """Hashes that some receipt listed as missing on the server (maybe uploaded since)."""
        return set().union(*self._owed.values()) if self._owed else set()

    def get(self, record_id: str) -> dict[str, Any] | None:
        """A copy of the record's entry (reads its month file only)."""
        summary = self._summaries.get(record_id)
        if summary is None:
            return None
        self._check(summary.month)
        summary = self._summaries.get(record_id)
        return None if summary is None else self._file(summary.month).get(TABLE, record_id)

    def entries(self, record_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Copies of the entries of these records, reading each month file involved once."""
        by_month: dict[str, set[str]] = {}
        for record_id in record_ids:
            if record_id in self._summaries:
                by_month.setdefault(self._summaries[record_id].month, set()).add(record_id)
        for month in by_month:
            self._check(month)
        out: dict[str, dict[str, Any]] = {}
        for month, wanted in sorted(by_month.items()):
            for record_id, entry in self._file(month).raw_items(TABLE):
                held = self._summaries.get(record_id) if record_id in wanted else None
                if held is not None and held.month == month:
                    out[record_id] = plain(entry)
        return out

    def months(self) -> list[str]:
        """Months that hold accepted records, oldest first."""
        return sorted(m for m, members in self._members.items() if members)

    def newest_first(self, month: str) -> list[str]:
        """The month's record ids by the server's receive time, then the last local update,
        newest first (sorted once per change of the month; not to be changed)."""
        if month not in self._ordered:
            s = self._summaries
            members = self._members.get(month, {})
            self._ordered[month] = sorted(members, key=lambda r: (s[r].received_at, s[r].updated), reverse=True)
        return self._ordered[month]

    # writes

    def store_revision(
        self, envelope: dict[str, Any], receipt: dict[str, Any] | None, *, source: str = "phone"
    ) -> dict[str, Any]:
        """Add an accepted revision to its record's entry (idempotent) and return the entry."""
        changed = self.store_revisions([(envelope, receipt)], source=source)
        return changed.get(envelope["record_id"]) or self.get(envelope["record_id"]) or {}

    def store_revisions(
        self, pairs: Iterable[tuple[dict[str, Any], dict[str, Any] | None]], *, source: str = "phone"
    ) -> dict[str, dict[str, Any]]:
        """``store_revision`` for many revisions, with one write per month file and per index
        shard touched (entries are added before any copy is removed from an old month, as
        there); returns the entries changed, by record id."""
        entries: dict[str, dict[str, Any]] = {}
        home: dict[str, str | None] = {}  # record id -> the month its entry is in on disk
        target: dict[str, str] = {}
        for envelope, receipt in pairs:
            record_id, revision = envelope["record_id"], int(envelope["revision"])
            if record_id not in entries:
                held = self._summaries.get(record_id)
                home[record_id] = None if held is None else held.month
                entry = self.get(record_id)
                if entry is not None:
                    entries[record_id] = entry
            entry = entries.get(record_id) or {
                "record_id": record_id,
                "kind": envelope.get("kind"),
                "revision": revision,
                "revisions": {},
                "reviews": [],
            }
            stored = entry["revisions"].get(str(revision))
            if stored is not None and (receipt is None or stored.get("receipt") == receipt):
                continue  # already here; a missing receipt never replaces a stored one
            entry["revisions"][str(revision)] = {"envelope": envelope, "receipt": receipt, "source": source}
            latest = max(int(r) for r in entry["revisions"])
            entry["revision"] = latest
            latest_rev = entry["revisions"][str(latest)]
            self._clock += 1
            entry["updated"] = self._clock
            entries[record_id] = entry
            target[record_id] = record_month(latest_rev["envelope"], latest_rev["receipt"])
        puts: dict[str, dict[str, dict[str, Any] | None]] = {}
        removals: dict[str, dict[str, dict[str, Any] | None]] = {}
        for record_id, month in target.items():
            puts.setdefault(month, {})[record_id] = entries[record_id]
            old = home[record_id]
            if old is not None and old != month:
                removals.setdefault(old, {})[record_id] = None
        for writes in (puts, removals):
            for month, changes in sorted(writes.items()):
                self._write_many(month, changes)
        return {record_id: entries[record_id] for record_id in target}

    def _write_many(self, month: str, changes: dict[str, dict[str, Any] | None]) -> None:
        """``_write`` for many entries of one month: one month file write, then one shard write."""
        self._check(month)
        f = self._file(month)
        generation = int(f.get(META, "generation", 0)) + 1
        with f.batch():
            f.put_many(TABLE, {rid: e for rid, e in changes.items() if e is not None})
            f.delete_many(TABLE, {rid for rid, e in changes.items() if e is None})
            f.put(META, "generation", generation)
        summaries: dict[str, Summary | None] = {}
        for record_id, entry in changes.items():
            summary = None if entry is None else summarize(entry, month)
            if summary is not None:
                self._remember(record_id, summary)
            elif (held := self._summaries.get(record_id)) is not None and held.month == month:
                self._forget(record_id)
            summaries[record_id] = summary
        if self._deferred is not None:
            self._deferred.add(month)
        else:
            self._index.put_many(month, summaries, {"generation": generation, "file": self._identity(month)})

    def add_reviews(self, record_id: str, reviews: Iterable[dict[str, Any]]) -> bool:
        """Append review decisions not yet on the entry; False if the record is not here."""
        entry = self.get(record_id)
        if entry is None:
            return False
        known = entry.setdefault("reviews", [])
        fresh = [r for r in reviews if r not in known]
        if fresh:
            known.extend(fresh)
            self._clock += 1
            entry["updated"] = self._clock
            self._write(self._summaries[record_id].month, record_id, entry)
        return True

    def import_entries(self, pairs: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
        """Store many accepted revisions with one write per month and shard (a restore); returns how many."""
        by_month: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
        for envelope, receipt in pairs:
            by_month.setdefault(record_month(envelope, receipt), []).append((envelope, receipt))
        n = 0
        for month, group in by_month.items():
            self._check(month)
            self._deferred = set()
            try:
                with self._file(month).batch():
                    for envelope, receipt in group:
                        self.store_revision(envelope, receipt, source="import")
                        n += 1
            finally:
                touched, self._deferred = self._deferred, None
            for m in sorted(touched):
                self._reindex(m, None)
        return n

    def remove_duplicates(self) -> list[str]:
        """Merge copies of a record left in two month files by a kill mid-move; keep one."""
        notes = []
        for record_id, stray_month in self.duplicates:
            first_month = self._summaries[record_id].month
            first = self._file(first_month).get(TABLE, record_id) or {}
            stray = self._file(stray_month).get(TABLE, record_id) or {}
            revisions = dict(stray.get("revisions") or {})
            for rev, item in (first.get("revisions") or {}).items():
                if rev not in revisions or item.get("receipt") is not None:
                    revisions[rev] = item
            reviews = list(first.get("reviews") or [])
            reviews += [r for r in stray.get("reviews") or [] if r not in reviews]
            latest = max(revisions, key=int)
            self._clock += 1
            entry = {**first, "revisions": revisions, "reviews": reviews, "revision": int(latest), "updated": self._clock}
            month = record_month(revisions[latest]["envelope"], revisions[latest]["receipt"])
            self._write(month, record_id, entry)
            for m in sorted({first_month, stray_month} - {month}):
                self._write(m, record_id, None)
            notes.append(f"record {record_id} was in history {first_month} and {stray_month}; kept one copy in {month}")
        self.duplicates.clear()
        return notes

    def close(self) -> None:
        for f in self._months.values():
            f.close()
        self._index.close()
