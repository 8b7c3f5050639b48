"""TinyDB storages that never leave a half-written file, and their in-memory twin.

TinyDB's stock JSONStorage rewrites its file in place: a process killed mid-write
leaves it truncated. ``AtomicJSONStorage`` writes the whole database to a temp file
in the same folder, fsyncs it, ``os.replace``s it over the old one and fsyncs the
folder, so after a crash the file is either the old version or the new one.

Both storages keep the parsed data in memory (TinyDB reads the storage on every
query) and offer ``batch()``: the writes inside it reach the disk as one atomic
file write when it ends, or not at all if it raises. That is how several changes
(a page of reference data and its cursor) become durable together.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tinydb.storages import MemoryStorage as _TinyMemoryStorage
from tinydb.storages import Storage

from xuncha_core.errors import IntegrityError

TEMP_SUFFIX = ".tmp"

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


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new content, never a mix."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def is_temp_file(path: Path) -> bool:
    """True for a temp file that ``atomic_write_bytes`` left behind when it was killed."""
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX)


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
            atomic_write_bytes(self.path, encode(self._data or {}))
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
