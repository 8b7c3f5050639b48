"""Proving that the server accepted a record: receipt → ledger entry → inclusion proof → signed checkpoint.

A receipt holds the record's ledger index and leaf hash. ``prove`` checks, on the phone:
the checkpoint's Ed25519 signature (against the key pinned on first use, so a server that
later swaps its key is caught); that the ledger entry at that index is this revision
(``xuncha_core.record_receipts``: its leaf hash, record id, revision and digest, and the
envelope this phone holds; a legacy entry the public ledger withholds is rebuilt from that
envelope); and that the RFC 9162 inclusion proof links the leaf to the checkpoint's root.
Any failure raises ``ProofFailed`` naming it.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from typing import Any

from field_app.messages import fail
from field_app.sync.errors import ProofFailed
from field_app.sync.transport import ServerApi
from xuncha_core import merkle, record_receipts
from xuncha_core.checkpoint import Checkpoint, verify
from xuncha_core.errors import IntegrityError

PINNED_KEY_SETTING = "ledger_public_key"


@dataclass(frozen=True)
class Proof:
    """What the UI shows as "proved": this revision is leaf ``ledger_index`` of the signed tree."""

    record_id: str
    revision: int
    ledger_index: int
    leaf_hash: str
    tree_size: int
    root: str
    checkpoint_time: str
    key_id: str
    public_key: str  # base64 of the raw Ed25519 key that signed the checkpoint

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prove(
    api: ServerApi,
    receipt: dict[str, Any],
    *,
    trusted_public_key: bytes | None,
    envelope: dict[str, Any] | None = None,
) -> Proof:
    """Verify the receipt against a freshly fetched signed checkpoint; raise ``ProofFailed``."""
    try:
        checkpoint = Checkpoint.from_dict(api.checkpoint())
        verify(checkpoint, trusted_public_key)
    except IntegrityError as exc:
        raise fail(ProofFailed, "receipt.checkpoint_failed", code=exc.code, detail={"reason": exc.message}) from exc
    index = int(receipt["ledger_index"])
    leaf = str(receipt["leaf_hash"])
    if index >= checkpoint.size:
        raise fail(ProofFailed, "receipt.not_yet_checkpointed", index=index, size=checkpoint.size)
    _check_entry(api.ledger_entry(index), receipt, envelope)
    answer = api.inclusion_proof(index, checkpoint.size)
    try:
        merkle.verify_inclusion(
            bytes.fromhex(leaf), index, checkpoint.size, [bytes.fromhex(h) for h in answer["hashes"]], checkpoint.root
        )
    except (IntegrityError, ValueError) as exc:
        raise fail(ProofFailed, "receipt.proof_invalid", index=index, detail={"reason": str(exc)}) from exc
    return Proof(
        record_id=str(receipt["record_id"]),
        revision=int(receipt["revision"]),
        ledger_index=index,
        leaf_hash=leaf,
        tree_size=checkpoint.size,
        root=checkpoint.root.hex(),
        checkpoint_time=checkpoint.timestamp,
        key_id=checkpoint.key_id,
        public_key=base64.b64encode(checkpoint.public_key).decode("ascii"),
    )


def prove_record(store: Any, api: ServerApi, record_id: str, revision: int | None = None) -> Proof:
    """Prove a stored receipt of this record (the latest revision by default), pinning the
    server's checkpoint key on first use."""
    view = store.get_record(record_id)
    receipts = (view or {}).get("receipts") or {}
    if not receipts:
        raise fail(ProofFailed, "receipt.none")
    rev = revision if revision is not None else max(int(r) for r in receipts)
    receipt = receipts.get(rev) or receipts.get(str(rev))
    if not receipt:
        raise fail(ProofFailed, "receipt.revision_none", code="receipt.none", revision=rev)
    pinned = store.get_setting(PINNED_KEY_SETTING)
    trusted = base64.b64decode(pinned) if pinned else None
    envelope = _accepted_envelope(store, record_id, int(receipt.get("revision", rev)))
    proof = prove(api, receipt, trusted_public_key=trusted, envelope=envelope)
    if not pinned:
        store.set_setting(PINNED_KEY_SETTING, proof.public_key)
    return proof


def _accepted_envelope(store: Any, record_id: str, revision: int) -> dict[str, Any] | None:
    """The envelope of this revision as the server accepted it, kept in the phone's history."""
    accepted = store.accepted_revisions(record_id).get(revision) or {}
    return accepted.get("envelope")


def _check_entry(answer: dict[str, Any], receipt: dict[str, Any], envelope: dict[str, Any] | None) -> None:
    entry = answer.get("entry")
    if entry is not None and not isinstance(entry, str):
        raise fail(ProofFailed, "receipt.bad_answer")
    if entry is None and answer.get("leaf_hash") != receipt["leaf_hash"]:
        raise fail(ProofFailed, "receipt.leaf_mismatch", index=receipt["ledger_index"])
    try:
        record_receipts.check_entry(entry, receipt, envelope)
    except IntegrityError as exc:
        raise ProofFailed(exc.code, exc.message, exc.message_zh, dict(exc.detail)) from exc
