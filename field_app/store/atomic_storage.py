"""TinyDB storages that never leave a half-written file, and their in-memory twin.

TinyDB's stock JSONStorage rewrites its file in place: a process killed mid-write
leaves it truncated. ``AtomicJSONStorage`` replaces the whole file with
``xuncha_core.durable.replace_file`` (temp file in the same folder, fsync, rename,
fsync the folder), so after a crash the file is either the old version or the new one.

Both storages keep the parsed data in memory (TinyDB reads the storage on every
query) and offer ``batch()``: the writes inside it reach the disk as one atomic
file write when it ends, or not at all if it raises. That is how several changes
(a page of reference data and its cursor) become durable together.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb.storages import MemoryStorage as _TinyMemoryStorage
from tinydb.storages import Storage

from xuncha_core.durable import replace_file
from xuncha_core.errors import IntegrityError

Tables = dict[str, dict[str, Any]]


class CorruptStoreFile(IntegrityError):
    """A store file exists but is not a TinyDB JSON document (truncated, garbled)."""


def encode(data: Tables) -> bytes:
    """The bytes a store file holds for ``data``: compact UTF-8 JSON."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(raw: bytes, *, name: str = "store file") -> Tables:
    """Parse a store file, or raise CorruptStoreFile saying why it cannot be used."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptStoreFile("store.corrupt_file", f"{name} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or not all(
        isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values())
        for table in data.values()
    ):
        raise CorruptStoreFile("store.corrupt_file", f"{name} is JSON but not a table of documents")
    return data


class _Batching:
    """The ``batch()`` protocol shared by both storages: defer writes, then commit or forget."""

    _depth = 0
    _dirty = False

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes inside become durable together when the block ends; none of them if it raises."""
        if self._depth == 0:
            self._begin()
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._dirty = False
                self._rollback()
            raise
        self._depth -= 1
        if self._depth == 0 and self._dirty:
            self._dirty = False
            self._commit()

    def _begin(self) -> None:
        pass

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError


class AtomicJSONStorage(_Batching, Storage):
    """A TinyDB storage in one JSON file, replaced atomically on every (batched) write."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._data: Tables | None = None

    def read(self) -> Tables:
        if self._data is None:
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                self._data = {}
            else:
                self._data = decode(raw, name=self.path.name)
        return self._data

    def write(self, data: Tables) -> None:
        self._data = data
        if self._depth:
            self._dirty = True
        else:
            self._commit()

    def _commit(self) -> None:
        try:
            replace_file(self.path, encode(self._data or {}))
        except BaseException:
            # TinyDB changed the cached documents in place; the file is the truth now.
            self._data = None
            raise

    def _rollback(self) -> None:
        self._data = None


class MemoryStorage(_Batching, _TinyMemoryStorage):
    """The in-memory twin of AtomicJSONStorage: same batch semantics, nothing on disk."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        self.path = Path(path) if path is not None else None
        self._snapshot: bytes = b"{}"

    def read(self) -> Tables:
        if self.memory is None:
            self.memory = {}
        return self.memory

    def write(self, data: Tables) -> None:
        self.memory = data
        if self._depth:
            self._dirty = True
        else:
            self._commit()

    def _begin(self) -> None:
        self._snapshot = encode(self.read())

    def _commit(self) -> None:
        # Serialise like the file storage does, so unserialisable data fails the same way.
        try:
            self._snapshot = encode(self.memory or {})
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        self.memory = json.loads(self._snapshot)
