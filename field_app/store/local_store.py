"""The field app's local store: nothing the user saved is lost, nothing is kept twice.

Files (in the store folder, each replaced atomically on every write):

    settings.json      server address, device token, user, language, last sync
    work.json          the drafts being edited (one per record) and the outbox: submitted
                       revisions waiting to be sent, with their state and a local
                       sequence number (the order; never the device clock). Both are
                       small, so one file: submitting is one atomic write.
    history/YYYY-MM.json  revisions the server accepted, with their receipts
    reviews.json       review decisions that arrived before their record's receipt
    conflicts.json     every conflict resolution, with the local and server versions
    reference.json     villages, scoring sheets, cleaners… and the pull cursor
    photo_meta/ab.json photo metadata and upload progress, sharded by hash

A change that touches two files writes them in an order that makes a kill in
between harmless, and the start-up reconciliation finishes or undoes it:
a receipt is stored in history before its revision leaves
the outbox (an outbox revision with a stored receipt is dropped at start); a
conflict resolution is written to the archive first and finished at start if the
kill came before its outbox write. One lock serialises every read and write.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from field_app.store import record_views
from field_app.store.history import REVIEW_STATES, HistoryBook
from field_app.store.photo_index import PhotoIndex, check_sha
from field_app.store.recovery import RecoveryReport, remove_temp_files
from field_app.store.reference import ReferenceCache, check_changes
from field_app.store.store_file import Shelf, plain
from xuncha_core.errors import ConflictError, Problem, ValidationError, XunchaError
from xuncha_core.records import ENVELOPE_FIELDS, parse_record

OUTBOX_STATES = ("waiting", "sending", "conflict", "error", "refused")
CHOICES = ("keep_mine", "take_server")

ITEMS, COUNTER, DRAFTS, SETTINGS, PENDING, ARCHIVE = (
    "items", "counter", "drafts", "settings", "pending", "archive"
)  # fmt: skip


class StoreError(XunchaError):
    """The store was asked about something it does not hold (codes ``store.*``)."""


def _key(record_id: str, revision: int) -> str:
    return f"{record_id}#{revision}"


def _invalid(path: str, code: str, message: str) -> ValidationError:
    return ValidationError.of([Problem(path, code, message)], code=code)


def _copy(value: Any, what: str) -> Any:
    try:
        return plain(value)
    except (TypeError, ValueError) as exc:
        raise _invalid(what, "store.not_json", f"{what} must be plain JSON data ({exc})") from exc


class LocalStore:
    """The phone's store. ``LocalStore(folder)`` on disk; ``LocalStore(None)`` in memory."""

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._lock = threading.RLock()
        self.recovery_report = RecoveryReport()
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            remove_temp_files(self.folder, self.recovery_report)
        shelf = Shelf(self.folder, self.recovery_report)
        self._settings = shelf.open("settings.json")
        self._work = shelf.open("work.json")
        self._reviews = shelf.open("reviews.json")
        self._conflicts = shelf.open("conflicts.json")
        self._reference = ReferenceCache(shelf)
        self._history = HistoryBook(shelf)
        self._photos = PhotoIndex(shelf)
        with self._lock:
            self._reconcile()

    def close(self) -> None:
        with self._lock:
            for f in (self._settings, self._work, self._reviews, self._conflicts):
                f.close()
            self._reference.close()
            self._history.close()
            self._photos.close()

    # start-up

    def _reconcile(self) -> None:
        notes = self.recovery_report.reconciled
        notes += self._history.remove_duplicates()
        for resolution in self._conflicts.values(ARCHIVE):
            if any(self._work.has(ITEMS, k) for k in resolution["local_keys"]):
                self._finish_resolution(resolution)
                notes.append(f"finished resolving the conflict on record {resolution['record_id']}")
        for key, item in self._work.items(ITEMS):
            if self._receipted(item["record_id"], item["revision"]):
                self._work.delete(ITEMS, key)
                notes.append(f"record {item['record_id']} revision {item['revision']} had its receipt; left the outbox")
            elif item["state"] == "sending":
                self._work.put(ITEMS, key, {**item, "state": "waiting"})
        for record_id, draft in self._work.items(DRAFTS):
            if self._submitted(record_id, draft["revision"]):
                self._work.delete(DRAFTS, record_id)
                notes.append(f"draft of record {record_id} revision {draft['revision']} was already submitted; kept the submitted copy")
        for record_id, reviews in self._reviews.items(PENDING):
            if self._history.add_reviews(record_id, reviews):
                self._reviews.delete(PENDING, record_id)

    def _receipted(self, record_id: str, revision: int) -> bool:
        entry = self._history.get(record_id) if self._history.has_revision(record_id, revision) else None
        return entry is not None and entry["revisions"][str(revision)].get("receipt") is not None

    def _submitted(self, record_id: str, revision: int) -> bool:
        return self._work.has(ITEMS, _key(record_id, revision)) or self._history.has_revision(record_id, revision)

    # settings

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._settings.get(SETTINGS, key, default)

    def set_setting(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key:
            raise _invalid("key", "store.bad_key", "a setting needs a non-empty name")
        value = _copy(value, "value")
        with self._lock:
            self._settings.put(SETTINGS, key, value)

    # drafts

    def save_draft(self, draft: dict[str, Any]) -> dict[str, Any]:
        """Store the draft durably (one small file write) and return the stored copy."""
        draft = _copy(draft, "draft")
        problems = []
        if not isinstance(draft, dict):
            raise _invalid("", "draft.not_object", "a draft must be an object")
        if not isinstance(draft.get("record_id"), str) or not draft["record_id"]:
            problems.append(Problem("record_id", "draft.bad_id", "a draft needs its record_id"))
        revision = draft.get("revision")
        if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
            problems.append(Problem("revision", "draft.bad_revision", "revision must be an integer ≥ 1"))
        if not isinstance(draft.get("content", {}), dict):
            problems.append(Problem("content", "draft.bad_content", "content must be an object"))
        if problems:
            raise ValidationError.of(problems, code="draft.invalid")
        with self._lock:
            if self._submitted(draft["record_id"], revision):  # type: ignore[arg-type]
                raise ConflictError(
                    "store.already_submitted",
                    f"revision {revision} of record {draft['record_id']} is already submitted; "
                    "edit the record to start a new revision",
                )
            self._work.put(DRAFTS, draft["record_id"], draft)
        return draft

    def get_draft(self, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._work.get(DRAFTS, record_id)

    def list_drafts(self) -> list[dict[str, Any]]:
        with self._lock:
            return self._work.values(DRAFTS)

    def discard_draft(self, record_id: str) -> bool:
        with self._lock:
            return self._work.delete(DRAFTS, record_id)

    def edit_record(self, record_id: str) -> dict[str, Any]:
        """The record's draft, or a new one: the latest revision's content as revision + 1."""
        with self._lock:
            current = self.get_record(record_id)
            if current is None:
                raise StoreError("store.unknown_record", f"there is no record {record_id} on this phone")
            if current["state"] == "draft":
                return self._work.get(DRAFTS, record_id)
            if current["state"] == "conflict":
                raise ConflictError("store.conflict_pending", "resolve the conflict on this record first")
            envelope = current["envelope"]
            draft = {
                "record_id": record_id,
                "kind": envelope.get("kind"),
                "revision": current["revision"] + 1,
                "base_revision": current["revision"],
                "content": envelope.get("content") or {},
                "photos": list(envelope.get("photos") or []),
                "updated_at": _now(),
            }
            return self.save_draft(draft)

    # outbox

    def submit(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """Put the revision in the outbox, durably, then drop its draft; return the outbox item.

        Submitting the same revision again is harmless (None if it was already sent);
        different content under a submitted revision number is a ConflictError.
        """
        if not isinstance(envelope, dict):
            raise _invalid("", "record.not_object", "a record must be a JSON object")
        local = _copy({k: v for k, v in envelope.items() if k not in ENVELOPE_FIELDS}, "envelope")
        record = parse_record({k: envelope[k] for k in ENVELOPE_FIELDS if k in envelope})
        env = _copy(record.as_dict(), "envelope")
        rid, rev = record.record_id, record.revision
        with self._lock:
            key = _key(rid, rev)
            existing = self._work.get(ITEMS, key)
            if existing is None and self._history.has_revision(rid, rev):
                existing = (self._history.get(rid) or {})["revisions"][str(rev)]
                if existing["envelope"] != env:
                    raise _revision_exists(rid, rev)
                self._drop_draft(rid, rev)
                return None
            if existing is not None and existing["envelope"] != env:
                raise _revision_exists(rid, rev)
            with self._work.batch():  # the outbox item and the draft's removal: one atomic write
                if existing is None:
                    existing = self._enqueue(env, local)
                self._drop_draft(rid, rev)
            return existing

    def _enqueue(self, envelope: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
        with self._work.batch():
            seq = int(self._work.get(COUNTER, "seq", 0)) + 1
            item = {
                "seq": seq,
                "record_id": envelope["record_id"],
                "revision": envelope["revision"],
                "envelope": envelope,
                "state": "waiting",
                "error": None,
                "server_envelope": None,
                "local": local,
            }
            self._work.put(COUNTER, "seq", seq)
            self._work.put(ITEMS, _key(envelope["record_id"], envelope["revision"]), item)
        return item

    def _drop_draft(self, record_id: str, revision: int) -> None:
        draft = self._work.get(DRAFTS, record_id)
        if draft is not None and draft.get("revision") == revision:
            self._work.delete(DRAFTS, record_id)

    def outbox(self) -> list[dict[str, Any]]:
        """Revisions waiting to be sent, in the order they were submitted on this phone."""
        with self._lock:
            return sorted(self._work.values(ITEMS), key=lambda item: item["seq"])

    def _item(self, record_id: str, revision: int) -> dict[str, Any]:
        item = self._work.get(ITEMS, _key(record_id, revision))
        if item is None:
            raise StoreError(
                "store.not_in_outbox", f"revision {revision} of record {record_id} is not in the outbox"
            )
        return item

    def set_outbox_state(self, record_id: str, revision: int, state: str, error: Any = None) -> None:
        if state not in OUTBOX_STATES:
            raise _invalid("state", "store.bad_state", f"state must be one of {', '.join(OUTBOX_STATES)}")
        error = _copy(error, "error")
        with self._lock:
            item = self._item(record_id, revision)
            if item["state"] == "conflict" and state != "conflict":
                raise ConflictError("store.conflict_pending", "resolve the conflict with resolve_conflict first")
            self._work.put(ITEMS, _key(record_id, revision), {**item, "state": state, "error": error})

    def record_receipt(self, record_id: str, revision: int, receipt: dict[str, Any]) -> None:
        """Store the server's receipt in history, then let the revision leave the outbox."""
        receipt = _copy(receipt, "receipt")
        if not isinstance(receipt, dict):
            raise _invalid("receipt", "store.bad_receipt", "a receipt must be an object")
        with self._lock:
            item = self._work.get(ITEMS, _key(record_id, revision))
            if item is None:
                if not self._history.has_revision(record_id, revision):
                    self._item(record_id, revision)  # raises store.not_in_outbox
                envelope = (self._history.get(record_id) or {})["revisions"][str(revision)]["envelope"]
                self._history.store_revision(envelope, receipt)
                return
            self._history.store_revision(item["envelope"], receipt)
            pending = self._reviews.get(PENDING, record_id)
            if pending and self._history.add_reviews(record_id, pending):
                self._reviews.delete(PENDING, record_id)
            self._work.delete(ITEMS, _key(record_id, revision))

    # conflicts

    def record_conflict(self, record_id: str, revision: int, server_envelope: dict[str, Any]) -> None:
        """Keep the server's version beside the local revision, which stays in the outbox."""
        server_envelope = _copy(server_envelope, "server_envelope")
        head = server_envelope.get("revision") if isinstance(server_envelope, dict) else None
        if not isinstance(head, int) or server_envelope.get("record_id") != record_id:
            raise _invalid("server_envelope", "store.bad_server_envelope", "the server's envelope of this record is needed")
        with self._lock:
            item = self._item(record_id, revision)
            self._work.put(
                ITEMS, _key(record_id, revision), {**item, "state": "conflict", "server_envelope": server_envelope}
            )

    def resolve_conflict(self, record_id: str, choice: str) -> dict[str, Any] | None:
        """keep_mine: her content goes out again as server head + 1; take_server: the server's stays.

        Either way the losing version is kept in the conflicts archive. Returns the new
        outbox item for keep_mine, None for take_server.
        """
        if choice not in CHOICES:
            raise _invalid("choice", "store.bad_choice", "choose keep_mine or take_server")
        with self._lock:
            items = [i for i in self.outbox() if i["record_id"] == record_id]
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
                    "device_time": _now(),
                }
            resolution = {
                "record_id": record_id,
                "choice": choice,
                "local": items,
                "local_keys": [_key(i["record_id"], i["revision"]) for i in items],
                "server_envelope": server,
                "new_envelope": new_envelope,
            }
            self._conflicts.put(ARCHIVE, f"{record_id}#{conflicted[0]['seq']}", resolution)
            return self._finish_resolution(resolution)

    def _finish_resolution(self, resolution: dict[str, Any]) -> dict[str, Any] | None:
        record_id, server = resolution["record_id"], resolution["server_envelope"]
        new_envelope = resolution["new_envelope"]
        new_head = int((new_envelope or server)["revision"])
        self._history.store_revision(server, None, source="server")
        with self._work.batch():
            draft = self._work.get(DRAFTS, record_id)
            if draft is not None and draft["revision"] <= new_head:
                self._work.put(DRAFTS, record_id, {**draft, "revision": new_head + 1, "base_revision": new_head})
            for key in resolution["local_keys"]:
                self._work.delete(ITEMS, key)
            if new_envelope is not None:
                return self._enqueue(new_envelope, resolution["local"][-1].get("local") or {})
        return None

    def conflicts_archive(self) -> list[dict[str, Any]]:
        with self._lock:
            return self._conflicts.values(ARCHIVE)

    # history and reviews

    def history(
        self,
        village_id: str | None = None,
        month: str | None = None,
        text: str | None = None,
        kind: str | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The latest revision of each record with its state, filtered, one page at a time:
        drafts and conflicts first, then the outbox (newest first), then accepted records
        by month (newest first)."""
        with self._lock:
            views = self._views()
            hits = [
                v
                for v in views.values()
                if record_views.matches(v, village_id=village_id, month=month, text=text, kind=kind)
            ]
            hits.sort(key=_history_order)
            end = None if limit is None else offset + limit
            return [plain(v) for v in hits[offset:end]]

    def get_record(self, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            view = self._views(record_id).get(record_id)
            return None if view is None else plain(view)

    def accepted_revisions(self, record_id: str) -> dict[int, dict[str, Any]]:
        """Every revision of the record the server accepted: {revision: {envelope, receipt, source}}."""
        with self._lock:
            entry = self._history.get(record_id) or {"revisions": {}}
            return {int(rev): item for rev, item in entry["revisions"].items()}

    def _views(self, only: str | None = None) -> dict[str, dict[str, Any]]:
        """Views built on the cached documents themselves: copy before handing them out."""
        if only is None:
            entries = self._history.raw_entries()
        else:
            entries = [e for e in [self._history.get(only)] if e is not None]
        synced = {e["record_id"]: record_views.view_from_entry(e) for e in entries}
        views = dict(synced)
        shown: dict[str, dict[str, Any]] = {}
        for _, item in sorted(self._work.raw_items(ITEMS), key=lambda kv: kv[1]["seq"]):
            rid = item["record_id"]
            if (only is None or rid == only) and shown.get(rid, {}).get("state") != "conflict":
                shown[rid] = item
        for rid, item in shown.items():
            views[rid] = record_views.view_from_outbox(item, synced.get(rid))
        for rid, draft in self._work.raw_items(DRAFTS):
            if only is None or rid == only:
                views[rid] = record_views.view_from_draft(draft, synced.get(rid))
        return views

    def apply_review(
        self, record_id: str, revision: int, action: str, reason: str | None = None, **detail: Any
    ) -> None:
        """Record a review decision (approve, send_back, reject) on one of her records; idempotent."""
        if action not in REVIEW_STATES:
            raise _invalid("action", "review.bad_action", f"action must be one of {', '.join(REVIEW_STATES)}")
        review = _copy({**detail, "revision": revision, "action": action, "reason": reason}, "review")
        with self._lock:
            if self._history.add_reviews(record_id, [review]):
                return
            pending = self._reviews.get(PENDING, record_id, [])
            if review not in pending:
                self._reviews.put(PENDING, record_id, [*pending, review])

    def import_history(self, pairs: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
        """Store accepted revisions in bulk (restoring a phone), one write per month."""
        pairs = [(_copy(e, "envelope"), _copy(r, "receipt")) for e, r in pairs]
        with self._lock:
            return self._history.import_entries(pairs)

    # reference data

    def apply_changes(self, changes: list[dict[str, Any]], next_cursor: int) -> None:
        """Store one pulled page and the cursor after it in one write; review rows update records."""
        changes = check_changes(_copy(changes, "changes"), next_cursor)
        with self._lock:
            for change in changes:
                payload = change.get("payload") or {}
                if change["topic"] == "review" and not change.get("deleted") and payload.get("record_id"):
                    detail = {k: v for k, v in payload.items() if k not in ("record_id", "revision", "action", "reason")}
                    self.apply_review(payload["record_id"], payload["revision"], payload["action"], payload.get("reason"), **detail)
            self._reference.apply([c for c in changes if c["topic"] != "review"], next_cursor)

    def reference(self, topic: str) -> dict[str, Any]:
        with self._lock:
            return self._reference.topic(topic)

    def cursor(self) -> int:
        with self._lock:
            return self._reference.cursor()

    # photos

    def add_photo(self, meta: dict[str, Any]) -> dict[str, Any]:
        meta = _copy(meta, "meta")
        with self._lock:
            return self._photos.put(meta)

    def photo(self, sha256: str) -> dict[str, Any] | None:
        with self._lock:
            return self._photos.get(sha256)

    def set_photo_progress(self, sha256: str, offset: int, length: int | None = None) -> None:
        if not isinstance(offset, int) or offset < 0:
            raise _invalid("offset", "photo.bad_offset", "offset must be an integer ≥ 0")
        fields: dict[str, Any] = {"sha256": check_sha(sha256), "offset": offset}
        if length is not None:
            fields["length"] = length
        with self._lock:
            self._photos.put(fields)

    def mark_photo_uploaded(self, sha256: str, receipt: dict[str, Any] | None = None) -> None:
        fields = {"sha256": check_sha(sha256), "uploaded": True, "upload_receipt": _copy(receipt, "receipt")}
        with self._lock:
            self._photos.put(fields)

    def photos_pending(self) -> list[dict[str, Any]]:
        """Photos the server still needs: named by outbox revisions or owed by a receipt."""
        with self._lock:
            wanted: dict[str, None] = {}
            for item in self.outbox():
                wanted.update(dict.fromkeys(item["envelope"].get("photos") or []))
            wanted.update(dict.fromkeys(sorted(self._history.owed_photos())))
            pending = []
            for sha in wanted:
                meta = self._photos.get(sha) or {"sha256": sha, "uploaded": False, "offset": 0}
                if not meta.get("uploaded"):
                    pending.append(meta)
            return pending

    # home screen

    def record_sync_success(self, at: str) -> None:
        self.set_setting("last_sync_at", at)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            items = self.outbox()
            return {
                "outbox": len(items),
                "drafts": self._work.count(DRAFTS),
                "conflicts": sum(1 for i in items if i["state"] == "conflict"),
                "errors": sum(1 for i in items if i["state"] in ("error", "refused")),
                "photos_pending": len(self.photos_pending()),
                "history": len(self._history),
                "last_sync_at": self._settings.get(SETTINGS, "last_sync_at"),
            }


def _revision_exists(record_id: str, revision: int) -> ConflictError:
    return ConflictError(
        "store.revision_exists",
        f"revision {revision} of record {record_id} was already submitted with other content; "
        "edit the record to make a new revision",
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _history_order(view: dict[str, Any]) -> tuple[Any, ...]:
    group = {"draft": 0, "conflict": 0}.get(view["state"], 1 if "seq" in view else 2)
    received = str((view.get("receipt") or {}).get("received_at") or "")
    return (group, -view.get("seq", 0), _desc(view["month"]), _desc(received))


def _desc(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)
