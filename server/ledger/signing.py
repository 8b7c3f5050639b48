"""The ledger's Ed25519 signing key, and signed checkpoints of the current tree.

The key is created on first start at ``settings.signing_key_path`` (PKCS#8 PEM,
mode 0600) with ``xuncha_core.durable.create_file``: written to a private temporary
file, flushed to disk and then hard-linked into place, so a crash never leaves a
half-written key and a second process racing the first never replaces it. An
existing key is never overwritten: losing it would orphan every checkpoint auditors
hold.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import Connection

from server.infra import clock
from server.ledger import proofs, store
from xuncha_core import durable
from xuncha_core.checkpoint import Checkpoint, sign

log = logging.getLogger("xuncha.ledger")


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at ``path``, created (0600, atomically) if there is none yet."""
    if not path.exists():
        _create_key(path)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} does not hold an Ed25519 private key; move it away or restore the right one")
    if path.stat().st_mode & 0o077:
        log.warning("the ledger signing key %s is readable by other users; chmod 600 it", path)
    return key


def _create_key(path: Path) -> None:
    durable.private_folder(path.parent)
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    # Refuses to replace a key another process created first: theirs is kept.
    durable.create_file(path, pem, mode=0o600)


def current_checkpoint(conn: Connection, key: Ed25519PrivateKey) -> Checkpoint:
    """A checkpoint of the ledger as this transaction sees it, signed now."""
    size = store.size(conn)
    return sign(key, size, proofs.root_at(conn, size), clock.timestamp())
