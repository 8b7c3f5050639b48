"""Check an audit bundle offline: no server, no network, no database.

``verify_bundle(path, trusted)`` opens the ZIP (never extracting it), checks
everything the bundle claims (leaf hashes, the root or inclusion proofs, each
committed entry's content against its digest, photos, the checkpoints) and
returns a ``Report`` listing *every* failure, each naming its subject (``entry 17``,
``photo 3fa1…``, ``checkpoint``, …), so the auditor learns all that is wrong in one run. It imports only the shared
pure rules (``xuncha_core``) and the standard library, so it can be copied to an
auditor's laptop with them.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.audit import bundle
from xuncha_core import checkpoint as cpmod
from xuncha_core import ledger_entries
from xuncha_core.errors import IntegrityError
from xuncha_core.merkle import leaf_hash, root, verify_consistency, verify_inclusion

_SHA256 = re.compile(r"[0-9a-f]{64}")
_LINE_INDEX = re.compile(r'\{"index":\s*(\d+)')


@dataclass(frozen=True)
class Failure:
    subject: str  # "entry 17", "photo <sha256>", "checkpoint", "trusted checkpoint", "bundle", "root"
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass
class Report:
    failures: list[Failure] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    checkpoint: cpmod.Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, subject: str, message: str) -> None:
        self.failures.append(Failure(subject, message))


def verify_bundle(path: Path, trusted: cpmod.Checkpoint | None = None) -> Report:
    """Check the bundle at ``path``, and its consistency with ``trusted`` when given."""
    report = Report()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.fail("bundle", f"cannot open {path.name} as a ZIP file ({exc})")
        return report
    with zf:
        _check(zf, trusted, report)
    return report


def _check(zf: zipfile.ZipFile, trusted: cpmod.Checkpoint | None, report: Report) -> None:
    names = set(zf.namelist())
    missing = [n for n in (bundle.MANIFEST, bundle.CHECKPOINT, bundle.ENTRIES) if n not in names]
    if missing:
        report.fail("bundle", f"lacks {', '.join(missing)}: this is not a complete audit bundle")
        return
    manifest = _json(zf, bundle.MANIFEST, report)
    if not isinstance(manifest, dict) or manifest.get("format") not in bundle.FORMATS:
        report.fail("bundle", f"manifest.json does not declare format {bundle.FORMAT}")
        return
    full = manifest.get("scope") == "full"

    cp = _checkpoint(zf, names, report)
    if cp is None:
        return
    report.checkpoint = cp
    if manifest.get("tree_size") != cp.size:
        report.fail("bundle", f"the manifest says tree size {manifest.get('tree_size')}, the checkpoint {cp.size}")

    received, referenced, leaves = _entries(zf, cp, full, report)
    _photos(zf, names, received, referenced, report)
    if trusted is not None:
        _trusted(trusted, cp, manifest, leaves if full else None, report)


def _json(zf: zipfile.ZipFile, name: str, report: Report) -> Any:
    try:
        return json.loads(zf.read(name))
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        report.fail("bundle", f"{name} is unreadable ({exc})")
        return None


def _checkpoint(zf: zipfile.ZipFile, names: set[str], report: Report) -> cpmod.Checkpoint | None:
    data = _json(zf, bundle.CHECKPOINT, report)
    try:
        cp = cpmod.Checkpoint.from_dict(data)
    except IntegrityError as exc:
        report.fail("checkpoint", exc.message)
        return None
    try:
        cpmod.verify(cp)
        report.passed.append(f"checkpoint signature (key {cp.key_id}, size {cp.size}, root {cp.root.hex()})")
    except IntegrityError as exc:
        report.fail("checkpoint", exc.message)
    if bundle.PUBLIC_KEY in names:
        try:
            if cpmod.public_key_from_pem(zf.read(bundle.PUBLIC_KEY)) != cp.public_key:
                report.fail("checkpoint", "public_key.pem is not the key that signed checkpoint.json")
        except IntegrityError as exc:
            report.fail("checkpoint", f"public_key.pem: {exc.message}")
    return cp


@dataclass
class _Seen:
    """What the entries told so far: photos received (sha → (index, size)) and referenced
    (sha → index of a record.accepted entry), leaf hashes in order, and tallies."""

    received: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    referenced: dict[str, int] = field(default_factory=dict)
    leaves: list[bytes] = field(default_factory=list)
    indexes: set[int] = field(default_factory=set)
    bad_proofs: int = 0
    contents: int = 0
    legacy: int = 0


def _entries(
    zf: zipfile.ZipFile, cp: cpmod.Checkpoint, full: bool, report: Report
) -> tuple[dict[str, tuple[int, int | None]], dict[str, int], list[bytes]]:
    """Check each entry; answer the photos received and referenced, and the recomputed leaf hashes in order."""
    seen = _Seen()
    with zf.open(bundle.ENTRIES) as raw:
        for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), 1):
            try:
                item = json.loads(line)
                index, text, claimed = item["index"], item["entry"], bytes.fromhex(item["leaf_hash"])
                if not isinstance(index, int) or not isinstance(text, str):
                    raise TypeError("index must be a number and entry a string")
            except (ValueError, KeyError, TypeError) as exc:
                named = _LINE_INDEX.match(line)  # a line cut or garbled in its content still names its entry
                report.fail(f"entry {named.group(1)}" if named else "bundle", f"entries.jsonl line {number} is malformed ({exc})")
                continue
            if index in seen.indexes or not 0 <= index < cp.size:
                report.fail(f"entry {index}", f"is duplicated or outside the checkpoint's {cp.size} entries")
                continue
            seen.indexes.add(index)
            full = _check_leaf(item, index, text, claimed, cp, full, seen, report)
            _check_content(item, index, text, seen, report)
    if full:
        if len(seen.leaves) != cp.size:
            report.fail("bundle", f"a full export must hold all {cp.size} entries; it holds {len(seen.leaves)}")
        elif root(seen.leaves) != cp.root:
            report.fail("root", f"the root recomputed from all {cp.size} entries is not the signed root {cp.root.hex()}")
        else:
            report.passed.append(f"root recomputed from all {cp.size} entries equals the signed root")
    elif seen.indexes and not seen.bad_proofs:
        report.passed.append(f"inclusion proofs of {len(seen.indexes)} entries against the signed root")
    if seen.contents:
        report.passed.append(f"the contents of {seen.contents} entries match the digests they commit to")
    if seen.legacy:
        report.passed.append(f"{seen.legacy} legacy entries hold their content in their own text")
    return seen.received, seen.referenced, seen.leaves


def _check_leaf(
    item: dict[str, Any], index: int, text: str, claimed: bytes, cp: cpmod.Checkpoint, full: bool, seen: _Seen,
    report: Report,
) -> bool:
    """The entry's leaf, and its place in the tree; answers whether the export still counts as full."""
    subject = f"entry {index}"
    leaf = leaf_hash(text.encode("utf-8"))
    if leaf != claimed:
        report.fail(subject, f"its text hashes to leaf {leaf.hex()}, not {claimed.hex()}: the entry was altered")
    if full:
        if index != len(seen.leaves):
            report.fail("bundle", f"a full export must list entries in order; entry {index} came at position {len(seen.leaves)}")
            return False
        seen.leaves.append(leaf)
        return True
    try:
        proof = [bytes.fromhex(h) for h in item.get("inclusion") or []]
        verify_inclusion(leaf, index, cp.size, proof, cp.root)
    except (ValueError, TypeError) as exc:
        report.fail(subject, f"its inclusion proof is malformed ({exc})")
        seen.bad_proofs += 1
    except IntegrityError as exc:
        report.fail(subject, f"is not in the signed tree: {exc.message}")
        seen.bad_proofs += 1
    return False


