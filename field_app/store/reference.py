"""Reference data cached from the server's pull feed (villages, scoring sheets, cleaners, …).

One file holds every topic and the pull cursor, so a page of changes and the
cursor after it are stored in one atomic write: a kill between pages re-fetches
at most one page, and applying a page twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from field_app.store.store_file import Shelf
from xuncha_core.errors import Problem, ValidationError

CURSOR_TABLE = "_cursor"


def check_changes(changes: Any, next_cursor: Any) -> list[dict[str, Any]]:
    """The page as given, or ValidationError naming each malformed change."""
    problems: list[Problem] = []
    if not isinstance(changes, list):
        problems.append(Problem("changes", "changes.not_list", "changes must be a list"))
        changes = []
    for i, change in enumerate(changes):
        if not isinstance(change, dict):
            problems.append(Problem(f"changes.{i}", "changes.not_object", "each change must be an object"))
            continue
        topic, key = change.get("topic"), change.get("key")
        if not isinstance(topic, str) or not topic or topic.startswith("_"):
            problems.append(Problem(f"changes.{i}.topic", "changes.bad_topic", "topic must be a name such as village"))
        if not isinstance(key, str) or not key:
            problems.append(Problem(f"changes.{i}.key", "changes.bad_key", "key must be a non-empty string"))
    if not isinstance(next_cursor, int) or isinstance(next_cursor, bool) or next_cursor < 0:
        problems.append(Problem("next_cursor", "changes.bad_cursor", "next_cursor must be an integer ≥ 0"))
    if problems:
        raise ValidationError.of(problems, code="changes.invalid")
    return changes


class ReferenceCache:
    """Topics of keyed payloads plus the pull cursor, in one file; callers hold the store lock."""

    def __init__(self, shelf: Shelf) -> None:
        self._file = shelf.open("reference.json")

    def apply(self, changes: list[dict[str, Any]], next_cursor: int) -> None:
        """Store a page (tombstones delete) and the cursor after it, all in one atomic write."""
        with self._file.batch():
            for change in changes:
                if change.get("deleted"):
                    self._file.delete(change["topic"], change["key"])
                else:
                    self._file.put(change["topic"], change["key"], change.get("payload"))
            self._file.put(CURSOR_TABLE, "cursor", next_cursor)

    def topic(self, topic: str) -> dict[str, Any]:
        return dict(self._file.items(topic))

    def cursor(self) -> int:
        return int(self._file.get(CURSOR_TABLE, "cursor", 0))

    def close(self) -> None:
        self._file.close()
