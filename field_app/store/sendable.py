"""What sync sends next: the one place that decides it.

A revision is sendable while it is ``waiting`` (or was ``sending`` when the phone stopped);
revisions go in the order they were saved, at most one per record per batch, and one
whose earlier revision is stuck (a conflict, a refusal) waits behind it. Photos are owed
while an outbox revision names them or a receipt listed them as missing, until the
server confirms it holds them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from xuncha_core.canonical import canonical_bytes

SENDABLE = ("waiting", "sending")


def sendable_count(outbox: Iterable[dict[str, Any]]) -> int:
    return sum(1 for item in outbox if item["state"] in SENDABLE)


def next_batch(
    outbox: Iterable[dict[str, Any]],
    *,
    settled: Collection[tuple[str, int]],
    max_items: int,
    max_bytes: int,
) -> list[dict[str, Any]]:
    """Up to ``max_items`` sendable revisions in save order, at most ``max_bytes`` of
    canonical JSON (but always one), skipping those ``settled`` in this pass; a revision
    whose earlier revision is stuck (conflict, refused) waits behind it."""
    batch: list[dict[str, Any]] = []
    blocked: set[str] = set()
    size = 0
    for item in outbox:
        rid = item["record_id"]
        if (rid, item["revision"]) in settled:
            continue  # answered in this pass; its receipt is on its way to the store
        if item["state"] not in SENDABLE:
            blocked.add(rid)
        elif rid not in blocked:
            size += len(canonical_bytes(item["envelope"])) + 1
            if batch and size > max_bytes:
                break  # it leads the next batch
            batch.append(item)
            if len(batch) == max_items:
                break
    return batch


def photos_owed(
    outbox: Iterable[dict[str, Any]],
    owed_by_receipts: Iterable[str],
    meta: Callable[[str], dict[str, Any] | None],
) -> list[dict[str, Any]]:
    """The metadata of every photo the server still needs: named by an outbox revision
    (in outbox order) or owed by a receipt, and not yet confirmed uploaded."""
    wanted: dict[str, None] = {}
    for item in outbox:
        wanted.update(dict.fromkeys(item["envelope"].get("photos") or []))
    wanted.update(dict.fromkeys(sorted(owed_by_receipts)))
    pending = []
    for sha in wanted:
        known = meta(sha) or {"sha256": sha, "uploaded": False, "offset": 0}
        if not known.get("uploaded"):
            pending.append(known)
    return pending
