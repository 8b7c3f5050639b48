"""Record intake: each accepted revision is kept exactly as received, with its ledger entry.

The rules, in the order they are judged for one envelope:

1. it parses (``xuncha_core.records.parse_record``) and its content is valid for its
   kind (``xuncha_core.content.validate_content``): else 422 ``record.invalid``;
2. its author and device are the caller's: else 403 ``record.author_mismatch``;
3. the record, if the server has it, is the caller's (``access.check_record_writer``):
   else 403 ``record.not_author``, judged before anything of it is compared or echoed;
4. the same (record_id, revision) is already stored: an identical envelope (same
   digest) answers the original receipt and writes nothing; a different one is
   409 ``record.revision_conflict`` carrying the server's envelope (hers to see);
5. a revision > 1 needs its base on the server (409 ``record.base_missing``), the very
   base it was built on (its ``base_digest`` is the stored base's digest, else 409
   ``record.base_mismatch`` with the server's version), and the same kind;
6. otherwise the revision row, the record head, its photo references and one
   ``record.accepted`` ledger entry are written in the caller's transaction.

The server stamps ``received_at``; ``device_time`` is kept and never used for
ordering. A record whose photos have not all arrived is accepted ("photos
pending"): ``photos_missing`` is computed on every read by joining the photo
references with the stored photos, so there is no counter to drift.

Rules 1 and 2 need no database (``prepare``); rules 3 to 6 (``store``) run in a
write transaction. The HTTP routes hand ``store`` to ``server.group_commit``, which
stores the requests of the same moment in one transaction, one after the other,
so the second of two requests for the same key sees the first (a replay or a
409). Should another writer take the key first, the primary key of
``record_revisions`` refuses the insert and the store is judged again
(``retrying``, or the group writer's own retry), never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy.exc
from sqlalchemy import Connection, Engine, and_, bindparam, select

from server import access, ledger
from server import tables as t
from server.accounts import Actor
from server.db import write
from server.errors import ApiError, error_dict
from xuncha_core import ledger_entries
from xuncha_core.canonical import canonical_text
from xuncha_core.content import validate_content
from xuncha_core.errors import ValidationError
from xuncha_core.receipts import RecordReceipt, record_receipt
from xuncha_core.records import RecordRevision, digest_of_text, parse_record

MAX_BATCH = 200
_T = TypeVar("_T")

# Built once: constructing a statement costs more than running it on a small table.
_REVISION = select(t.record_revisions).where(
    t.record_revisions.c.record_id == bindparam("rid"), t.record_revisions.c.revision == bindparam("rev")
)
_HEAD = select(t.records).where(t.records.c.record_id == bindparam("rid"))
_INSERT_REVISION = t.record_revisions.insert()
_INSERT_HEAD = t.records.insert()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


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


def prepare(*, actor: Actor, data: Any) -> Submission:
    """Rules 1 and 2, which need no database: the parsed envelope, its canonical text and digest.

    Pure work, so a request does it before it queues for the writer.
    """
    record = check_envelope(data)
    if record.author != actor.username or record.device_id != actor.device_id:
        raise ApiError(
            403,
            "record.author_mismatch",
            f"This record names author {record.author!r} on device {record.device_id!r}, but you are "
            f"{actor.username!r} on device {actor.device_id!r}. Send only records made on this device.",
            "记录中的作者或设备与当前登录的账号不符，只能提交本设备上本人制作的记录。",
            {"author": record.author, "device_id": record.device_id},
        )
    envelope = record.as_dict()
    envelope_text = canonical_text(envelope)
    digest = digest_of_text(envelope_text)  # == record.digest(), from the text already made
    return Submission(record, envelope, envelope_text, digest)


def submit(conn: Connection, *, actor: Actor, data: Any, received_at: str | None = None) -> tuple[int, dict[str, Any]]:
    """Judge one envelope and, if new, store it; answer (HTTP status, receipt).

    201 for a new revision, 200 for an identical replay (the original receipt,
    nothing written). Every refusal is an ApiError or a ValidationError, raised
    before anything is written.
    """
    return store(conn, prepare(actor=actor, data=data), received_at=received_at)


def store(conn: Connection, sub: Submission, *, received_at: str | None = None) -> tuple[int, dict[str, Any]]:
    """Rules 3 to 6 for a prepared envelope, in the caller's transaction (see ``submit``)."""
    record, envelope, envelope_text, digest = sub.record, sub.envelope, sub.envelope_text, sub.digest
    head = conn.execute(_HEAD, {"rid": record.record_id}).first()
    if head is not None:
        access.check_record_writer(author=record.author, head_author=head.author)
        # A head row is written with the record's first revision: without one there is none.
        existing = conn.execute(_REVISION, {"rid": record.record_id, "rev": record.revision}).first()
        if existing is not None:
            if existing.digest == digest:
                return 200, _receipt(conn, existing, replayed=True)
            raise ApiError(
                409,
                "record.revision_conflict",
                f"Revision {record.revision} of record {record.record_id} is already on the server with "
                "different content. Keep yours as a new revision, or take the server's.",
                f"该记录的第 {record.revision} 版已在服务器上且内容不同。请把您的修改另存为新版本，或采用服务器上的版本。",
                {"server_revision": existing.revision, "server_envelope": json.loads(existing.envelope)},
            )
    if record.revision > 1:
        _check_base(conn, record, head)
    received_at = received_at or now()
    receipt = ledger.append(
        conn, ledger_entries.record_accepted(envelope=envelope, envelope_text=envelope_text, received_at=received_at)
    )
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
            "envelope": envelope_text,
            "digest": digest,
            "ledger_index": receipt.index,
            "leaf_hash": receipt.leaf_hash,
        },
    )
    if record.photos:
        conn.execute(
            t.record_photos.insert(),
            [{"record_id": record.record_id, "revision": record.revision, "sha256": h} for h in record.photos],
        )
    village_id, month = _short_text(record.content.get("village_id"), 64), _short_text(record.content.get("month"), 7)
    if head is None:
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
            },
        )
    else:
        # A new revision is a new submission: whatever was decided on the old one is history.
        conn.execute(
            t.records.update()
            .where(t.records.c.record_id == record.record_id)
            .values(
                head_revision=record.revision,
                village_id=village_id,
                month=month,
                updated_at=received_at,
                review_state="submitted",
            )
        )
    missing = missing_photos(conn, record_id=record.record_id, revision=record.revision) if record.photos else []
    return 201, record_receipt(
        record_id=record.record_id,
        revision=record.revision,
        digest=digest,
        received_at=received_at,
        place=receipt.as_dict(),
        photos_missing=missing,
        replayed=False,
    )