def _check_content(item: dict[str, Any], index: int, text: str, seen: _Seen, report: Report) -> None:
    """A committed entry's content against its digest; then note the photos the entry names."""
    subject = f"entry {index}"
    try:
        committed = ledger_entries.parse(text)
    except IntegrityError as exc:
        report.fail(subject, exc.message)
        return
    if committed is None:  # legacy: the text is the whole entry
        seen.legacy += 1
        entry = json.loads(text)
        _note_photos(entry, entry.get("record"), index, seen)
        return
    _note_photos(committed, None, index, seen)  # a photo.received entry's facts are public: the leaf holds them
    if "content" not in item:
        report.fail(subject, "carries no content: the bundle cannot show what this entry commits to")
        return
    try:
        ledger_entries.check_content(committed, item["content"], item.get("salt"))
    except IntegrityError as exc:
        report.fail(subject, f"its content does not match the digest it commits to: {exc.message}")
        return
    seen.contents += 1
    _note_photos(committed, item["content"], index, seen)


def _note_photos(entry: dict[str, Any], envelope: Any, index: int, seen: _Seen) -> None:
    """Photos a photo.received entry records (its public sha256 and size), or a record's envelope names."""
    if entry.get("type") == "photo.received" and isinstance(entry.get("sha256"), str):
        size = entry.get("size")
        seen.received[entry["sha256"]] = (index, size if isinstance(size, int) else None)
    elif entry.get("type") == "record.accepted" and isinstance(envelope, dict):
        for sha in envelope.get("photos") or []:
            if isinstance(sha, str):
                seen.referenced.setdefault(sha, index)


