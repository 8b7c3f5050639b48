"""Work in hand: the drafts being edited and the outbox of submitted revisions, in ``work.json``.

Both are small, so they share one file and submitting is one atomic write (the
outbox item in, the draft out). Outbox items carry a local sequence number: the
order they were submitted on this phone, never the device clock.
"""

from __future__ import annotations

from typing import Any

from field_app.store.history import HistoryBook
from field_app.store.inputs import StoreError, copy_json, invalid, revision_exists
from field_app.store.store_file import StoreFile
from xuncha_core.errors import ConflictError, Problem, ValidationError
from xuncha_core.records import ENVELOPE_FIELDS, envelope_digest, parse_record

OUTBOX_STATES = ("waiting", "sending", "conflict", "error", "refused")
ITEMS, COUNTER, DRAFTS = "items", "counter", "drafts"


def item_key(record_id: str, revision: int) -> str:
    return f"{record_id}#{revision}"


def check_draft(draft: Any) -> dict[str, Any]:
    """A copy of the draft, or ValidationError draft.invalid naming every problem."""
    draft = copy_json(draft, "draft")
    if not isinstance(draft, dict):
        raise invalid("", "draft.not_object", "a draft must be an object")
    problems = []
    if not isinstance(draft.get("record_id"), str) or not draft["record_id"]:
        problems.append(Problem("record_id", "draft.bad_id", "a draft needs its record_id"))
    revision = draft.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        problems.append(Problem("revision", "draft.bad_revision", "revision must be an integer ≥ 1"))
    if not isinstance(draft.get("content", {}), dict):
        problems.append(Problem("content", "draft.bad_content", "content must be an object"))
    if problems:
        raise ValidationError.of(problems, code="draft.invalid")
    return draft


