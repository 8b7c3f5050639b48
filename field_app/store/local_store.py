"""The field app's local store: nothing the user saved is lost, nothing is kept twice.

Files (in the store folder, each replaced atomically on every write):

    settings.json      server address, device token, user, language, last sync
    work.json          the drafts being edited and the outbox (work.py): small, so one
                       file, and submitting is one atomic write
    history/YYYY-MM.json  revisions the server accepted, with their receipts (history.py)
    history_index/YYYY-MM.json  a summary of each accepted record for the history list
                       (history_index.py); rebuilt from the month files when stale
    reviews.json       review decisions that arrived before their record's receipt
    conflicts.json     every conflict resolution, with the local and server versions (conflicts.py)
    reference.json     villages, scoring sheets, cleaners… and the pull cursor
    photo_meta/ab.json photo metadata and upload progress, sharded by hash

``LocalStore`` is the one facade the screens and the sync code use; each part
above owns its concept. A change that touches two files writes them in an order
that makes a kill in between harmless, and the start-up reconciliation finishes
or undoes it: a receipt is stored in history before its revision leaves the
outbox (an outbox revision with a stored receipt is dropped at start); a
conflict resolution is written to the archive first and finished at start if the
kill came before its outbox write. One lock serialises every read and write.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from field_app.store.conflicts import CHOICES, ConflictDesk
from field_app.store.history import REVIEW_STATES, HistoryBook
from field_app.store.history_query import HistoryQuery
from field_app.store.inputs import StoreError, copy_json, invalid, now_iso
from field_app.store.locked import under_lock
from field_app.store.photo_index import PhotoIndex, check_sha
from field_app.store.recovery import RecoveryReport, remove_temp_files
from field_app.store.reference import ReferenceCache, check_changes
from field_app.store.sendable import photos_owed
from field_app.store.store_file import Shelf
from field_app.store.work import OUTBOX_STATES, WorkItems, check_draft
from xuncha_core.durable import private_folder
from xuncha_core.errors import ConflictError
from xuncha_core.records import envelope_digest

__all__ = ["CHOICES", "OUTBOX_STATES", "LocalStore", "StoreError"]

SETTINGS, PENDING = "settings", "pending"


class LocalStore:
    """The phone's store. ``LocalStore(folder)`` on disk; ``LocalStore(None)`` in memory."""

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._lock = threading.RLock()
        self.recovery_report = RecoveryReport()
        if self.folder is not None:
            private_folder(self.folder)
            remove_temp_files(self.folder, self.recovery_report)
        shelf = Shelf(self.folder, self.recovery_report)
        self._settings = shelf.open("settings.json")
        self._reviews = shelf.open("reviews.json")
        self._reference = ReferenceCache(shelf)
        self._history = HistoryBook(shelf)
        self._work = WorkItems(shelf.open("work.json"), self._history)
        self._conflicts = ConflictDesk(shelf.open("conflicts.json"), self._work, self._history)
        self._query = HistoryQuery(self._work, self._history, lambda: self._reference.topic("village"))
        self._photos = PhotoIndex(shelf)
        with self._lock:
            self._reconcile()

    def close(self) -> None:
        with self._lock:
            for f in (self._settings, self._work.file, self._reviews, self._conflicts.file):
                f.close()
            self._reference.close()
            self._history.close()
            self._photos.close()

    # start-up

    def _reconcile(self) -> None:
        notes = self.recovery_report.reconciled
        notes += self._history.remove_duplicates()
        for resolution in self._conflicts.archive():
            if self._conflicts.is_unfinished(resolution):
                self._conflicts.finish(resolution)
                notes.append(f"finished resolving the conflict on record {resolution['record_id']}")
        notes += self._work.name_bases_by_digest()
        for item in self._work.outbox():
            if self._receipted(item["record_id"], item["revision"]):
                self._work.remove(item["record_id"], item["revision"])
                notes.append(f"record {item['record_id']} revision {item['revision']} had its receipt; left the outbox")
            elif item["state"] == "sending":
                self._work.replace({**item, "state": "waiting"})
        for draft in self._work.list_drafts():
            if self._work.submitted(draft["record_id"], draft["revision"]):
                self._work.discard_draft(draft["record_id"])
                notes.append(
                    f"draft of record {draft['record_id']} revision {draft['revision']} was already submitted; "
                    "kept the submitted copy"
                )
        for record_id, reviews in self._reviews.items(PENDING):
            if self._history.add_reviews(record_id, reviews):
                self._reviews.delete(PENDING, record_id)

    def _receipted(self, record_id: str, revision: int) -> bool:
        entry = self._history.get(record_id) if self._history.has_revision(record_id, revision) else None
        return entry is not None and entry["revisions"][str(revision)].get("receipt") is not None

    # settings

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._settings.get(SETTINGS, key, default)

    def set_setting(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key:
            raise invalid("key", "store.bad_key", "a setting needs a non-empty name")
        value = copy_json(value, "value")
        with self._lock:
            self._settings.put(SETTINGS, key, value)

    # drafts

    def save_draft(self, draft: dict[str, Any]) -> dict[str, Any]:
        """Store the draft durably (one small file write) and return the stored copy."""
        draft = check_draft(draft)
        with self._lock:
            return self._work.save_draft(draft)

    get_draft = under_lock("_work", WorkItems.get_draft)
    list_drafts = under_lock("_work", WorkItems.list_drafts)
    discard_draft = under_lock("_work", WorkItems.discard_draft)

    def edit_record(self, record_id: str) -> dict[str, Any]:
        """The record's draft, or a new one: the latest revision's content as revision + 1,
        naming that revision as its base by number and by digest (as this phone holds it)."""
        with self._lock:
            current = self.get_record(record_id)
            if current is None:
                raise StoreError("store.unknown_record", f"there is no record {record_id} on this phone")
            if current["state"] == "draft":
                return self._work.get_draft(record_id)  # type: ignore[return-value]
            if current["state"] == "conflict":
                raise ConflictError("store.conflict_pending", "resolve the conflict on this record first")
            envelope = current["envelope"]
            draft = {
                "record_id": record_id,
                "kind": envelope.get("kind"),
                "revision": current["revision"] + 1,
                "base_revision": current["revision"],
                "base_digest": envelope_digest(envelope),
                "content": envelope.get("content") or {},
                "photos": list(envelope.get("photos") or []),
                "updated_at": now_iso(),
            }
            return self.save_draft(draft)

    # outbox

    submit = under_lock("_work", WorkItems.submit)
    outbox = under_lock("_work", WorkItems.outbox)
    set_outbox_state = under_lock("_work", WorkItems.set_state)

    def record_receipt(self, record_id: str, revision: int, receipt: dict[str, Any]) -> None:
        """Store the server's receipt in history, then let the revision leave the outbox."""
        self.record_receipts([(record_id, revision, receipt)])

    def record_receipts(self, receipts: list[tuple[str, int, dict[str, Any]]]) -> None:
        """``record_receipt`` for a batch of (record_id, revision, receipt), with the same order:
        every receipt is stored in history (one atomic write per month file) before the
        revisions leave the outbox together in ONE write of work.json. A kill in between leaves
        them in the outbox with their receipts stored; opening the store drops them from the outbox.

        The batch is not one atomic step, and need not be: a kill part-way through the month
        files leaves the receipts of some months stored (those revisions leave the outbox at
        open) and the others' revisions in the outbox untouched, to be sent again (the server
        answers an identical replay with the same receipt). Receipts going to the same month
        file land together. Each receipt stands alone, exactly as with ``record_receipt`` one at
        a time: nothing is lost and no revision is ever both in the outbox and in history.
        Nothing is written if any revision is neither in the outbox nor in history."""
        checked = []
        for record_id, revision, receipt in receipts:
            receipt = copy_json(receipt, "receipt")
            if not isinstance(receipt, dict):
                raise invalid("receipt", "store.bad_receipt", "a receipt must be an object")
            checked.append((record_id, int(revision), receipt))
        with self._lock:
            outbox = {(i["record_id"], i["revision"]): i for i in self._work.raw_outbox()}
            pairs, leaving = [], []
            for record_id, revision, receipt in checked:
                item = outbox.get((record_id, revision))
                if item is not None:
                    pairs.append((copy_json(item["envelope"], "envelope"), receipt))
                    leaving.append((record_id, revision))
                elif self._history.has_revision(record_id, revision):
                    envelope = (self._history.get(record_id) or {})["revisions"][str(revision)]["envelope"]
                    pairs.append((envelope, receipt))
                else:
                    self._work.item(record_id, revision)  # raises store.not_in_outbox
            self._history.store_revisions(pairs)
            for record_id in dict.fromkeys(rid for rid, _ in leaving):
                pending = self._reviews.get(PENDING, record_id)
                if pending and self._history.add_reviews(record_id, pending):
                    self._reviews.delete(PENDING, record_id)
            self._work.remove_many(leaving)

    # conflicts

    record_conflict = under_lock("_conflicts", ConflictDesk.record)
    resolve_conflict = under_lock("_conflicts", ConflictDesk.resolve)
    conflicts_archive = under_lock("_conflicts", ConflictDesk.archive)

    # history and reviews

    history = under_lock("_query", HistoryQuery.history)
    get_record = under_lock("_query", HistoryQuery.get_record)

    def accepted_revisions(self, record_id: str) -> dict[int, dict[str, Any]]:
        """Every revision of the record the server accepted: {revision: {envelope, receipt, source}}."""
        with self._lock:
            entry = self._history.get(record_id) or {"revisions": {}}
            return {int(rev): item for rev, item in entry["revisions"].items()}

    def apply_review(
        self, record_id: str, revision: int, action: str, reason: str | None = None, **detail: Any
    ) -> None:
        """Record a review decision (approve, send_back, reject) on one of her records; idempotent."""
        if action not in REVIEW_STATES:
            raise invalid("action", "review.bad_action", f"action must be one of {', '.join(REVIEW_STATES)}")
        review = copy_json({**detail, "revision": revision, "action": action, "reason": reason}, "review")
        with self._lock:
            if self._history.add_reviews(record_id, [review]):
                return
            pending = self._reviews.get(PENDING, record_id, [])
            if review not in pending:
                self._reviews.put(PENDING, record_id, [*pending, review])

    def import_history(self, pairs: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
        """Store accepted revisions in bulk (restoring a phone), one write per month."""
        pairs = [(copy_json(e, "envelope"), copy_json(r, "receipt")) for e, r in pairs]
        with self._lock:
            return self._history.import_entries(pairs)

    def rebuild_history_index(self) -> int:
        """Rebuild the history index from every month file (slow: reads them all); returns
        how many records it holds. Opening the store already rebuilds what is stale."""
        with self._lock:
            n = self._history.rebuild_index()
            self.recovery_report.reconciled.extend(self._history.remove_duplicates())
            return n

    # reference data

    def apply_changes(self, changes: list[dict[str, Any]], next_cursor: int) -> None:
        """Store one pulled page and the cursor after it in one write; review rows update records."""
        changes = check_changes(copy_json(changes, "changes"), next_cursor)
        with self._lock:
            for change in changes:
                payload = change.get("payload") or {}
                if change["topic"] == "review" and not change.get("deleted") and payload.get("record_id"):
                    detail = {k: v for k, v in payload.items() if k not in ("record_id", "revision", "action", "reason")}
                    self.apply_review(payload["record_id"], payload["revision"], payload["action"], payload.get("reason"), **detail)
            self._reference.apply([c for c in changes if c["topic"] != "review"], next_cursor)

    reference = under_lock("_reference", ReferenceCache.topic)
    cursor = under_lock("_reference", ReferenceCache.cursor)

    # photos

    def add_photo(self, meta: dict[str, Any]) -> dict[str, Any]:
        meta = copy_json(meta, "meta")
        with self._lock:
            return self._photos.put(meta)

    photo = under_lock("_photos", PhotoIndex.get)

    def set_photo_progress(self, sha256: str, offset: int, length: int | None = None) -> None:
        if not isinstance(offset, int) or offset < 0:
            raise invalid("offset", "photo.bad_offset", "offset must be an integer ≥ 0")
        fields: dict[str, Any] = {"sha256": check_sha(sha256), "offset": offset}
        if length is not None:
            fields["length"] = length
        with self._lock:
            self._photos.put(fields)

    def mark_photo_uploaded(self, sha256: str, receipt: dict[str, Any] | None = None) -> None:
        self.mark_photos_uploaded([sha256], {sha256: receipt})

    def mark_photos_uploaded(self, shas: list[str], receipts: dict[str, Any] | None = None) -> None:
        """``mark_photo_uploaded`` for many photos (receipts by hash, optional): one write per
        metadata shard file touched. Each mark stands alone (the server holds that photo), so
        a kill part-way leaves some marked and the next pass finds the rest already there."""
        receipts = receipts or {}
        metas = [
            {"sha256": check_sha(sha), "uploaded": True, "upload_receipt": copy_json(receipts.get(sha), "receipt")}
            for sha in shas
        ]
        with self._lock:
            self._photos.put_many(metas)

    def photos_pending(self) -> list[dict[str, Any]]:
        """Photos the server still needs (``sendable.photos_owed``)."""
        with self._lock:
            return photos_owed(self._work.raw_outbox(), self._history.owed_photos(), self._photos.get)

    # home screen

    def record_sync_success(self, at: str) -> None:
        self.set_setting("last_sync_at", at)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            items = self._work.raw_outbox()
            return {
                "outbox": len(items),
                "drafts": self._work.draft_count(),
                "conflicts": sum(1 for i in items if i["state"] == "conflict"),
                "errors": sum(1 for i in items if i["state"] in ("error", "refused")),
                "photos_pending": len(self.photos_pending()),
                "history": len(self._history),
                "last_sync_at": self._settings.get(SETTINGS, "last_sync_at"),
            }