def _photos(
    zf: zipfile.ZipFile,
    names: set[str],
    received: dict[str, tuple[int, int | None]],
    referenced: dict[str, int],
    report: Report,
) -> None:
    files = sorted(n[len(bundle.PHOTOS) :] for n in names if n.startswith(bundle.PHOTOS) and n != bundle.PHOTOS)
    good = 0
    for name in files:
        subject = f"photo {name}"
        if not _SHA256.fullmatch(name):
            report.fail(subject, "is not named by a lowercase hex SHA-256")
            continue
        data = zf.read(bundle.PHOTOS + name)
        actual = hashlib.sha256(data).hexdigest()
        ok = True
        if actual != name:
            report.fail(subject, f"its bytes hash to {actual}: the photo file was altered")
            ok = False
        if name not in received:
            report.fail(subject, "has no photo.received entry in the bundle: the ledger never recorded it")
            ok = False
        elif received[name][1] is not None and received[name][1] != len(data):
            report.fail(subject, f"is {len(data)} bytes; its photo.received entry {received[name][0]} says {received[name][1]}")
            ok = False
        good += ok
    for sha, (index, _size) in sorted(received.items()):
        if sha not in files:
            report.fail(f"photo {sha}", f"was received (entry {index}) but its file is missing from the bundle")
    pending = sorted(set(referenced) - set(received))
    if pending:
        report.passed.append(
            f"{len(pending)} photo(s) referenced by records never reached the server (photos pending), e.g. {pending[0]}"
        )
    if files:
        report.passed.append(f"{good} of {len(files)} photo(s) match their SHA-256 and photo.received entry")


def _trusted(
    trusted: cpmod.Checkpoint,
    cp: cpmod.Checkpoint,
    manifest: dict[str, Any],
    leaves: list[bytes] | None,
    report: Report,
) -> None:
    subject = "trusted checkpoint"
    try:
        cpmod.verify(trusted, trusted_public_key=cp.public_key)
    except IntegrityError as exc:
        report.fail(subject, exc.message)
        return
    m, n = trusted.size, cp.size
    if m > n:
        report.fail(subject, f"is of size {m}, newer than the bundle's {n}: export a newer bundle")
        return
    if leaves is not None and len(leaves) == n:
        if root(leaves[:m]) != trusted.root:
            report.fail(
                subject,
                f"the bundle's first {m} entries do not hash to the trusted root {trusted.root.hex()}: "
                "entries before it were altered, removed or reordered",
            )
        else:
            report.passed.append(f"the first {m} entries still hash to the trusted root of {trusted.timestamp}")
    proofs = [p for p in manifest.get("consistency") or [] if isinstance(p, dict) and p.get("first") == m]
    if m in (0, n):
        proofs = proofs or [{"first": m, "second": n, "hashes": []}]
    if not proofs and leaves is None:
        report.fail(subject, f"the bundle has no consistency proof from size {m}; export it with --trusted-size {m}")
        return
    for p in proofs:
        try:
            hashes = [bytes.fromhex(h) for h in p.get("hashes") or []]
            if p.get("second") != n:
                raise ValueError(f"the proof is to size {p.get('second')}, not {n}")
            verify_consistency(m, n, hashes, trusted.root, cp.root)
            report.passed.append(f"consistency from the trusted size {m} to {n}")
        except ValueError as exc:
            report.fail(subject, f"the consistency proof from size {m} is malformed ({exc})")
        except IntegrityError as exc:
            report.fail(subject, f"not consistent with the bundle: {exc.message}")
