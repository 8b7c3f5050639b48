"""Write an audit bundle (see ``server.audit.bundle``) from the ledger and the photo folder.

The bundle is proven against one signed checkpoint of size N taken at the start;
entries and nodes below N never change (the database refuses it), so the export
is consistent even while the server keeps appending. The entries chosen come
from the ledger itself, not from the mutable record tables: what an auditor
checks is what was hashed.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from server import tables as t
from server.audit import bundle
from server.db import read
from server.ledger import proofs, signing
from xuncha_core.checkpoint import public_key_pem
from xuncha_core.errors import Problem, ValidationError

_PHOTO_MARK = '"type":"photo.received"'
_BATCH = 5000
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
            selected = _record_entries(conn, records, size)
            lines: Iterable[dict[str, Any]] = [
                {
                    "index": idx,
                    "entry": text,
                    "leaf_hash": leaf.hex(),
                    "inclusion": [h.hex() for h in proofs.inclusion_proof(conn, idx, size)],
                }
                for idx, text, leaf in selected
            ]
        else:
            lines = (
                {"index": idx, "entry": text, "leaf_hash": leaf.hex()}
                for idx, text, leaf in _all_entries(conn, size)
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial")
        photos: set[str] = set()
        count = 0
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            with zf.open(bundle.ENTRIES, "w", force_zip64=True) as f:
                for line in lines:
                    if _PHOTO_MARK in line["entry"]:
                        sha = _received_photo(line["entry"])
                        if sha:
                            photos.add(sha)
                    f.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
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
                "created_at": datetime.now(UTC).isoformat(),
                "scope": "records" if records else "full",
                "records": list(records),
                "tree_size": size,
                "entry_count": count,
                "photo_count": len(photos) - len(missing),
                "consistency": consistency,
            }
            zf.writestr(bundle.MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return ExportSummary(out, size, count, len(photos) - len(missing), missing)


def _all_entries(conn: Any, size: int) -> Iterator[tuple[int, str, bytes]]:
    e = t.ledger_entries.c
    start = 0
    while start < size:  # keyset pages keep memory flat on any backend
        rows = conn.execute(
            select(e.idx, e.entry, e.leaf_hash)
            .where(e.idx >= start, e.idx < min(size, start + _BATCH))
            .order_by(e.idx)
        ).all()
        for r in rows:
            yield int(r.idx), r.entry, bytes(r.leaf_hash)
        start += _BATCH


def _record_entries(conn: Any, record_ids: Sequence[str], size: int) -> list[tuple[int, str, bytes]]:
    """Each record's record.accepted and review.recorded entries, and the photo.received
    entries of the photos its revisions refer to, in ledger order."""
    e = t.ledger_entries.c
    chosen: dict[int, tuple[int, str, bytes]] = {}
    photos: set[str] = set()
    unknown = []
    for record_id in record_ids:
        rows = conn.execute(
            select(e.idx, e.entry, e.leaf_hash).where(e.idx < size, e.entry.contains(record_id, autoescape=True))
        ).all()
        found = False
        for r in rows:
            entry = _parse(r.entry)
            kind = entry.get("type")
            record = entry.get("record") if kind == "record.accepted" else None
            if isinstance(record, dict) and record.get("record_id") == record_id:
                photos.update(p for p in record.get("photos") or [] if isinstance(p, str))
            elif not (kind == "review.recorded" and entry.get("record_id") == record_id):
                continue
            found = True
            chosen[int(r.idx)] = (int(r.idx), r.entry, bytes(r.leaf_hash))
        if not found:
            unknown.append(record_id)
    if unknown:
        raise ValidationError.of(
            [Problem("record", "audit.record_not_found", f"record {r} has no entry in the ledger; check the UUID") for r in unknown],
            code="audit.record_not_found",
        )
    if photos:
        rows = conn.execute(
            select(e.idx, e.entry, e.leaf_hash).where(e.idx < size, e.entry.contains(_PHOTO_MARK, autoescape=True))
        ).all()
        for r in rows:
            if _received_photo(r.entry) in photos:
                chosen[int(r.idx)] = (int(r.idx), r.entry, bytes(r.leaf_hash))
    return [chosen[i] for i in sorted(chosen)]


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