def submit_batch(conn: Connection, *, actor: Actor, items: list[Any]) -> list[dict[str, Any]]:
    """Judge each envelope alone; store the accepted ones in the caller's transaction.

    Each result is ``{"status", "receipt"}`` or ``{"status", "error"}``. A later
    item may build on an earlier one of the same batch (revision 2 after 1).
    """
    return store_batch(conn, prepare_batch(actor=actor, items=items))


def prepare_batch(*, actor: Actor, items: list[Any]) -> list[Submission | dict[str, Any]]:
    """``prepare`` for each item: a Submission, or the item's error result."""
    out: list[Submission | dict[str, Any]] = []
    for data in items:
        try:
            out.append(prepare(actor=actor, data=data))
        except (ApiError, ValidationError) as exc:
            out.append(_error_result(exc))
    return out


def store_batch(conn: Connection, prepared: list[Submission | dict[str, Any]]) -> list[dict[str, Any]]:
    """``store`` for each prepared item in order; error results pass through."""
    results: list[dict[str, Any]] = []
    for sub in prepared:
        if not isinstance(sub, Submission):
            results.append(sub)
            continue
        # No savepoint needed: ``store`` refuses before its first write, never after.
        try:
            status, receipt = store(conn, sub)
        except (ApiError, ValidationError) as exc:
            results.append(_error_result(exc))
            continue
        results.append({"status": status, "receipt": receipt})
    return results


def _error_result(exc: ApiError | ValidationError) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return {"status": exc.status, "error": _error(exc.code, exc.message, exc.message_zh, exc.detail)}
    zh = exc.detail.get("message_zh") or exc.message
    return {"status": 422, "error": _error(exc.code, exc.message, zh, exc.detail)}


def retrying(engine: Engine, work: Callable[[Connection], _T], *, attempts: int = 3) -> _T:
    """Run ``work`` in a write transaction; if a concurrent writer took the same key first
    (a unique-key refusal), run it again so that it sees that row and answers accordingly."""
    for attempt in range(attempts):
        try:
            with write(engine) as conn:
                return work(conn)
        except sqlalchemy.exc.IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def missing_photos(conn: Connection, *, record_id: str, revision: int) -> list[str]:
    """The photos this revision refers to that the server does not hold yet, sorted."""
    return missing_photos_of(conn, [(record_id, revision)]).get((record_id, revision), [])


