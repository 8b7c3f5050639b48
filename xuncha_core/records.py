"""The record envelope: what a phone sends and the server keeps, revision by revision.

A record is identified by a client-generated UUID. Each change is a new
*revision* (1, 2, 3, …) that names the revision it was based on, so nothing is
ever overwritten: a correction points to what it corrects. It names its base twice:
``base_revision`` (the number) and ``base_digest`` (``envelope_digest`` of the base
revision as the phone holds it, the ``digest`` its receipt carries), so a revision
built on a version the server refused is told apart from one built on the version
the server kept. Revision 1 has neither (``base_digest`` is left out of its
envelope, so revision 1 envelopes are what they always were). The envelope carries
who recorded it, on which device, and the three clocks that matter in the
field (device time, GPS time where known, and the server's receive time, which
only the server stamps and which is the only one it orders by).

``content`` is the kind-specific body (see ``xuncha_core.content``); ``photos``
lists the SHA-256 of every evidence photo the content refers to.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from xuncha_core import json_limits
from xuncha_core.canonical import canonical_bytes, canonical_text
from xuncha_core.errors import Problem, ValidationError

RECORD_KINDS: tuple[str, ...] = (
    "remediation_check",  # 环境整治检查
    "recheck",  # 复查: closes a rectification order with "after" photos
    "inspection_result",  # 双随机 inspection result
    "random_inspection",  # 双随机 inspection recorded on site by two inspectors (inspections.inspection_record)
    "routine_assessment",  # 平时考核 of cleaners, when recorded on its own
)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_CONTENT_BYTES = json_limits.MAX_DOCUMENT_BYTES
MAX_PHOTOS_PER_RECORD = 200

ENVELOPE_FIELDS = (
    "record_id",
    "kind",
    "revision",
    "base_revision",
    "base_digest",
    "author",
    "device_id",
    "device_time",
    "gps_time",
    "content",
    "photos",
)


@dataclass(frozen=True)
class RecordRevision:
    record_id: str
    kind: str
    revision: int
    base_revision: int | None
    author: str
    device_id: str
    device_time: str
    gps_time: str | None
    content: dict[str, Any]
    photos: tuple[str, ...] = field(default_factory=tuple)
    base_digest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The envelope as it is stored and hashed (``base_digest`` only when there is a base)."""
        out: dict[str, Any] = {
            "record_id": self.record_id,
            "kind": self.kind,
            "revision": self.revision,
            "base_revision": self.base_revision,
            "author": self.author,
            "device_id": self.device_id,
            "device_time": self.device_time,
            "gps_time": self.gps_time,
            "content": self.content,
            "photos": list(self.photos),
        }
        if self.base_digest is not None:
            out["base_digest"] = self.base_digest
        return out

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical envelope: equal digests mean an identical replay."""
        return envelope_digest(self.as_dict())


def envelope_digest(envelope: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of an envelope's canonical JSON, as stored (``RecordRevision.as_dict``).

    The ``digest`` of the revision's receipt, and what the next revision names as ``base_digest``.
    This is the record digest rule; the phone, the server and an auditor all use it.
    """
    return digest_of_text(canonical_text(dict(envelope)))


def digest_of_text(envelope_text: str) -> str:
    """``envelope_digest`` of an envelope whose canonical JSON is already made."""
    return hashlib.sha256(envelope_text.encode("utf-8")).hexdigest()


