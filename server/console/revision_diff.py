"""What changed between two revisions of a record: each field that was added, removed or changed.

Content is flattened to dotted paths (``deductions.2.count``), so a reviewer reads one
line per changed value, in the order the fields appear, rather than two JSON documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added, removed, changed
    before: Any
    after: Any


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of ``value`` by its dotted path; an empty list or object is a leaf."""
    out: dict[str, Any] = {}
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        children: list[tuple[str, Any]] = []
        if isinstance(item, Mapping) and item:
            children = [(f"{path}.{k}" if path else str(k), v) for k, v in item.items()]
        elif isinstance(item, list) and item:
            children = [(f"{path}.{i}" if path else str(i), v) for i, v in enumerate(item)]
        else:
            out[path] = item
        stack.extend(reversed(children))
    return out


def diff(before: Any, after: Any) -> list[Change]:
    """The changes from ``before`` to ``after``: the paths of ``after`` in order, then removed ones."""
    old, new = flatten(before), flatten(after)
    changes = []
    for path, value in new.items():
        if path not in old:
            changes.append(Change(path, ADDED, None, value))
        elif old[path] != value or type(old[path]) is not type(value):
            changes.append(Change(path, CHANGED, old[path], value))
    changes += [Change(path, REMOVED, value, None) for path, value in old.items() if path not in new]
    return changes


def envelope_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """The changes a new revision made to the content and photos (not its own bookkeeping)."""
    return diff(
        {"content": before.get("content"), "photos": before.get("photos")},
        {"content": after.get("content"), "photos": after.get("photos")},
    )
