"""One file of the local store: named tables of values, each under a string key.

This is the only place that builds TinyDB objects. A ``StoreFile`` with a path
writes through ``AtomicJSONStorage``; without one it lives in memory (the twin).
Every document is ``{"key": key, "value": value}``; values are plain JSON, copied
on the way in and out so callers never share state with the cache.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB, where
from tinydb.table import Table

from field_app.store.atomic_storage import AtomicJSONStorage, CorruptStoreFile, MemoryStorage
from field_app.store.recovery import RecoveryReport, check_file
from xuncha_core.durable import private_folder


def plain(value: Any) -> Any:
    """A deep copy of ``value`` as JSON would store it; TypeError/ValueError if it is not JSON."""
    return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))


class StoreFile:
    """A TinyDB database in one file (or in memory), with keyed access and atomic batches."""

    def __init__(self, path: Path | None, shelf: Shelf | None = None, *, rebuildable: bool = False) -> None:
        self.path = path
        self.damage: str | None = None
        if path is None:
            self._db = TinyDB(storage=MemoryStorage)
            return
        self._db = TinyDB(path, storage=AtomicJSONStorage)
        try:
            self._db.storage.read()
        except CorruptStoreFile as exc:
            if rebuildable:
                # Derived data holds no evidence: drop it, the owner rebuilds it from the source.
                self.damage = exc.message
                path.unlink(missing_ok=True)
                self._db.storage.read()
                return
            shelf = shelf or Shelf(path.parent)
            assert shelf.root is not None
            moved = check_file(path, root=shelf.root)
            if moved is not None:
                shelf.report.moved.append(moved)
            self._db.storage.read()

    def _table(self, name: str) -> Table:
        # No query cache: a rolled-back batch must not leave stale answers behind.
        return self._db.table(name, cache_size=0)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every put/delete inside reaches the disk in one atomic write at the end, or none does."""
        with self._db.storage.batch():  # type: ignore[attr-defined]
            yield

    def get(self, table: str, key: str, default: Any = None) -> Any:
        doc = self._table(table).get(where("key") == key)
        return default if doc is None else plain(doc.get("value"))

    def has(self, table: str, key: str) -> bool:
        return self._table(table).contains(where("key") == key)

    def items(self, table: str) -> list[tuple[str, Any]]:
        """(key, value) pairs in insertion order, skipping documents that are not ours (salvage)."""
        return [
            (doc["key"], plain(doc.get("value")))
            for doc in self._table(table).all()
            if isinstance(doc.get("key"), str)
        ]

    def raw_items(self, table: str) -> list[tuple[str, Any]]:
        """Like ``items`` without copying: for reading only, never to hand out or change."""
        return [
            (doc["key"], doc.get("value"))
            for doc in self._table(table)._read_table().values()
            if isinstance(doc, dict) and isinstance(doc.get("key"), str)
        ]

    def values(self, table: str) -> list[Any]:
        return [value for _, value in self.items(table)]

    def count(self, table: str) -> int:
        return len(self._table(table))

    def put(self, table: str, key: str, value: Any) -> None:
        doc = {"key": key, "value": plain(value)}
        t = self._table(table)
        if t.contains(where("key") == key):
            t.update({"value": doc["value"]}, where("key") == key)
        else:
            t.insert(doc)

    def put_many(self, table: str, values: dict[str, Any]) -> None:
        """Put every (key, value) in one pass over the table (``put`` scans it once per key)."""
        fresh = {key: plain(value) for key, value in values.items()}
        found: set[str] = set()

        def update(docs: dict[int, Any]) -> None:
            for doc in docs.values():
                key = doc.get("key")
                if isinstance(key, str) and key in fresh and key not in found:
                    doc["value"] = fresh[key]
                    found.add(key)

        t = self._table(table)
        with self.batch():
            if len(t):
                t._update_table(update)
            new = [{"key": key, "value": value} for key, value in fresh.items() if key not in found]
            if new:
                t.insert_multiple(new)

    def delete(self, table: str, key: str) -> bool:
        return bool(self._table(table).remove(where("key") == key))

    def delete_many(self, table: str, keys: list[str] | set[str]) -> int:
        """Remove every document with one of these keys, in one pass; returns how many."""
        wanted = set(keys)
        if not wanted or not len(self._table(table)):
            return 0
        return len(self._table(table).remove(where("key").one_of(list(wanted))))

    def forget(self) -> None:
        """Drop the in-memory copy (a file on disk only); the next access reads the file again."""
        if self.path is not None:
            self._db.storage._data = None  # type: ignore[attr-defined]

    def close(self) -> None:
        self._db.close()


class Shelf:
    """Where a store's files live (a folder, or memory) and the report of repairs made opening them.

    A damaged file is found when it is first opened: it is moved aside, what can be
    salvaged from it is put back, and ``report`` says so.
    """

    def __init__(self, root: Path | None, report: RecoveryReport | None = None) -> None:
        self.root = root
        self.report = report if report is not None else RecoveryReport()
        if root is not None:
            private_folder(root)

    def open(self, name: str, *, rebuildable: bool = False) -> StoreFile:
        """The named file; a damaged one is moved aside and salvaged, or, if ``rebuildable``
        (derived data), dropped and reported through ``StoreFile.damage`` for its owner to rebuild."""
        if self.root is None:
            return StoreFile(None)
        path = self.root / name
        private_folder(path.parent)
        return StoreFile(path, self, rebuildable=rebuildable)

    def identity(self, name: str) -> list[int] | None:
        """What changes whenever the named file is replaced: inode, size, mtime (None: absent or memory)."""
        if self.root is None:
            return None
        try:
            st = (self.root / name).stat()
        except FileNotFoundError:
            return None
        return [st.st_ino, st.st_size, st.st_mtime_ns]

    def names(self, folder: str) -> list[str]:
        """The stems of the store files in a sub-folder, sorted (none in memory)."""
        if self.root is None or not (self.root / folder).is_dir():
            return []
        return sorted(p.stem for p in (self.root / folder).glob("*.json") if p.is_file())
