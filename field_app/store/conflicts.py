"""Conflicts: the server holds another version of a record she submitted.

The server's version is kept beside her outbox revision until she chooses:
keep_mine sends her content again as the server's head + 1 (its base named by
the digest of the server's version she saw), take_server keeps the server's.
Either way both versions go to ``conflicts.json`` first, so a kill before the
outbox write is finished at start (``is_unfinished``).
"""

from __future__ import annotations

from typing import Any

from field_app.store.history import HistoryBook
from field_app.store.inputs import StoreError, copy_json, invalid, now_iso
from field_app.store.store_file import StoreFile
from field_app.store.work import DRAFTS, ITEMS, WorkItems, item_key
from xuncha_core.records import envelope_digest

CHOICES = ("keep_mine", "take_server")
ARCHIVE = "archive"


class ConflictDesk:
    """Conflict bookkeeping over the archive file and the work in hand; callers hold the store lock."""

    def __init__(self, archive: StoreFile, work: WorkItems, history: HistoryBook) -> None:
        self.file = archive
        self._work = work
        self._history = history

    def record(self, record_id: str, revision: int, server_envelope: Any) -> None:
        """Keep the server's version beside the local revision, which stays in the outbox."""
        server_envelope = copy_json(server_envelope, "server_envelope")
        head = server_envelope.get("revision") if isinstance(server_envelope, dict) else None
        if not isinstance(head, int) or server_envelope.get("record_id") != record_id:
            raise invalid("server_envelope", "store.bad_server_envelope", "the server's envelope of this record is needed")
        item = self._work.item(record_id, revision)
        self._work.replace({**item, "state": "conflict", "server_envelope": server_envelope})

    def resolve(self, record_id: str, choice: str) -> dict[str, Any] | None:
        """keep_mine: her content goes out again as server head + 1; take_server: the server's stays.

        Either way the losing version is kept in the conflicts archive. Returns the new
        outbox item for keep_mine, None for take_server.
        """
        if choice not in CHOICES:
            raise invalid("choice", "store.bad_choice", "choose keep_mine or take_server")
        items = [i for i in self._work.outbox() if i["record_id"] == record_id]
        conflicted = [i for i in items if i["state"] == "conflict"]
        if not conflicted:
            raise StoreError("store.no_conflict", f"record {record_id} has no conflict to resolve")
        server = conflicted[0]["server_envelope"]
        head = int(server["revision"])
        new_envelope = None
        if choice == "keep_mine":
            new_envelope = {
                **items[-1]["envelope"],
                "revision": head + 1,
                "base_revision": head,
                "base_digest": envelope_digest(server),
                "device_time": now_iso(),
            }
        resolution = {
            "record_id": record_id,
            "choice": choice,
            "local": items,
            "local_keys": [item_key(i["record_id"], i["revision"]) for i in items],
            "server_envelope": server,
            "new_envelope": new_envelope,
        }
        self.file.put(ARCHIVE, f"{record_id}#{conflicted[0]['seq']}", resolution)
        return self.finish(resolution)

    def finish(self, resolution: dict[str, Any]) -> dict[str, Any] | None:
        """Store the server's version, rebase her newer draft and replace the outbox items."""
        record_id, server = resolution["record_id"], resolution["server_envelope"]
        new_envelope = resolution["new_envelope"]
        new_head = int((new_envelope or server)["revision"])
        # Her newer draft goes on top of the head she now has, named by its digest.
        on_head = {"revision": new_head + 1, "base_revision": new_head, "base_digest": envelope_digest(new_envelope or server)}
        self._history.store_revision(server, None, source="server")
        work = self._work.file
        with work.batch():
            draft = work.get(DRAFTS, record_id)
            if draft is not None and draft["revision"] <= new_head:
                work.put(DRAFTS, record_id, {**draft, **on_head})
            for key in resolution["local_keys"]:
                work.delete(ITEMS, key)
            if new_envelope is not None:
                return self._work.enqueue(new_envelope, resolution["local"][-1].get("local") or {})
        return None

    def is_unfinished(self, resolution: dict[str, Any]) -> bool:
        """True for an archived resolution whose outbox write a kill prevented."""
        return any(self._work.file.has(ITEMS, k) for k in resolution["local_keys"])

    def archive(self) -> list[dict[str, Any]]:
        return self.file.values(ARCHIVE)
