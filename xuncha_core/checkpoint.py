"""Signed ledger checkpoints: (tree size, root hash, timestamp), signed with Ed25519.

The signed bytes are exactly (UTF-8, each line ending in a newline)::

    xuncha-ledger-checkpoint/v1
    {size}            decimal, no leading zeros
    {root}            64 lowercase hex digits of the RFC 9162 root hash
    {timestamp}       ISO 8601 UTC time the server signed it

for example ``b"xuncha-ledger-checkpoint/v1\\n3\\naeb6…6e77\\n2025-03-01T08:00:00.000000+00:00\\n"``.

``key_id`` is the hex of the first 8 bytes of SHA-256(raw 32-byte public key).
A checkpoint travels as JSON: ``{"size", "root", "timestamp", "key_id",
"signature", "public_key"}`` with ``root`` in hex and ``signature`` and
``public_key`` (raw 32 bytes) in base64, the shape ``GET /api/v1/ledger/checkpoint``
answers. The field app, the audit verifier and the server share this module;
it needs only ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any, TypedDict

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from xuncha_core.errors import IntegrityError

FORMAT = "xuncha-ledger-checkpoint/v1"
FIELDS = ("size", "root", "timestamp", "key_id", "signature", "public_key")


def signed_bytes(size: int, root: bytes, timestamp: str) -> bytes:
    """The exact bytes a checkpoint's signature covers (see the module docstring)."""
    if "\n" in timestamp:
        raise ValueError("a checkpoint timestamp cannot contain a newline")
    return f"{FORMAT}\n{size}\n{root.hex()}\n{timestamp}\n".encode()


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_pem(public_key: bytes) -> bytes:
    """The raw 32-byte public key as a SubjectPublicKeyInfo PEM block."""
    return Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_pem(pem: bytes) -> bytes:
    """The raw 32-byte key of an Ed25519 public key PEM; IntegrityError if it is not one."""
    try:
        key = load_pem_public_key(pem)
    except ValueError as exc:
        raise _malformed(f"the public key is not a readable PEM block ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise _malformed("the public key is not an Ed25519 key")
    return raw_public_key(key)


def key_id(public_key: bytes) -> str:
    """Hex of the first 8 bytes of SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(public_key).digest()[:8].hex()


class CheckpointJson(TypedDict):
    """A checkpoint as JSON: hashes in lowercase hex, the signature and public key in base64."""

    size: int
    root: str
    timestamp: str
    key_id: str
    signature: str
    public_key: str


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: bytes
    timestamp: str
    key_id: str
    signature: bytes
    public_key: bytes  # raw 32 bytes

    def as_dict(self) -> CheckpointJson:
        return {
            "size": self.size,
            "root": self.root.hex(),
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Checkpoint:
        """Parse the JSON shape; raises IntegrityError (``checkpoint.malformed``) naming what is wrong."""
        if not isinstance(data, dict):
            raise _malformed("a checkpoint must be a JSON object")
        missing = [f for f in FIELDS if f not in data]
        if missing:
            raise _malformed(f"the checkpoint lacks {', '.join(missing)}")
        size = data["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _malformed("size must be a whole number ≥ 0")
        if not isinstance(data["timestamp"], str) or not isinstance(data["key_id"], str):
            raise _malformed("timestamp and key_id must be strings")
        try:
            root = bytes.fromhex(data["root"])
            signature = base64.b64decode(data["signature"], validate=True)
            public_key = base64.b64decode(data["public_key"], validate=True)
        except (TypeError, ValueError, binascii.Error) as exc:
            raise _malformed(f"root must be hex and signature and public_key base64 ({exc})") from exc
        if len(root) != 32 or len(public_key) != 32 or len(signature) != 64:
            raise _malformed("root and public_key must be 32 bytes and the signature 64 bytes")
        return cls(size, root, data["timestamp"], data["key_id"], signature, public_key)


def sign(private_key: Ed25519PrivateKey, size: int, root: bytes, timestamp: str) -> Checkpoint:
    """A checkpoint for the tree of ``size`` leaves with this root, signed now."""
    public = raw_public_key(private_key.public_key())
    signature = private_key.sign(signed_bytes(size, root, timestamp))
    return Checkpoint(size, root, timestamp, key_id(public), signature, public)


def verify(checkpoint: Checkpoint, trusted_public_key: bytes | None = None) -> None:
    """Check the signature (and that the key is the trusted one, when given).

    Raises IntegrityError: ``checkpoint.untrusted_key`` when signed by another key,
    ``checkpoint.bad_signature`` when the signature does not cover these values.
    """
    if trusted_public_key is not None and checkpoint.public_key != trusted_public_key:
        raise IntegrityError(
            code="checkpoint.untrusted_key",
            message=(
                f"the checkpoint is signed by key {key_id(checkpoint.public_key)}, "
                f"not by the trusted key {key_id(trusted_public_key)}"
            ),
        )
    if checkpoint.key_id != key_id(checkpoint.public_key):
        raise IntegrityError(
            code="checkpoint.bad_signature",
            message=f"key_id {checkpoint.key_id} does not belong to the public key it carries",
        )
    try:
        Ed25519PublicKey.from_public_bytes(checkpoint.public_key).verify(
            checkpoint.signature, signed_bytes(checkpoint.size, checkpoint.root, checkpoint.timestamp)
        )
    except (InvalidSignature, ValueError) as exc:
        raise IntegrityError(
            code="checkpoint.bad_signature",
            message=(
                f"the signature on the checkpoint (size {checkpoint.size}, root {checkpoint.root.hex()}) "
                "does not verify: it was altered or not signed by this key"
            ),
        ) from exc


def _malformed(message: str) -> IntegrityError:
    return IntegrityError(code="checkpoint.malformed", message=message)
