"""Ledger entries: every type, what the public sees of it, and what it commits to.

Each accepted change is one ledger entry. What is hashed into the RFC 9162 tree, and
served to anyone without a sign-in, is the entry's *committed form*: its ``type``, the
facts about it that name nobody (ids, times, sizes), and ``digest``, a SHA-256
commitment to its *content*: the names, notes, reasons, devices and records that are
personal data (个人信息保护法). The server keeps each content beside the ledger for
those who may read it; an auditor's bundle carries it; anyone holding a content can
check it against the public entry (``check_content``).

    digest = SHA-256(JCS(content))                                  unsalted types
    digest = SHA-256(JCS({"content": content, "salt": salt}))       salted types

JCS is RFC 8785 canonical JSON (``xuncha_core.canonical``); ``digest`` and ``salt`` are
lowercase hex, the salt 128 random bits made for each entry and kept with its content.
The contents of most types are low-entropy ("wang.cy enrolled a phone at 08:00"):
without a salt anyone could confirm a guess by hashing it.

    type                     public fields                            content
    record.accepted          record {record_id, revision},           the record's envelope
                             received_at                               (unsalted: see below)
    review.recorded          record_id, revision, at                  action, reason, reviewer
    photo.received           sha256, size, mime, width, height,       uploaded_by
                             received_at
    user.created             role, at                                 username, display_name,
                                                                       cert_no, by
    device.enrolled          kind, via, at                            device_id, username, name
    device.revoked           at                                       device_id, reason, by
    enrollment_code.issued   expires_at, at                           username, by
    reference.changed        topic, deleted, at                       key, payload, by

Why ``record.accepted`` has no salt: its digest is the envelope digest the receipt
already carries and the phone recomputes from the envelope it holds, so the receipt
stays checkable with nothing more than the phone already keeps. Guessing is no threat
there: the envelope holds ``device_id``, a random UUID (122 bits) the server made at
enrollment and that no committed form publishes, beside the device time and the whole
content. ``record`` keeps the shape entries had before commitments existed (the
envelope, now reduced to its id and revision), so phones built then check new receipts.

Entries appended before commitments existed are *legacy* entries: their hashed text
is the whole entry, content included. They cannot change (their leaf hashes are in
receipts), so the public ledger withholds their text. ``parse`` tells a committed
form from a legacy text; ``legacy_record_accepted`` rebuilds a legacy record.accepted
text from the envelope and receipt a phone holds. Errors are ``IntegrityError``s.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xuncha_core.canonical import canonical_bytes, canonical_text
from xuncha_core.errors import IntegrityError

SALT_BYTES = 16
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SALT = re.compile(rf"[0-9a-f]{{{2 * SALT_BYTES}}}")


@dataclass(frozen=True)
class EntryType:
    name: str
    public: frozenset[str]  # the committed form's fields besides "type" and "digest"
    salted: bool


TYPES: dict[str, EntryType] = {
    t.name: t
    for t in (
        EntryType("record.accepted", frozenset({"record", "received_at"}), salted=False),
        EntryType("review.recorded", frozenset({"record_id", "revision", "at"}), salted=True),
        EntryType(
            "photo.received",
            frozenset({"sha256", "size", "mime", "width", "height", "received_at"}),
            salted=True,
        ),
        EntryType("user.created", frozenset({"role", "at"}), salted=True),
        EntryType("device.enrolled", frozenset({"kind", "via", "at"}), salted=True),
        EntryType("device.revoked", frozenset({"at"}), salted=True),
        EntryType("enrollment_code.issued", frozenset({"expires_at", "at"}), salted=True),
        EntryType("reference.changed", frozenset({"topic", "deleted", "at"}), salted=True),
        # A draw's commitment and its published file are public: unsalted, so the entry's
        # digest is the commitment's own digest (xuncha_core.inspections.commitment).
        EntryType("draw.committed", frozenset({"draw_id", "at"}), salted=False),
        EntryType("draw.published", frozenset({"draw_id", "at"}), salted=False),
        EntryType("conflict.changed", frozenset({"deleted", "at"}), salted=True),
        EntryType("pin.changed", frozenset({"at"}), salted=True),
    )
}
_RECORD_REF = frozenset({"record_id", "revision"})


@dataclass(frozen=True)
class NewEntry:
    """An entry about to be appended: its committed form (published) and what it commits to (kept)."""

    committed: dict[str, Any]
    content: Any
    salt: str | None
    content_text: str  # canonical JSON of ``content``

    @property
    def type(self) -> str:
        return str(self.committed["type"])

    @property
    def record_id(self) -> str | None:
        """The record this entry is about (record.accepted, review.recorded), else None."""
        return record_id_of(self.committed)


# -- commitments -------------------------------------------------------------------------


def new_salt() -> str:
    return secrets.token_hex(SALT_BYTES)


def content_digest(content: Any, salt: str | None) -> str:
    """The commitment to ``content``: SHA-256 of its canonical JSON, salted when a salt is given."""
    committed = content if salt is None else {"content": content, "salt": salt}
    return hashlib.sha256(canonical_bytes(committed)).hexdigest()


def _new(name: str, public: dict[str, Any], content: Any, salt: str | None, content_text: str | None = None) -> NewEntry:
    text = content_text if content_text is not None else canonical_text(content)
    salt = (salt or new_salt()) if TYPES[name].salted else None
    if salt is not None and not _SALT.fullmatch(salt):
        raise ValueError(f"a salt is {2 * SALT_BYTES} lowercase hex digits, not {salt!r}")
    # == content_digest(content, salt), from the text already made: "content" sorts before "salt".
    committed = text if salt is None else f'{{"content":{text},"salt":"{salt}"}}'
    digest = hashlib.sha256(committed.encode("utf-8")).hexdigest()
    return NewEntry(committed={"type": name, **public, "digest": digest}, content=content, salt=salt, content_text=text)


# -- one constructor per type ------------------------------------------------------------


def record_accepted(*, envelope: Mapping[str, Any], received_at: str, envelope_text: str | None = None) -> NewEntry:
    """A revision the server accepted; ``envelope_text`` is its canonical JSON, if already made."""
    ref = {"record_id": envelope["record_id"], "revision": envelope["revision"]}
    return _new("record.accepted", {"record": ref, "received_at": received_at}, dict(envelope), None, envelope_text)


def review_recorded(
    *, record_id: str, revision: int, action: str, reason: str | None, reviewer: str, at: str, salt: str | None = None
) -> NewEntry:
    content = {"action": action, "reason": reason, "reviewer": reviewer}
    return _new("review.recorded", {"record_id": record_id, "revision": revision, "at": at}, content, salt)


def photo_received(
    *, sha256: str, size: int, mime: str, width: int, height: int, uploaded_by: str, received_at: str,
    salt: str | None = None,
) -> NewEntry:
    public = {"sha256": sha256, "size": size, "mime": mime, "width": width, "height": height, "received_at": received_at}
    return _new("photo.received", public, {"uploaded_by": uploaded_by}, salt)


def user_created(
    *, username: str, display_name: str, role: str, cert_no: str | None, by: str, at: str, salt: str | None = None
) -> NewEntry:
    content = {"username": username, "display_name": display_name, "cert_no": cert_no, "by": by}
    return _new("user.created", {"role": role, "at": at}, content, salt)


def device_enrolled(
    *, device_id: str, username: str, name: str, kind: str, via: str, at: str, salt: str | None = None
) -> NewEntry:
    content = {"device_id": device_id, "username": username, "name": name}
    return _new("device.enrolled", {"kind": kind, "via": via, "at": at}, content, salt)


def device_revoked(*, device_id: str, reason: str, by: str, at: str, salt: str | None = None) -> NewEntry:
    return _new("device.revoked", {"at": at}, {"device_id": device_id, "reason": reason, "by": by}, salt)


def enrollment_code_issued(*, username: str, by: str, expires_at: str, at: str, salt: str | None = None) -> NewEntry:
    return _new("enrollment_code.issued", {"expires_at": expires_at, "at": at}, {"username": username, "by": by}, salt)


def reference_changed(
    *, topic: str, key: str, payload: Any, by: str, at: str, salt: str | None = None
) -> NewEntry:
    public = {"topic": topic, "deleted": payload is None, "at": at}
    return _new("reference.changed", public, {"key": key, "payload": payload, "by": by}, salt)


def draw_committed(*, draw_id: str, commitment_body: Mapping[str, Any], at: str) -> NewEntry:
    """A draw's commitment (without its digest and ledger index), appended before the random values exist."""
    return _new("draw.committed", {"draw_id": draw_id, "at": at}, dict(commitment_body), None)


