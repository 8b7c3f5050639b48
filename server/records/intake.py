"""Record intake: each accepted revision is kept exactly as received, with its ledger entry.

The rules, in the order they are judged for one envelope:

1. it parses (``xuncha_core.records.parse_record``) and its content is valid for its
   kind (``xuncha_core.content.validate_content``): else 422 ``record.invalid``;
2. its author is the caller, and its device the caller's, or a device the caller enrolled
   before (a shared phone she signed out of and in to again: her unsent records were made
   under the device she had then): else 403 ``record.author_mismatch``;
3. the record, if the server has it, is the caller's (``access.check_record_writer``):
   else 403 ``record.not_author``, judged before anything of it is compared or echoed;
4. the same (record_id, revision) is already stored: an identical envelope (same
   digest) answers the original receipt and writes nothing; a different one is
   409 ``record.revision_conflict`` carrying the server's envelope (hers to see);
5. a revision > 1 needs its base on the server (409 ``record.base_missing``), the very
   base it was built on (its ``base_digest`` is the stored base's digest, else 409
   ``record.base_mismatch`` with the server's version), and the same kind; a random
   inspection comes from the inspectors the draw assigned, as assigned
   (``server.inspections.assignment_check``: 403 or 422);
6. otherwise the revision row, the record head, its photo references and one
   ``record.accepted`` ledger entry are written in the caller's transaction.

The server stamps ``received_at``; ``device_time`` is kept and never used for
ordering. A record whose photos have not all arrived is accepted ("photos
pending"): ``photos_missing`` is computed on every read by joining the photo
references with the stored photos, so there is no counter to drift.

Rules 1 and 2 need no database (``prepare``; an earlier device of hers is looked up in
``store``); rules 3 to 6 (``store``) run in a
write transaction. The HTTP routes hand ``store`` to ``server.infra.writer``, which
stores the requests of the same moment in one transaction, one after the other,
so the second of two requests for the same key sees the first (a replay or a
409). Should another writer take the key first, the primary key of
``record_revisions`` refuses the insert and the store is judged again
(the writer's own retry, ``server.infra.writer``), never a 500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from server import ledger
from server.accounts import access
from server.accounts.accounts import Actor
from server.infra import clock
from server.infra import tables as t
from server.infra.http_errors import status_for
from server.inspections import assignment_check
from server.records import queries
from xuncha_core import ledger_entries
from xuncha_core.canonical import canonical_text
from xuncha_core.content import validate_content
from xuncha_core.errors import (
    ConflictError,
    ForbiddenError,
    ValidationError,
    XunchaError,
)
from xuncha_core.receipts import BatchResult, RecordReceipt, record_receipt
from xuncha_core.records import RecordRevision, digest_of_text, parse_record
from xuncha_core.scoring import stored_total

MAX_BATCH = 200

# Built once: constructing a statement costs more than running it on a small table.
_REVISION = select(t.record_revisions).where(
    t.record_revisions.c.record_id == bindparam("rid"), t.record_revisions.c.revision == bindparam("rev")
)
_HEAD = select(t.records).where(t.records.c.record_id == bindparam("rid"))
_INSERT_REVISION = t.record_revisions.insert()
_PHOTOS_HELD = select(t.photos.c.sha256).where(
    t.photos.c.sha256.in_(bindparam("shas", expanding=True))
)
_INSERT_HEAD = t.records.insert()


def check_envelope(data: Any) -> RecordRevision:
    """The parsed envelope, or ValidationError (``record.invalid``) naming every problem."""
    record = parse_record(data)
    problems = validate_content(record.kind, record.content)
    if problems:
        raise ValidationError.of(list(problems), code="record.invalid")
    return record


@dataclass(frozen=True)
class Submission:
    """An envelope judged on its own (rules 1 and 2), ready to be judged against the stored records."""

    record: RecordRevision
    envelope: dict[str, Any]
    envelope_text: str  # canonical JSON
    digest: str  # SHA-256 hex of envelope_text
    earlier_device_of: Actor | None = None  # made under another device: must be one of this caller's


def prepare(*, actor: Actor, data: Any) -> Submission:
    """Rules 1 and 2, which need no database: the parsed envelope, its canonical text and digest.

    Pure work, so a request does it before it queues for the writer.
    """
    record = check_envelope(data)
    if record.author != actor.username:
        raise _author_mismatch(record, actor)
    envelope = record.as_dict()
    envelope_text = canonical_text(envelope)
    digest = digest_of_text(envelope_text)  # == record.digest(), from the text already made
    earlier = actor if record.device_id != actor.device_id else None
    return Submission(record, envelope, envelope_text, digest, earlier)


def _author_mismatch(record: RecordRevision, actor: Actor) -> XunchaError:
    return ForbiddenError(
        "record.author_mismatch",
        f"This record names author {record.author!r} on device {record.device_id!r}, but you are "
        f"{actor.username!r} on device {actor.device_id!r}. Send only records made on this device.",
        "记录中的作者或设备与当前登录的账号不符，只能提交本设备上本人制作的记录。",
        {"author": record.author, "device_id": record.device_id},
    )


def _check_earlier_device(conn: Connection, record: RecordRevision, actor: Actor) -> None:
    """Rule 2 for a record made under another device: it must be one the caller enrolled."""
    d = t.devices
    found = conn.execute(select(d.c.id).where(d.c.id == record.device_id, d.c.user_id == actor.user_id)).first()
    if found is None:
        raise _author_mismatch(record, actor)


def submit(conn: Connection, *, actor: Actor, data: Any, received_at: str | None = None) -> tuple[int, RecordReceipt]:
    """Judge one envelope and, if new, store it; answer (HTTP status, receipt).

    201 for a new revision, 200 for an identical replay (the original receipt,
    nothing written). Every refusal is an XunchaError, raised
    before anything is written.
    """
    return store(conn, prepare(actor=actor, data=data), received_at=received_at)


def store(conn: Connection, sub: Submission, *, received_at: str | None = None) -> tuple[int, RecordReceipt]:
    """Rules 3 to 6 for a prepared envelope, in the caller's transaction (see ``submit``)."""
    record = sub.record
    if sub.earlier_device_of is not None:
        _check_earlier_device(conn, record, sub.earlier_device_of)
    head = conn.execute(_HEAD, {"rid": record.record_id}).first()
    if head is not None:
        access.check_record_writer(author=record.author, head_author=head.author)
        # A head row is written with the record's first revision: without one there is none.
        existing = conn.execute(_REVISION, {"rid": record.record_id, "rev": record.revision}).first()
        if existing is not None:
            if existing.digest == sub.digest:
                return 200, _receipt(conn, existing, replayed=True)
            raise _revision_conflict(record, existing)
    if record.revision > 1:
        _check_base(conn, record, head)
    if record.kind == "random_inspection":
        assignment_check.check_assignment(conn, record)
    received_at = received_at or clock.timestamp()
    entry = ledger_entries.record_accepted(envelope=sub.envelope, envelope_text=sub.envelope_text, received_at=received_at)
    place = ledger.append(conn, entry)
    _insert_revision(conn, sub, received_at, place)
    _set_head(conn, record, received_at, is_new=head is None)
    missing = _photos_not_held(conn, record.photos)
    return 201, record_receipt(
        record_id=record.record_id,
        revision=record.revision,
        digest=sub.digest,
        received_at=received_at,
        place=place.as_dict(),
        photos_missing=missing,
        replayed=False,
    )


