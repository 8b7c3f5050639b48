"""Write an audit bundle (see ``server.audit.bundle``) from the ledger and the photo folder.

The bundle is proven against one signed checkpoint of size N taken at the start;
entries and nodes below N never change (the database refuses it), so the export
is consistent even while the server keeps appending. The entries chosen come
from the ledger and the contents beside it (both append-only), not from the
mutable record tables: what an auditor checks is what was hashed. Each committed
entry's line carries its content and salt, so the bundle holds personal data.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from server.audit import bundle
from server.infra import clock
from server.infra import tables as t
from server.infra.db import read
from server.ledger import contents, proofs, signing
from server.ledger.contents import StoredContent
from xuncha_core.checkpoint import public_key_pem
from xuncha_core.errors import Problem, ValidationError

_PHOTO_MARK = '"type":"photo.received"'
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    tree_size: int
    entry_count: int
    photo_count: int
    missing_photos: list[str]


def export_bundle(
    *,
    engine: Engine,
    key: Ed25519PrivateKey,
    photos_dir: Path,
    out: Path,
    records: Sequence[str] = (),
    trusted_sizes: Sequence[int] = (),
) -> ExportSummary:
    """Write the bundle to ``out`` (atomically: a temporary file, then renamed).

    ``records`` empty means a full export. Raises ValidationError (``audit.*``)
    for a record that is not in the ledger or a trusted size beyond it.
    """
    with read(engine) as conn:
        cp = signing.current_checkpoint(conn, key)
        size = cp.size
        bad = [s for s in trusted_sizes if not 0 <= s <= size]
        if bad:
            raise ValidationError.of(
                [Problem("trusted_size", "audit.size_out_of_range", f"the ledger holds {size} entries; {s} is beyond it") for s in bad],
                code="audit.size_out_of_range",
            )
        consistency = [
            {"first": m, "second": size, "hashes": [h.hex() for h in proofs.consistency_proof(conn, m, size)]}
            for m in sorted(set(trusted_sizes))
        ]
        if records:
            lines: Iterable[tuple[str, str]] = [
                _line(stored, [h.hex() for h in proofs.inclusion_proof(conn, stored.index, size)])
                for stored in _record_entries(conn, records, size)
            ]
        else:
            lines = (_line(stored) for stored in contents.read_range(conn, 0, size))
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial")
        manifest = {"scope": "records" if records else "full", "records": list(records), "consistency": consistency}
        count, kept, missing = _write_zip(tmp, lines, photos_dir, cp, manifest)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return ExportSummary(out, size, count, kept, missing)


def _write_zip(
    tmp: Path, lines: Iterable[tuple[str, str]], photos_dir: Path, cp: Any, manifest: dict[str, Any]
) -> tuple[int, int, list[str]]:
    """Write the entries, the photos they record, the checkpoint and the manifest; answer the
    entry count, the photos kept and those missing from the photo folder."""
    photos: set[str] = set()
    count = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(bundle.ENTRIES, "w", force_zip64=True) as f:
            for entry, line in lines:
                if _PHOTO_MARK in entry:
                    sha = _received_photo(entry)
                    if sha:
                        photos.add(sha)
                f.write(line.encode("utf-8") + b"\n")
                count += 1
        missing = []
        for sha in sorted(photos):
            path = photos_dir / sha[:2] / sha
            if path.is_file():
                zf.write(path, bundle.PHOTOS + sha, compress_type=zipfile.ZIP_STORED)
            else:
                missing.append(sha)
        zf.writestr(bundle.CHECKPOINT, json.dumps(cp.as_dict(), indent=2))
        zf.writestr(bundle.PUBLIC_KEY, public_key_pem(cp.public_key))
        zf.writestr(bundle.README, bundle.README_TEXT)
        manifest = {
            "format": bundle.FORMAT,
            "created_at": clock.timestamp(),
            "scope": manifest["scope"],
            "records": manifest["records"],
            "tree_size": cp.size,
            "entry_count": count,
            "photo_count": len(photos) - len(missing),
            "consistency": manifest["consistency"],
        }
        zf.writestr(bundle.MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return count, len(photos) - len(missing), missing


def _line(stored: StoredContent, inclusion: list[str] | None = None) -> tuple[str, str]:
    """The entry's text, and its line in entries.jsonl (the stored content's JSON written as is)."""
    head = json.dumps({"index": stored.index, "entry": stored.entry, "leaf_hash": stored.leaf_hash.hex()}, ensure_ascii=False)
    parts = [head[:-1]]
    if not stored.legacy:  # a legacy entry's text is its content
        parts.append(f',"content":{stored.content_text or "null"},"salt":{json.dumps(stored.salt)}')
    if inclusion is not None:
        parts.append(f',"inclusion":{json.dumps(inclusion)}')
    return stored.entry, "".join(parts) + "}"


def _record_entries(conn: Any, record_ids: Sequence[str], size: int) -> list[StoredContent]:
    """Each record's record.accepted and review.recorded entries, and the photo.received
    entries of the photos its revisions refer to, in ledger order."""
    chosen: set[int] = set()
    unknown = []
    for record_id in record_ids:
        found = contents.record_entry_indexes(conn, record_id, size)
        if not found:
            unknown.append(record_id)
        chosen.update(found)
    if unknown:
        raise ValidationError.of(
            [Problem("record", "audit.record_not_found", f"record {r} has no entry in the ledger; check the UUID") for r in unknown],
            code="audit.record_not_found",
        )
    selected = contents.read_many(conn, sorted(chosen))
    photos = {sha for stored in selected for sha in _photos_of(stored)}
    if photos:
        e = t.ledger_entries.c
        rows = conn.execute(
            select(e.idx, e.entry).where(e.idx < size, e.entry.contains(_PHOTO_MARK, autoescape=True))
        ).all()
        extra = [int(r.idx) for r in rows if _received_photo(r.entry) in photos]
        selected += contents.read_many(conn, extra)
    return sorted(selected, key=lambda s: s.index)


def _photos_of(stored: StoredContent) -> list[str]:
    """The photos a record.accepted entry's envelope refers to (a legacy entry holds it inside)."""
    content = stored.content if stored.type == "record.accepted" else None
    if not isinstance(content, dict):
        return []
    envelope = content.get("record") if stored.legacy else content
    photos = envelope.get("photos") if isinstance(envelope, dict) else None
    return [p for p in photos if isinstance(p, str)] if isinstance(photos, list) else []


def _parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _received_photo(text: str) -> str | None:
    entry = _parse(text)
    sha = entry.get("sha256")
    if entry.get("type") == "photo.received" and isinstance(sha, str) and _SHA256.fullmatch(sha):
        return sha
    return None