class WorkItems:
    """Drafts and the outbox over one store file; callers hold the store lock."""

    def __init__(self, work: StoreFile, history: HistoryBook) -> None:
        self.file = work
        self._history = history

    def submitted(self, record_id: str, revision: int) -> bool:
        """True if the revision is in the outbox or was accepted by the server."""
        return self.file.has(ITEMS, item_key(record_id, revision)) or self._history.has_revision(record_id, revision)

    # drafts

    def save_draft(self, draft: dict[str, Any]) -> dict[str, Any]:
        if self.submitted(draft["record_id"], draft["revision"]):
            raise ConflictError(
                "store.already_submitted",
                f"revision {draft['revision']} of record {draft['record_id']} is already submitted; "
                "edit the record to start a new revision",
            )
        self.file.put(DRAFTS, draft["record_id"], draft)
        return draft

    def get_draft(self, record_id: str) -> dict[str, Any] | None:
        return self.file.get(DRAFTS, record_id)

    def list_drafts(self) -> list[dict[str, Any]]:
        return self.file.values(DRAFTS)

    def discard_draft(self, record_id: str) -> bool:
        return self.file.delete(DRAFTS, record_id)

    def drop_draft(self, record_id: str, revision: int) -> None:
        """Remove the record's draft if it is of this revision (it was submitted)."""
        draft = self.file.get(DRAFTS, record_id)
        if draft is not None and draft.get("revision") == revision:
            self.file.delete(DRAFTS, record_id)

    def draft_count(self) -> int:
        return self.file.count(DRAFTS)

    def raw_drafts(self) -> list[tuple[str, Any]]:
        """(record id, draft) pairs, not copied: for reading only."""
        return self.file.raw_items(DRAFTS)

    # outbox

    def submit(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """Put the revision in the outbox, durably, then drop its draft; return the outbox item.

        Submitting the same revision again is harmless (None if it was already sent);
        different content under a submitted revision number is a ConflictError.
        """
        if not isinstance(envelope, dict):
            raise invalid("", "record.not_object", "a record must be a JSON object")
        local = copy_json({k: v for k, v in envelope.items() if k not in ENVELOPE_FIELDS}, "envelope")
        record = parse_record(self._with_base_digest({k: envelope[k] for k in ENVELOPE_FIELDS if k in envelope}))
        env = copy_json(record.as_dict(), "envelope")
        rid, rev = record.record_id, record.revision
        existing = self.file.get(ITEMS, item_key(rid, rev))
        if existing is None and self._history.has_revision(rid, rev):
            accepted = (self._history.get(rid) or {})["revisions"][str(rev)]
            if accepted["envelope"] != env:
                raise revision_exists(rid, rev)
            self.drop_draft(rid, rev)
            return None
        if existing is not None and existing["envelope"] != env:
            raise revision_exists(rid, rev)
        with self.file.batch():  # the outbox item and the draft's removal: one atomic write
            if existing is None:
                existing = self.enqueue(env, local)
            self.drop_draft(rid, rev)
        return existing

    def _with_base_digest(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The envelope naming its base by digest: as given, or, for one made without (a draft
        from before base digests), the digest of the base revision this phone holds."""
        revision, base = envelope.get("revision"), envelope.get("base_revision")
        if envelope.get("base_digest") is not None or not isinstance(revision, int) or revision < 2:
            return envelope
        held = self.held_envelope(envelope.get("record_id"), base) if isinstance(base, int) else None
        return envelope if held is None else {**envelope, "base_digest": envelope_digest(held)}

    def held_envelope(self, record_id: Any, revision: int) -> dict[str, Any] | None:
        """The revision as this phone holds it: in the outbox, else accepted; None if neither."""
        if not isinstance(record_id, str):
            return None
        item = self.file.get(ITEMS, item_key(record_id, revision))
        if item is not None:
            return item["envelope"]
        if self._history.has_revision(record_id, revision):
            return (self._history.get(record_id) or {})["revisions"][str(revision)]["envelope"]
        return None

    def name_bases_by_digest(self) -> list[str]:
        """Give outbox revisions queued before base digests existed the digest of their base
        (the server refuses a revision > 1 without one); answers a note for each."""
        notes = []
        for item in self.outbox():
            envelope = item["envelope"]
            named = self._with_base_digest(envelope)
            if named is not envelope:
                self.replace({**item, "envelope": named})
                notes.append(f"record {item['record_id']} revision {item['revision']} now names its base by digest")
        return notes

    def enqueue(self, envelope: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
        """Add a waiting outbox item with the next local sequence number."""
        with self.file.batch():
            seq = int(self.file.get(COUNTER, "seq", 0)) + 1
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
            self.file.put(COUNTER, "seq", seq)
            self.file.put(ITEMS, item_key(envelope["record_id"], envelope["revision"]), item)
        return item

    def outbox(self) -> list[dict[str, Any]]:
        """Revisions waiting to be sent, in the order they were submitted on this phone."""
        return sorted(self.file.values(ITEMS), key=lambda item: item["seq"])

    def raw_outbox(self) -> list[dict[str, Any]]:
        """Outbox items in submission order, not copied: for reading only."""
        return sorted((item for _, item in self.file.raw_items(ITEMS)), key=lambda item: item["seq"])

    def find(self, record_id: str, revision: int) -> dict[str, Any] | None:
        return self.file.get(ITEMS, item_key(record_id, revision))

    def item(self, record_id: str, revision: int) -> dict[str, Any]:
        """The outbox item, or StoreError store.not_in_outbox."""
        item = self.find(record_id, revision)
        if item is None:
            raise StoreError(
                "store.not_in_outbox", f"revision {revision} of record {record_id} is not in the outbox"
            )
        return item

    def replace(self, item: dict[str, Any]) -> None:
        self.file.put(ITEMS, item_key(item["record_id"], item["revision"]), item)

    def remove(self, record_id: str, revision: int) -> None:
        self.file.delete(ITEMS, item_key(record_id, revision))

    def remove_many(self, keys: list[tuple[str, int]]) -> None:
        """Remove these outbox items in one write."""
        self.file.delete_many(ITEMS, {item_key(rid, rev) for rid, rev in keys})

    def set_state(self, record_id: str, revision: int, state: str, error: Any = None) -> None:
        if state not in OUTBOX_STATES:
            raise invalid("state", "store.bad_state", f"state must be one of {', '.join(OUTBOX_STATES)}")
        error = copy_json(error, "error")
        item = self.item(record_id, revision)
        if item["state"] == "conflict" and state != "conflict":
            raise ConflictError("store.conflict_pending", "resolve the conflict with resolve_conflict first")
        self.replace({**item, "state": state, "error": error})