def _insert_revision(conn: Connection, sub: Submission, received_at: str, place: ledger.Receipt) -> None:
    record = sub.record
    conn.execute(
        _INSERT_REVISION,
        {
            "record_id": record.record_id,
            "revision": record.revision,
            "base_revision": record.base_revision,
            "kind": record.kind,
            "author": record.author,
            "device_id": record.device_id,
            "device_time": record.device_time,
            "gps_time": record.gps_time,
            "received_at": received_at,
            "envelope": sub.envelope_text,
            "digest": sub.digest,
            "ledger_index": place.index,
            "leaf_hash": place.leaf_hash,
        },
    )
    if record.photos:
        conn.execute(
            t.record_photos.insert(),
            [{"record_id": record.record_id, "revision": record.revision, "sha256": h} for h in record.photos],
        )


def _set_head(conn: Connection, record: RecordRevision, received_at: str, *, is_new: bool) -> None:
    village_id, month = _short_text(record.content.get("village_id"), 64), _short_text(record.content.get("month"), 7)
    score = stored_total(record.kind, record.content)
    if is_new:
        conn.execute(
            _INSERT_HEAD,
            {
                "record_id": record.record_id,
                "kind": record.kind,
                "head_revision": record.revision,
                "author": record.author,
                "village_id": village_id,
                "month": month,
                "first_received_at": received_at,
                "updated_at": received_at,
                "review_state": "submitted",
                "score": score,
            },
        )
        return
    # A new revision is a new submission: whatever was decided on the old one is history.
    conn.execute(
        t.records.update()
        .where(t.records.c.record_id == record.record_id)
        .values(
            head_revision=record.revision, village_id=village_id, month=month, updated_at=received_at,
            review_state="submitted", score=score,
        )
    )