def draw_published(*, draw_id: str, file: Mapping[str, Any], at: str) -> NewEntry:
    return _new("draw.published", {"draw_id": draw_id, "at": at}, dict(file), None)


def conflict_changed(
    *, inspector: str, entity: str, kind: str | None, note: str, by: str, at: str, salt: str | None = None
) -> NewEntry:
    """A conflict of interest set (``kind``) or removed (``kind`` None): private, so salted."""
    content = {"inspector": inspector, "entity": entity, "kind": kind, "note": note, "by": by}
    return _new("conflict.changed", {"deleted": kind is None, "at": at}, content, salt)


def pin_changed(*, username: str, at: str, salt: str | None = None) -> NewEntry:
    """An inspector set their PIN (the hash itself is kept apart, never in the ledger)."""
    return _new("pin.changed", {"at": at}, {"username": username}, salt)


# -- reading and checking ----------------------------------------------------------------


def parse(entry: str | Mapping[str, Any]) -> dict[str, Any] | None:
    """The committed form ``entry`` holds (its text or parsed), or None for a legacy entry.

    Raises IntegrityError ``ledger.entry_malformed`` for anything that is neither a
    committed form nor an entry of a known type (a JSON object with a known ``type``).
    """
    value = _object(entry)
    name = value.get("type")
    kind = TYPES.get(name) if isinstance(name, str) else None
    if kind is None:
        raise _error(
            "ledger.entry_malformed",
            f"the ledger entry's type {value.get('type')!r} is none this software knows; update it",
            "账本条目的类型无法识别，请更新软件",
        )
    if set(value) != {"type", "digest", *kind.public} or not isinstance(value["digest"], str):
        return None
    if kind.name == "record.accepted":
        ref = value["record"]
        if not isinstance(ref, dict) or set(ref) != _RECORD_REF:
            return None
    if not _HEX64.fullmatch(value["digest"]):
        raise _error("ledger.entry_malformed", "the entry's digest is not 64 lowercase hex digits", "账本条目的摘要格式不正确")
    return value


