"""What the store does at start before it trusts its files, and the report it gives the user.

Atomic writes mean a kill never leaves a half-written store file; but a kill can
leave a temp file behind, and a flash card, a full disk or a hand edit can still
damage a file. At start the store therefore removes leftover temp files, and
for each damaged file (found when the file is first opened) moves it aside to ``<name>.corrupt-<timestamp>`` (never
deleting evidence), salvages every complete document it still contains into a
fresh file, and lists all of that in a ``RecoveryReport`` the app shows the user.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from field_app.store.atomic_storage import CorruptStoreFile, Tables, decode, encode
from xuncha_core.durable import fsync_folder, is_temp_file, replace_file


@dataclass(frozen=True)
class MovedFile:
    """A damaged store file: where it went, why, and how many documents were saved from it."""

    file: str
    moved_to: str
    reason: str
    recovered: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "moved_to": self.moved_to,
            "reason": self.reason,
            "recovered": self.recovered,
        }


@dataclass
class RecoveryReport:
    """What the store repaired at start. ``ok`` is True when there is nothing to tell the user.

    ``reindexed`` names history index shards rebuilt from their month files (after
    a kill between a month write and its index write, or a damaged index): derived
    data, so nothing was lost and ``ok`` stays True.
    """

    moved: list[MovedFile] = field(default_factory=list)
    temp_files_removed: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    reindexed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.moved

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "moved": [m.as_dict() for m in self.moved],
            "temp_files_removed": list(self.temp_files_removed),
            "reconciled": list(self.reconciled),
            "reindexed": list(self.reindexed),
        }


def remove_temp_files(root: Path, report: RecoveryReport) -> None:
    """Delete the temp files that writes killed midway left under ``root``, recording each."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and is_temp_file(path):
            path.unlink(missing_ok=True)
            report.temp_files_removed.append(str(path.relative_to(root)))
            fsync_folder(path.parent)


def check_file(path: Path, *, root: Path) -> MovedFile | None:
    """Leave a sound file alone; move a damaged one aside and rewrite what can be salvaged."""
    raw = path.read_bytes()
    try:
        decode(raw, name=path.name)
        return None
    except CorruptStoreFile as exc:
        reason = exc.message
    if not raw:
        reason = f"{path.name} is empty"
    salvaged = salvage(raw)
    aside = _aside_name(path)
    os.replace(path, aside)
    fsync_folder(path.parent)
    count = sum(len(docs) for docs in salvaged.values())
    if count:
        replace_file(path, encode(salvaged))
    return MovedFile(
        file=str(path.relative_to(root)),
        moved_to=str(aside.relative_to(root)),
        reason=reason,
        recovered=count,
    )


def salvage(raw: bytes) -> Tables:
    """Every complete document that can be read from a damaged TinyDB file, table by table.

    Reads the ``{"table": {"id": {...}, ...}, ...}`` layout as far as it is intact;
    at a damaged document it skips ahead to the next ``"<id>": {`` and goes on, so a
    truncated file keeps everything before the cut and a garbled one everything
    around the damage.
    """
    text = raw.decode("utf-8", errors="replace")
    scanner = _Scanner(text)
    tables: Tables = {}
    if not scanner.expect("{"):
        return tables
    while True:
        name = scanner.string()
        if name is None or not scanner.expect(":") or not scanner.expect("{"):
            return tables
        docs = tables.setdefault(name, {})
        while True:
            if scanner.expect("}"):
                break
            start = scanner.pos
            doc_id = scanner.string()
            doc = scanner.value() if doc_id is not None and scanner.expect(":") else None
            if isinstance(doc, dict) and doc_id is not None and doc_id.isdigit():
                docs[doc_id] = doc
                scanner.expect(",")
                continue
            if not scanner.resync(start + 1):
                return tables
        if not scanner.expect(","):
            return tables


class _Scanner:
    """A forgiving cursor over damaged JSON text, built on the standard decoder."""

    _decoder = json.JSONDecoder()

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def expect(self, char: str) -> bool:
        self._skip_space()
        if self.text.startswith(char, self.pos):
            self.pos += 1
            return True
        return False

    def value(self) -> Any:
        self._skip_space()
        try:
            value, end = self._decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError:
            return None
        self.pos = end
        return value

    def string(self) -> str | None:
        self._skip_space()
        if not self.text.startswith('"', self.pos):
            return None
        value = self.value()
        return value if isinstance(value, str) else None

    def resync(self, start: int) -> bool:
        """Move to the next place that looks like the start of a document; False if none."""
        i = start
        while True:
            i = self.text.find('"', i)
            if i < 0:
                return False
            j = i + 1
            while j < len(self.text) and self.text[j].isdigit():
                j += 1
            if j > i + 1 and self.text.startswith('":', j):
                k = j + 2
                while k < len(self.text) and self.text[k] in " \t\r\n":
                    k += 1
                if self.text.startswith("{", k):
                    self.pos = i
                    return True
            i += 1


def _aside_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    return aside
