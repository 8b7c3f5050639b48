"""Checking a receipt on demand: "does the server hold what it receipted?", in plain words.

``check_receipt`` fetches the signed checkpoint and the inclusion proof of a record's
newest receipt and verifies them on the phone (``receipts.prove_record``); it answers a
``Verdict`` and never raises for a network or proof problem. Verified and failed verdicts
are remembered in the store setting ``receipt_checks`` so the officer sees them next time.
It blocks on the network: call it off the UI thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from field_app.messages import fail
from field_app.sync.errors import DeviceRevoked, Offline, ProofFailed
from field_app.sync.receipts import prove_record
from field_app.sync.transport import ServerApi, build_client
from xuncha_core.errors import XunchaError

CHECKS_SETTING = "receipt_checks"
KEEP_CHECKS = 300  # newest verdicts kept in the setting; older ones are simply checked again


def latest_receipt(view: Mapping[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """(revision, receipt) of the newest revision the server accepted, or None."""
    receipts = {int(rev): r for rev, r in (view.get("receipts") or {}).items() if r}
    if not receipts and view.get("receipt"):
        receipt = view["receipt"]
        return int(receipt.get("revision") or view.get("revision") or 1), dict(receipt)
    if not receipts:
        return None
    rev = max(receipts)
    return rev, dict(receipts[rev])


def receipt_facts(view: Mapping[str, Any]) -> dict[str, Any] | None:
    """{revision, ledger_index, leaf_hash, received_at} of the newest receipt, or None."""
    found = latest_receipt(view)
    if found is None:
        return None
    rev, receipt = found
    return {
        "revision": rev,
        "ledger_index": receipt.get("ledger_index"),
        "leaf_hash": str(receipt.get("leaf_hash") or ""),
        "received_at": receipt.get("received_at"),
    }



@dataclass(frozen=True)
class Verdict:
    """The outcome of "verify receipt".

    outcome: verified | offline | failed | not_synced | not_yet | signed_out
    """

    outcome: str
    record_id: str
    revision: int | None = None
    leaf_hash: str = ""
    ledger_index: int | None = None
    tree_size: int | None = None
    checkpoint_time: str | None = None
    code: str = ""
    message: str = ""
    message_zh: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})

    @property
    def loud(self) -> bool:
        """A failed proof: the server cannot show it holds what it receipted."""
        return self.outcome == "failed"


def remembered(store: Any, view: Mapping[str, Any]) -> Verdict | None:
    """The last verdict kept for this record's newest receipt (none if that receipt changed)."""
    checks = store.get_setting(CHECKS_SETTING) or {}
    kept = checks.get(view.get("record_id")) if isinstance(checks, dict) else None
    facts = receipt_facts(view)
    if not kept or facts is None:
        return None
    if kept.get("revision") != facts["revision"] or kept.get("leaf_hash") != facts["leaf_hash"]:
        return None
    return Verdict.from_dict(kept)


def remember(store: Any, verdict: Verdict) -> None:
    """Keep a verified or failed verdict (the others say "try later": nothing to keep)."""
    if verdict.outcome not in ("verified", "failed"):
        return
    checks = dict(store.get_setting(CHECKS_SETTING) or {})
    checks.pop(verdict.record_id, None)
    checks[verdict.record_id] = verdict.as_dict()
    if len(checks) > KEEP_CHECKS:
        checks = dict(list(checks.items())[-KEEP_CHECKS:])
    store.set_setting(CHECKS_SETTING, checks)


def check_receipt(store: Any, record_id: str, *, transport: Any = None, keep: bool = True) -> Verdict:
    """Fetch the signed checkpoint and the inclusion proof of the record's newest receipt and
    verify them on the phone (``receipts.prove_record``). Blocks on the network:
    call it with ``asyncio.to_thread``. Never raises for a network or proof problem: the
    verdict says what happened."""
    view = store.get_record(record_id) or {"record_id": record_id}
    facts = receipt_facts(view)
    base: dict[str, Any] = {"record_id": record_id, "revision": facts and facts["revision"],
            "leaf_hash": facts["leaf_hash"] if facts else "", "ledger_index": facts and facts["ledger_index"]}
    if facts is None:
        return Verdict("not_synced", **base)
    server_url = store.get_setting("server_url")
    token = store.get_setting("device_token")
    if not server_url or not token:
        return Verdict("signed_out", **base)
    api = ServerApi(build_client(server_url, token, transport=transport, timeout=20.0))
    try:
        proof = prove_record(store, api, record_id, facts["revision"])
        verdict = Verdict("verified", **{**base, "ledger_index": proof.ledger_index}, tree_size=proof.tree_size,
                          checkpoint_time=proof.checkpoint_time)
    except Offline as exc:
        verdict = Verdict("offline", **base, code=exc.code, message=exc.message, message_zh=exc.message_zh)
    except DeviceRevoked as exc:
        verdict = Verdict("signed_out", **base, code=exc.code, message=exc.message, message_zh=exc.message_zh)
    except ProofFailed as exc:
        outcome = {"receipt.none": "not_synced", "receipt.not_yet_checkpointed": "not_yet"}.get(exc.code, "failed")
        verdict = Verdict(outcome, **base, code=exc.code, message=exc.message, message_zh=exc.message_zh)
    except XunchaError as exc:  # the server refused to show the entry or the proof: that is a failure
        verdict = Verdict("failed", **base, code=exc.code, message=exc.message, message_zh=exc.message_zh)
    except (KeyError, TypeError, ValueError) as exc:  # an answer that is not what a ledger sends
        bad = fail(ProofFailed, "receipt.bad_proof", code="receipt.bad_answer")
        verdict = Verdict("failed", **base, code=bad.code, message=f"{bad.message}: {exc}", message_zh=bad.message_zh)
    finally:
        api.close()
    if keep:
        remember(store, verdict)
    return verdict