def record_id_of(entry: Mapping[str, Any]) -> str | None:
    """The record a committed or legacy entry is about, if it is a record's entry."""
    kind, found = entry.get("type"), None
    if kind == "record.accepted" and isinstance(entry.get("record"), dict):
        found = entry["record"].get("record_id")
    elif kind == "review.recorded":
        found = entry.get("record_id")
    return found if isinstance(found, str) else None


def check_content(entry: str | Mapping[str, Any], content: Any, salt: str | None) -> None:
    """That ``content`` (with ``salt``) is what the committed ``entry`` commits to; else IntegrityError.

    The audit verifier and the phone both call this. Codes: ``ledger.not_committed`` (a
    legacy entry holds its content itself), ``ledger.salt_invalid``,
    ``ledger.content_malformed``, ``ledger.content_mismatch``.
    """
    committed = parse(entry)
    if committed is None:
        raise _error("ledger.not_committed", "this is a legacy entry: its text holds its content itself",
                     "这是旧格式的账本条目，其内容就在条目文本中")
    kind = TYPES[committed["type"]]
    if kind.salted and not (isinstance(salt, str) and _SALT.fullmatch(salt)):
        raise _error("ledger.salt_invalid", f"a {kind.name} entry's content needs its salt: {2 * SALT_BYTES} lowercase hex digits",
                     "该条目的内容须附带盐值（32 位十六进制）")
    if not kind.salted and salt is not None:
        raise _error("ledger.salt_invalid", f"a {kind.name} entry is not salted; its salt must be null", "该类条目没有盐值")
    if _plain_json_digest(content, salt) == committed["digest"]:
        digest = committed["digest"]
    else:
        try:
            digest = content_digest(content, salt)
        except (TypeError, ValueError) as exc:
            raise _error("ledger.content_malformed", f"the content is not canonical JSON ({exc})", "条目内容不是有效的 JSON") from exc
    if digest != committed["digest"]:
        raise _error(
            "ledger.content_mismatch",
            f"the content hashes to {digest}, not the committed digest {committed['digest']}: it was altered",
            "条目内容与账本中的摘要不符：内容已被改动",
            {"expected": committed["digest"], "actual": digest},
        )
    if kind.name == "record.accepted" and isinstance(content, dict):
        ref = {"record_id": content.get("record_id"), "revision": content.get("revision")}
        if ref != committed["record"]:
            raise _error("ledger.content_mismatch", "the envelope is not the record and revision the entry names",
                         "记录内容与账本条目所指的记录或版本不符")


def _plain_json_digest(content: Any, salt: str | None) -> str | None:
    """The digest of the content as the standard library writes it compactly with sorted keys:
    that is the canonical form for most contents (keys in code-point order equal UTF-16 order,
    no fractions), and many times faster to make. A match proves the content (SHA-256 binds
    the exact canonical bytes); a miss proves nothing, and the caller then canonicalises."""
    value = content if salt is None else {"content": content, "salt": salt}
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    except (TypeError, ValueError, RecursionError):
        return None


def legacy_record_accepted(envelope: Mapping[str, Any], *, digest: str, received_at: str) -> str:
    """The exact text a record.accepted entry had before commitments existed, rebuilt from
    the envelope and the receipt's digest and time (what a phone holds)."""
    return canonical_text({"type": "record.accepted", "record": dict(envelope), "digest": digest, "received_at": received_at})


def _object(entry: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(entry, str):
        try:
            value = json.loads(entry)
        except ValueError as exc:
            raise _error("ledger.entry_malformed", f"the ledger entry is not JSON ({exc})", "账本条目不是有效的 JSON") from exc
    else:
        value = dict(entry)
    if not isinstance(value, dict):
        raise _error("ledger.entry_malformed", "a ledger entry must be a JSON object", "账本条目必须是 JSON 对象")
    return value


def _error(code: str, message: str, message_zh: str, detail: dict[str, Any] | None = None) -> IntegrityError:
    return IntegrityError(code=code, message=message, message_zh=message_zh, detail=dict(detail or {}))