def parse_record(data: Any) -> RecordRevision:
    """Check an envelope as received and return it, or raise ValidationError naming every problem."""
    problems: list[Problem] = []

    def bad(path: str, code: str, message: str, message_zh: str = "") -> None:
        problems.append(Problem(path, code, message, message_zh))

    if not isinstance(data, dict):
        raise ValidationError.of([Problem("", "record.not_object", "a record must be a JSON object")])
    # First, what no later rule may echo or store: bad text, absurd nesting, inexact numbers.
    limits = json_limits.document_problems(data, max_bytes=None)
    if limits:
        raise ValidationError.of(limits, code="record.invalid")
    unknown = sorted(set(data) - set(ENVELOPE_FIELDS))
    for name in unknown:
        shown = json_limits.shown(name)
        bad(shown, "record.unknown_field", f"unknown field {shown!r}; remove it")

    record_id = data.get("record_id")
    if not isinstance(record_id, str) or not _is_canonical_uuid(record_id):
        bad("record_id", "record.bad_id", "record_id must be a lowercase UUID such as 0b7c…-…")
    kind = data.get("kind")
    if kind not in RECORD_KINDS:
        bad("kind", "record.bad_kind", f"kind must be one of {', '.join(RECORD_KINDS)}")
    revision = data.get("revision")
    if not _is_int(revision) or revision < 1:
        bad("revision", "record.bad_revision", "revision must be an integer ≥ 1")
    base, base_digest = data.get("base_revision"), data.get("base_digest")
    if _is_int(revision) and revision >= 1:
        _check_base(bad, revision, base, base_digest)
    for name in ("author", "device_id"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 128:
            bad(name, f"record.bad_{name}", f"{name} must be a non-empty string of at most 128 characters")
    device_time = data.get("device_time")
    if not isinstance(device_time, str) or not _is_iso_time(device_time):
        bad("device_time", "record.bad_time", "device_time must be an ISO 8601 time with a UTC offset")
    gps_time = data.get("gps_time")
    if gps_time is not None and (not isinstance(gps_time, str) or not _is_iso_time(gps_time)):
        bad("gps_time", "record.bad_time", "gps_time must be null or an ISO 8601 time with a UTC offset")
    content = data.get("content")
    _check_content(bad, content)
    photos = _checked_photos(bad, data.get("photos", []))

    if problems:
        raise ValidationError.of(problems, code="record.invalid")
    assert isinstance(content, dict)
    return RecordRevision(
        record_id=record_id,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        revision=revision,  # type: ignore[arg-type]
        base_revision=base,
        author=data["author"],
        device_id=data["device_id"],
        device_time=device_time,  # type: ignore[arg-type]
        gps_time=gps_time,
        content=content,
        photos=tuple(photos),
        base_digest=base_digest,
    )


def _check_content(bad: Callable[..., None], content: Any) -> None:
    if not isinstance(content, dict):
        bad("content", "record.bad_content", "content must be a JSON object")
        return
    try:
        size = len(canonical_bytes(content))
    except (TypeError, ValueError) as exc:
        bad("content", "record.bad_content", f"content cannot be canonicalised: {exc}")
        return
    if size > MAX_CONTENT_BYTES:
        bad("content", "record.too_large", f"content is {size} bytes; the limit is {MAX_CONTENT_BYTES}")


def _checked_photos(bad: Callable[..., None], photos: Any) -> list[str]:
    """The photo hashes (empty when the list itself is unfit), each problem reported."""
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS_PER_RECORD:
        bad("photos", "record.bad_photos", f"photos must be a list of at most {MAX_PHOTOS_PER_RECORD} SHA-256 hashes")
        return []
    for i, h in enumerate(photos):
        if not isinstance(h, str) or not SHA256_RE.match(h):
            bad(f"photos.{i}", "record.bad_photo_hash", "each photo must be a lowercase hex SHA-256")
    if len(set(photos)) != len(photos):
        bad("photos", "record.duplicate_photo", "a photo hash is listed twice; list each once")
    return photos


def _check_base(bad: Callable[..., None], revision: int, base: Any, base_digest: Any) -> None:
    """The base of ``revision``: the one before it, named by number and (after 1) by digest."""
    expected = None if revision == 1 else revision - 1
    if base != expected:
        bad("base_revision", "record.bad_base", f"revision {revision} must be based on {expected!r}, not {base!r}")
    if revision == 1 and base_digest is not None:
        bad(
            "base_digest",
            "record.bad_base_digest",
            "revision 1 has no base: leave base_digest out (or null)",
            "第 1 版没有基础版本，请不要填写 base_digest",
        )
    elif revision > 1 and (not isinstance(base_digest, str) or not SHA256_RE.match(base_digest)):
        bad(
            "base_digest",
            "record.bad_base_digest",
            f"revision {revision} needs base_digest: the lowercase hex SHA-256 of revision {revision - 1}'s "
            "canonical envelope (the digest of its receipt)",
            f"第 {revision} 版须填写 base_digest：第 {revision - 1} 版规范化记录的 SHA-256（即其回执中的摘要），小写十六进制",
        )


def new_record_id() -> str:
    return str(uuid.uuid4())


def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**31


def _is_canonical_uuid(s: str) -> bool:
    try:
        return str(uuid.UUID(s)) == s
    except ValueError:
        return False


def _is_iso_time(s: str) -> bool:
    if len(s) > 40:
        return False
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return False
    return t.tzinfo is not None
