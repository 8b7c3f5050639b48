"""``xuncha-server audit …``: export a bundle, verify one offline, save a checkpoint to trust later.

    audit export --out FILE.zip [--record UUID …] [--trusted-size N …]
    audit verify FILE.zip [--trusted-checkpoint OLD.json]      (no server, no database)
    audit checkpoint --out FILE.json

Exit codes: 0 all holds, 1 verification found failures, 2 the command could not run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy import Engine

import argparse
import json
import os
import sys
from pathlib import Path

from server.infra.settings import Settings


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="export and verify audit bundles").add_subparsers(
        dest="audit_command", required=True
    )
    ex = audit.add_parser("export", help="write an audit bundle (all entries, or those of some records)")
    ex.add_argument("--out", required=True, type=Path, help="the ZIP file to write")
    ex.add_argument("--record", action="append", default=[], metavar="UUID", help="export only this record (repeatable)")
    ex.add_argument(
        "--trusted-size",
        action="append",
        default=[],
        type=int,
        metavar="N",
        help="add a consistency proof from the tree of N entries (the size of a checkpoint an auditor kept)",
    )
    ex.set_defaults(func=cmd_export)
    ve = audit.add_parser("verify", help="check a bundle offline; exit 0 only if everything holds")
    ve.add_argument("bundle", type=Path)
    ve.add_argument("--trusted-checkpoint", type=Path, help="a checkpoint JSON saved earlier, to prove nothing before it changed")
    ve.set_defaults(func=cmd_verify)
    cp = audit.add_parser("checkpoint", help="save the current signed checkpoint, to trust later")
    cp.add_argument("--out", required=True, type=Path)
    cp.set_defaults(func=cmd_checkpoint)


def _open(settings: Settings) -> tuple[Engine, Ed25519PrivateKey]:
    from server.infra.db import make_engine
    from server.infra.migrations import migrate
    from server.ledger.signing import load_or_create_key

    settings.ensure_dirs()
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    migrate(engine)
    return engine, load_or_create_key(settings.signing_key_path)


def cmd_export(args: argparse.Namespace) -> int:
    from server.audit.export import export_bundle
    from xuncha_core.errors import XunchaError

    settings = Settings.from_env()
    engine, key = _open(settings)
    try:
        summary = export_bundle(
            engine=engine,
            key=key,
            photos_dir=settings.photos_dir,
            out=args.out,
            records=args.record,
            trusted_sizes=args.trusted_size,
        )
    except XunchaError as exc:
        print(f"export refused: {exc.message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(
        f"wrote {summary.path}: {summary.entry_count} entries and {summary.photo_count} photos, "
        f"proven against the signed tree of {summary.tree_size} entries"
    )
    for sha in summary.missing_photos:
        print(f"warning: photo {sha} is in the ledger but not in the photo folder", file=sys.stderr)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from server.audit.verify import verify_bundle
    from xuncha_core.checkpoint import Checkpoint
    from xuncha_core.errors import IntegrityError

    trusted = None
    if args.trusted_checkpoint:
        try:
            trusted = Checkpoint.from_dict(json.loads(args.trusted_checkpoint.read_text(encoding="utf-8")))
        except (OSError, ValueError, IntegrityError) as exc:
            print(f"cannot read the trusted checkpoint {args.trusted_checkpoint}: {exc}", file=sys.stderr)
            return 2
    report = verify_bundle(args.bundle, trusted)
    if report.checkpoint:
        cp = report.checkpoint
        print(f"bundle signed by key {cp.key_id}: {cp.size} entries, root {cp.root.hex()}, at {cp.timestamp}")
    for line in report.passed:
        print(f"ok    {line}")
    for failure in report.failures:
        print(f"FAIL  {failure}")
    if report.ok:
        print("VERIFIED: every check holds")
        return 0
    print(f"NOT VERIFIED: {len(report.failures)} failure(s)")
    return 1


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from server.infra.db import read
    from server.ledger.signing import current_checkpoint

    engine, key = _open(Settings.from_env())
    try:
        with read(engine) as conn:
            cp = current_checkpoint(conn, key)
    finally:
        engine.dispose()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.partial")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(cp.as_dict(), f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, args.out)
    print(f"saved checkpoint of {cp.size} entries (root {cp.root.hex()}, key {cp.key_id}) to {args.out}")
    return 0