def missing_photos_of(conn: Connection, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    """For many revisions at once: (record_id, revision) → missing photo hashes (absent if none)."""
    keys = list(keys)
    out: dict[tuple[str, int], list[str]] = {}
    if not keys:
        return out
    rp, ph = t.record_photos, t.photos
    ids = sorted({k[0] for k in keys})
    wanted = set(keys)
    rows = conn.execute(
        select(rp.c.record_id, rp.c.revision, rp.c.sha256)
        .select_from(rp.outerjoin(ph, ph.c.sha256 == rp.c.sha256))
        .where(rp.c.record_id.in_(ids), ph.c.sha256.is_(None))
        .order_by(rp.c.sha256)
    ).all()
    for r in rows:
        if (r.record_id, r.revision) in wanted:
            out.setdefault((r.record_id, r.revision), []).append(r.sha256)
    return out


def get_record(conn: Connection, *, record_id: str, actor: Actor) -> dict[str, Any]:
    """The record's head, every revision (envelope and receipt), its reviews and missing photos."""
    head = conn.execute(select(t.records).where(t.records.c.record_id == record_id)).first()
    if head is None:
        raise ApiError(404, "record.not_found", f"No record {record_id} on the server.", "服务器上没有该记录。")
    if not access.may_read_record(actor, author=head.author):
        raise access.record_forbidden()
    revisions = conn.execute(
        select(t.record_revisions)
        .where(t.record_revisions.c.record_id == record_id)
        .order_by(t.record_revisions.c.revision)
    ).all()
    missing = missing_photos_of(conn, [(record_id, r.revision) for r in revisions])
    reviews = conn.execute(
        select(t.reviews).where(t.reviews.c.record_id == record_id).order_by(t.reviews.c.id)
    ).all()
    return {
        **head_dict(head),
        "photos_missing": missing.get((record_id, head.head_revision), []),
        "revisions": [
            {
                "envelope": json.loads(r.envelope),
                "receipt": _receipt_fields(r, missing.get((record_id, r.revision), []), replayed=False),
            }
            for r in revisions
        ],
        "reviews": [review_dict(r) for r in reviews],
    }


def list_records(
    conn: Connection,
    *,
    author: str | None = None,
    village_id: str | None = None,
    month: str | None = None,
    kind: str | None = None,
    review_state: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    """Record heads, newest change first, with their head envelope and missing photos.

    ``after`` is the ``next`` cursor of the previous page.
    """
    r, rv = t.records, t.record_revisions
    q = select(r, rv.c.envelope).join(
        rv, and_(rv.c.record_id == r.c.record_id, rv.c.revision == r.c.head_revision)
    )
    for column, value in ((r.c.author, author), (r.c.village_id, village_id), (r.c.month, month),
                          (r.c.kind, kind), (r.c.review_state, review_state)):
        if value is not None:
            q = q.where(column == value)
    if after:
        updated_at, _, record_id = after.partition("|")
        q = q.where((r.c.updated_at < updated_at) | ((r.c.updated_at == updated_at) & (r.c.record_id < record_id)))
    rows = conn.execute(q.order_by(r.c.updated_at.desc(), r.c.record_id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    missing = missing_photos_of(conn, [(x.record_id, x.head_revision) for x in rows])
    return {
        "records": [
            {
                **head_dict(x),
                "envelope": json.loads(x.envelope),
                "photos_missing": missing.get((x.record_id, x.head_revision), []),
            }
            for x in rows
        ],
        "next": f"{rows[-1].updated_at}|{rows[-1].record_id}" if more else None,
    }


def head_dict(row: Any) -> dict[str, Any]:
    return {
        "record_id": row.record_id,
        "kind": row.kind,
        "head_revision": row.head_revision,
        "author": row.author,
        "village_id": row.village_id,
        "month": row.month,
        "first_received_at": row.first_received_at,
        "updated_at": row.updated_at,
        "review_state": row.review_state,
    }


def review_dict(row: Any) -> dict[str, Any]:
    return {
        "review_id": row.id,
        "record_id": row.record_id,
        "revision": row.revision,
        "action": row.action,
        "reason": row.reason,
        "reviewer": row.reviewer,
        "at": row.created_at,
        "ledger_index": row.ledger_index,
    }


def _check_base(conn: Connection, record: RecordRevision, head: Any) -> None:
    """Rule 5, for a revision > 1 of a record that is the caller's if the server has it."""
    base = None
    if head is not None:
        base = conn.execute(_REVISION, {"rid": record.record_id, "rev": record.base_revision}).first()
    if base is None:
        raise ApiError(
            409,
            "record.base_missing",
            f"Revision {record.revision} is based on revision {record.base_revision}, which the server "
            "does not have yet. Send that revision first.",
            f"第 {record.revision} 版基于第 {record.base_revision} 版，但服务器上还没有该版本，请先提交它。",
            {"base_revision": record.base_revision, "server_head": head.head_revision if head else None},
        )
    if base.digest != record.base_digest:
        raise ApiError(
            409,
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
    if head.kind != record.kind:
        raise ApiError(
            422,
            "record.kind_changed",
            f"This record is a {head.kind}; a new revision cannot change its kind to {record.kind}.",
            "新版本不能改变记录的类型。",
        )


def _receipt(conn: Connection, row: Any, *, replayed: bool) -> dict[str, Any]:
    return _receipt_fields(row, missing_photos(conn, record_id=row.record_id, revision=row.revision), replayed=replayed)


def _receipt_fields(row: Any, missing: list[str], *, replayed: bool) -> RecordReceipt:
    return record_receipt(
        record_id=row.record_id,
        revision=row.revision,
        digest=row.digest,
        received_at=row.received_at,
        place={"ledger_index": row.ledger_index, "leaf_hash": row.leaf_hash},
        photos_missing=missing,
        replayed=replayed,
    )


def _short_text(value: Any, limit: int) -> str | None:
    """A plain string fit for an index column, or None (content validation judges the rest)."""
    if isinstance(value, str) and 0 < len(value) <= limit and "\x00" not in value:
        return value
    return None


def _error(code: str, message: str, message_zh: str, detail: dict[str, Any]) -> dict[str, Any]:
    return error_dict(code, message, message_zh, detail)  # bounded: a batch answers up to 200 of these
