"""``xuncha-server backup | restore | photos sweep | key new``: a district's operations commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from server.infra.settings import Settings
from xuncha_core.errors import XunchaError


def _open(settings: Settings) -> tuple[Any, Any]:
    from server.infra.db import make_engine
    from server.infra.migrations import migrate
    from server.photos.blobs import blobs_for

    settings.ensure_dirs()
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    migrate(engine)
    return engine, blobs_for(settings)


def _fail(exc: XunchaError) -> int:
    print(f"{exc.code}: {exc.message}\n{exc.message_zh}", file=sys.stderr)
    return 1


def cmd_backup(args: argparse.Namespace) -> int:
    from server.infra.backup import take_backup
    from server.ledger.key_source import key_file, load_signing_key

    settings = Settings.from_env()
    engine, blobs = _open(settings)
    try:
        key = load_signing_key(settings)
        # One town's key lives in its data folder and goes into the backup; a district's
        # key is given to every process from outside and is kept (and backed up) there.
        own_key = key_file(settings) if settings.signing_key_file is None else None
        summary = take_backup(
            engine,
            blobs,
            out=Path(args.out),
            signing_key=key,
            signing_key_file=own_key,
            photos=args.photos,
        )
    except XunchaError as exc:
        return _fail(exc)
    finally:
        engine.dispose()
    cp = summary.checkpoint
    print(
        f"backup written to {args.out}: ledger size {cp['size']}, root {cp['root']}, {summary.photos} photos ({summary.photos_copied} copied now)"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from server.infra.restore import restore_backup
    from xuncha_core import durable

    settings = Settings.from_env()
    folder = Path(args.folder)
    engine, blobs = _open(settings)
    try:
        summary = restore_backup(engine, blobs, folder=folder)
    except XunchaError as exc:
        return _fail(exc)
    finally:
        engine.dispose()
    key = folder / "ledger_signing_key.pem"
    if key.is_file() and not settings.signing_key_pem and settings.signing_key_file is None:
        durable.create_file(settings.signing_key_path, key.read_bytes(), mode=0o600)
    cp = summary.checkpoint
    print(
        f"restored from {folder}: ledger size {cp['size']}, root {cp['root']}, {summary.photos} photos"
    )
    return 0


def cmd_photos_sweep(args: argparse.Namespace) -> int:
    from server.photos.sweep import sweep

    engine, blobs = _open(Settings.from_env())
    try:
        report = sweep(engine, blobs, delete_stray_chunks=args.delete_stray_chunks)
    except XunchaError as exc:
        return _fail(exc)
    finally:
        engine.dispose()
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if report.consistent else 2


def cmd_key_new(args: argparse.Namespace) -> int:
    from server.ledger.key_source import new_key_file

    try:
        kid = new_key_file(Path(args.out))
    except XunchaError as exc:
        return _fail(exc)
    print(
        f"signing key {kid} written to {args.out} (0600); give every server process this one file"
    )
    return 0


def add_commands(sub: Any) -> None:
    b = sub.add_parser("backup", help="an online, consistent backup of the database and photos")
    b.add_argument("--out", required=True, help="folder to write the backup into")
    b.add_argument(
        "--photos",
        choices=["copy", "manifest"],
        default="copy",
        help="copy the photos (default), or list them",
    )
    b.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", help="restore a backup into an empty database and photo store")
    r.add_argument("folder")
    r.set_defaults(func=cmd_restore)
    photos = sub.add_parser("photos", help="the photo store").add_subparsers(
        dest="photos_command", required=True
    )
    sw = photos.add_parser("sweep", help="compare the photo store with the database and report")
    sw.add_argument(
        "--delete-stray-chunks",
        action="store_true",
        help="delete upload chunks no upload refers to (older than an hour)",
    )
    sw.set_defaults(func=cmd_photos_sweep)
    key = sub.add_parser("key", help="the ledger signing key").add_subparsers(
        dest="key_command", required=True
    )
    kn = key.add_parser("new", help="make the signing key once, for every process to share")
    kn.add_argument("--out", required=True)
    kn.set_defaults(func=cmd_key_new)
