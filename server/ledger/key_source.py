"""Where the ledger's signing key comes from, and the one key every process must sign with.

In order, the first that is set:

    XUNCHA_SIGNING_KEY        the PKCS#8 PEM text itself (from a secret store)
    XUNCHA_SIGNING_KEY_FILE   a PEM file made once (``xuncha-server key new --out FILE``)
    <data>/ledger_signing_key.pem   made at the first start if absent (one machine)

The database remembers the public key of the first process that signs (table
``ledger_signing_key``, one row). A process whose key is another refuses to start with ``ledger.other_signing_key``:
a second machine that was given no key, and so made its own, never signs a checkpoint.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import Connection, Engine, select

from server.infra import clock
from server.infra import tables as t
from server.infra.db import read
from server.infra.settings import Settings
from server.infra.writer import write
from server.ledger.signing import load_or_create_key
from xuncha_core import durable
from xuncha_core.checkpoint import key_id, raw_public_key
from xuncha_core.errors import ConflictError, IntegrityError

signing_key_pin = t.ledger_signing_key


def _from_pem(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise IntegrityError(
            code="ledger.bad_signing_key",
            message=f"{where} does not hold an unencrypted Ed25519 private key (PKCS#8 PEM). Make one with `xuncha-server key new --out FILE`.",
            message_zh=f"{where} 不是未加密的 Ed25519 私钥（PKCS#8 PEM）。请用 `xuncha-server key new --out FILE` 生成。",
        )
    return key


def key_file(settings: Settings) -> Path | None:
    """The file the key is read from (None when it comes as text from the environment)."""
    if settings.signing_key_pem:
        return None
    return settings.signing_key_file or settings.signing_key_path


def load_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The key the settings name (see the module doc)."""
    if settings.signing_key_pem:
        return _from_pem(settings.signing_key_pem.encode(), "XUNCHA_SIGNING_KEY")
    path = settings.signing_key_file
    if path is not None:
        try:
            return _from_pem(path.read_bytes(), str(path))
        except FileNotFoundError:
            raise IntegrityError(
                code="ledger.signing_key_missing",
                message=f"XUNCHA_SIGNING_KEY_FILE={path} does not exist. Copy the district's key there; never make a second one.",
                message_zh=f"签名密钥文件 {path} 不存在。请把本区县的密钥复制到该处，切勿另行生成。",
            ) from None
    return load_or_create_key(settings.signing_key_path)


def new_key_file(path: Path) -> str:
    """Write a new key to ``path`` (0600), refusing to replace one; its key id."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    durable.private_folder(path.parent)
    if not durable.create_file(path, pem, mode=0o600):
        raise ConflictError(
            code="ledger.signing_key_exists",
            message=f"{path} already holds a key; it is never replaced (checkpoints signed with it would be orphaned).",
            message_zh=f"{path} 已有密钥，不会被替换（否则已签发的检查点将无法验证）。",
        )
    return key_id(raw_public_key(key.public_key()))


def pin(engine: Engine, key: Ed25519PrivateKey) -> None:
    """Remember this key as the ledger's if none is yet; refuse to go on with another."""
    mine = base64.b64encode(raw_public_key(key.public_key())).decode("ascii")
    with read(engine) as conn:
        pinned = conn.execute(select(signing_key_pin.c.public_key)).scalar()
    if pinned is None:

        def first(conn: Connection) -> None:
            # A process pinning at the same moment: the writer judges this again, seeing its row.
            if conn.execute(select(signing_key_pin.c.public_key)).scalar() is None:
                conn.execute(
                    signing_key_pin.insert().values(
                        id=1,
                        public_key=mine,
                        key_id=key_id(raw_public_key(key.public_key())),
                        pinned_at=clock.timestamp(),
                    )
                )

        write(engine, first)
        with read(engine) as conn:
            pinned = conn.execute(select(signing_key_pin.c.public_key)).scalar()
    if pinned != mine:
        ours = key_id(raw_public_key(key.public_key()))
        theirs = key_id(base64.b64decode(str(pinned)))
        raise ConflictError(
            code="ledger.other_signing_key",
            message=f"This process's signing key ({ours}) is not the ledger's ({theirs}). Give every process the same key "
            "(XUNCHA_SIGNING_KEY_FILE or XUNCHA_SIGNING_KEY); do not make a new one.",
            message_zh=f"本进程的签名密钥（{ours}）与账本的密钥（{theirs}）不同。请为所有进程配置同一密钥，切勿另行生成。",
            detail={"key_id": ours, "ledger_key_id": theirs},
        )
