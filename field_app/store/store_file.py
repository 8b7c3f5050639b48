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

from field_app.store.atomic_storage import AtomicJSONStorage, MemoryStorage


def plain(value: Any) -> Any:
    """A deep copy of ``value`` as JSON would store it; TypeError/ValueError if it is not JSON."""
    return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))


class StoreFile:
    """A TinyDB database in one file (or in memory), with keyed access and atomic batches."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is None:
            self._db = TinyDB(storage=MemoryStorage)
        else:
            self._db = TinyDB(path, storage=AtomicJSONStorage)

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

    def delete(self, table: str, key: str) -> bool:
        return bool(self._table(table).remove(where("key") == key))

    def close(self) -> None:
        self._db.close()


def iter_json_files(folder: Path) -> Iterator[Path]:
    """The store files directly inside ``folder``, sorted by name."""
    if folder.is_dir():
        yield from sorted(p for p in folder.glob("*.json") if p.is_file())
