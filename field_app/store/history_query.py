"""The history list: every record she made, its latest revision and state, filtered and paged.

Drafts and outbox items come from the small work file; accepted records from the
history index, so filtering and sorting never read a month file. Only the month
files of the records on the returned page are read, to build their full views.

Order: drafts and conflicts first, then the outbox (newest submission first),
then accepted records by month (newest first), then by the server's receive time
and the last local update (newest first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain, islice
from typing import Any

from field_app.store import record_views
from field_app.store.history import HistoryBook
from field_app.store.history_index import search_text
from field_app.store.store_file import plain
from field_app.store.work import WorkItems

Villages = Callable[[], dict[str, Any]]


def _work_order(view: dict[str, Any]) -> tuple[Any, ...]:
    group = 0 if view["state"] in ("draft", "conflict") else 1
    return (group, -view.get("seq", 0), _desc(view["month"]))


def _desc(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


class HistoryQuery:
    """Answers history() and get_record(); callers hold the store lock."""

    def __init__(self, work: WorkItems, history: HistoryBook, villages: Villages) -> None:
        self._work = work
        self._history = history
        self._villages = villages

    def history(
        self,
        village_id: str | None = None,
        month: str | None = None,
        text: str | None = None,
        kind: str | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The latest revision of each record with its state, filtered, one page at a time:
        drafts and conflicts first, then the outbox (newest first), then accepted records
        by month (newest first). ``text`` is looked for in the record id, the content's
        text values and the village's name. Reads only the month files of the page."""
        needle = text.casefold() if text else None
        named = self._villages_named(needle) if needle else frozenset()
        filters: dict[str, Any] = {"village_id": village_id, "month": month, "needle": needle, "kind": kind, "villages_named": named}
        for _ in range(2):  # again if reading the page found (and rebuilt) a stale index shard
            seen = self._history.reindexed_on_read
            work = self._work_views()
            hits = chain(
                (
                    rid
                    for rid, v in sorted(work.items(), key=lambda kv: _work_order(kv[1]))
                    if record_views.summary_matches(
                        rid, v["village_id"], v["month"], v["kind"], search_text(v["content"]), **filters
                    )
                ),
                self._accepted_hits(work, **filters),
            )
            page = list(islice(hits, offset, None if limit is None else offset + limit))
            views = self._full_views(page, work)
            if self._history.reindexed_on_read == seen:
                break
        return [views[rid] for rid in page if rid in views]

    def _accepted_hits(
        self,
        work: dict[str, Any],
        *,
        village_id: str | None,
        month: str | None,
        needle: str | None,
        kind: str | None,
        villages_named: frozenset[str],
    ) -> Iterator[str]:
        """Accepted records (not shadowed by a draft or outbox item) passing the filters, in
        list order; lazily, so a page stops reading the index once it is full."""
        summaries = self._history.summaries()
        for m in [month] if month is not None else reversed(self._history.months()):
            for rid in self._history.newest_first(m):
                s = summaries[rid]
                if rid in work or (village_id is not None and s.village_id != village_id):
                    continue
                if kind is not None and s.kind != kind:
                    continue
                if needle and not (needle in s.text or needle in rid.casefold() or s.village_id in villages_named):
                    continue
                yield rid

    def get_record(self, record_id: str) -> dict[str, Any] | None:
        work = self._work_views(only=record_id)
        return self._full_views([record_id], work).get(record_id)

    def _villages_named(self, needle: str) -> frozenset[str]:
        """Ids of the villages whose name (Chinese or English) holds the search text."""
        named = set()
        for key, payload in self._villages().items():
            if isinstance(payload, dict):
                names = f"{payload.get('name') or ''}\n{payload.get('name_en') or ''}".casefold()
                if needle in names:
                    named.add(key)
        return frozenset(named)

    def _work_views(self, only: str | None = None) -> dict[str, dict[str, Any]]:
        """Views of drafts and outbox items (without their accepted part), not copied."""
        shown: dict[str, dict[str, Any]] = {}
        for item in self._work.raw_outbox():
            rid = item["record_id"]
            if (only is None or rid == only) and shown.get(rid, {}).get("state") != "conflict":
                shown[rid] = item
        views = {rid: record_views.view_from_outbox(item, None) for rid, item in shown.items()}
        for rid, draft in self._work.raw_drafts():
            if only is None or rid == only:
                views[rid] = record_views.view_from_draft(draft, None)
        return views

    def _full_views(self, record_ids: list[str], work: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Complete, copied views of these records, reading only the month files they are in."""
        entries = self._history.entries(record_ids)
        out: dict[str, dict[str, Any]] = {}
        for rid in record_ids:
            entry = entries.get(rid)
            synced = record_views.view_from_entry(entry) if entry is not None else None
            view = work.get(rid)
            if view is None:
                if synced is not None:
                    out[rid] = synced
                continue
            under = {k: synced[k] for k in ("receipts", "reviews", "review", "synced_revision")} if synced else {}
            out[rid] = plain({**view, **under})
        return out