def _revision_conflict(record: RecordRevision, existing: Row[Any]) -> ConflictError:
    return ConflictError(
        "record.revision_conflict",
        f"Revision {record.revision} of record {record.record_id} is already on the server with "
        "different content. Keep yours as a new revision, or take the server's.",
        f"该记录的第 {record.revision} 版已在服务器上且内容不同。请把您的修改另存为新版本，或采用服务器上的版本。",
        {"server_revision": existing.revision, "server_envelope": json.loads(existing.envelope)},
    )


def prepare_batch(*, actor: Actor, items: list[Any]) -> list[Submission | BatchResult]:
    """``prepare`` for each item: a Submission, or the item's error result."""
    out: list[Submission | BatchResult] = []
    for data in items:
        try:
            out.append(prepare(actor=actor, data=data))
        except XunchaError as exc:
            out.append(_error_result(exc))
    return out


def store_batch(conn: Connection, prepared: list[Submission | BatchResult]) -> list[BatchResult]:
    """``store`` for each prepared item in order; error results pass through."""
    results: list[BatchResult] = []
    for sub in prepared:
        if not isinstance(sub, Submission):
            results.append(sub)
            continue
        # No savepoint needed: ``store`` refuses before its first write, never after.
        try:
            status, receipt = store(conn, sub)
        except XunchaError as exc:
            results.append(_error_result(exc))
            continue
        results.append({"status": status, "receipt": receipt})
    return results


def _error_result(exc: XunchaError) -> BatchResult:
    # bounded (``as_dict``): a batch answers up to 200 of these
    return {"status": status_for(exc), "error": exc.as_dict()}


def _check_base(conn: Connection, record: RecordRevision, head: Row[Any] | None) -> None:
    """Rule 5, for a revision > 1 of a record that is the caller's if the server has it."""
    base = None
    if head is not None:
        base = conn.execute(_REVISION, {"rid": record.record_id, "rev": record.base_revision}).first()
    if base is None:
        raise ConflictError(
            "record.base_missing",
            f"Revision {record.revision} is based on revision {record.base_revision}, which the server "
            "does not have yet. Send that revision first.",
            f"第 {record.revision} 版基于第 {record.base_revision} 版，但服务器上还没有该版本，请先提交它。",
            {"base_revision": record.base_revision, "server_head": head.head_revision if head else None},
        )
    if base.digest != record.base_digest:
        raise ConflictError(
            "record.base_mismatch",
            f"Revision {record.revision} was built on a revision {record.base_revision} other than the one the "
            "server kept (one it refused, or another phone's). Compare it with the server's version: keep yours "
            "as a new revision on top of it, or take the server's.",
            f"第 {record.revision} 版所依据的第 {record.base_revision} 版不是服务器保存的那一版（可能是被拒绝的版本或"
            "另一部手机上的版本）。请对照服务器上的版本：把您的修改另存为其上的新版本，或采用服务器上的版本。",
            {
                "base_revision": record.base_revision,
                "your_base_digest": record.base_digest,
                "server_base_digest": base.digest,
                "server_revision": base.revision,
                "server_envelope": json.loads(base.envelope),
            },
        )
    if head is not None and head.kind != record.kind:
        raise ValidationError(
            "record.kind_changed",
            f"This record is a {head.kind}; a new revision cannot change its kind to {record.kind}.",
            "新版本不能改变记录的类型。",
        )


def _photos_not_held(conn: Connection, shas: tuple[str, ...]) -> list[str]:
    """Which of a new revision's photos the server lacks, sorted: its photo references are
    exactly these, so one lookup in ``photos`` answers (no join through ``record_photos``)."""
    if not shas:
        return []
    held = set(conn.execute(_PHOTOS_HELD, {"shas": sorted(set(shas))}).scalars())
    return sorted(set(shas) - held)


def _receipt(conn: Connection, row: Row[Any], *, replayed: bool) -> RecordReceipt:
    return queries.receipt_of(row, queries.missing_photos(conn, record_id=row.record_id, revision=row.revision), replayed=replayed)


def _short_text(value: Any, limit: int) -> str | None:
    """A plain string fit for an index column, or None (content validation judges the rest)."""
    if isinstance(value, str) and 0 < len(value) <= limit and "\x00" not in value:
        return value
    return None
