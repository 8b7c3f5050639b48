"""What the app shows about one of her records: its state, its receipt, a conflict, a proof.

No Flet here (tests drive it without a browser):

- ``shown_state``: the state a record shows, "sending" while the sync pass is pushing;
- ``conflict_facts``: the key facts of her version beside the server's, the differing ones marked;
- ``verdict_line``: the sentence for a receipt check's ``Verdict``.

Checking a receipt (network and proofs) is ``field_app.sync.receipt_check``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from field_app.sync.receipt_check import Verdict


# -- state -----------------------------------------------------------------------------
def pushing(status: Mapping[str, Any] | None) -> bool:
    """True while a sync pass is sending records (the scheduler's progress phase "push")."""
    if not status or status.get("state") != "running":
        return False
    return (status.get("progress") or {}).get("phase") == "push"


def shown_state(state: str | None, status: Mapping[str, Any] | None) -> str:
    """The state to show: a waiting record shows "sending" while the pass is pushing.

    (The sync engine does not mark each item as it goes: that would cost a write per record.)
    """
    state = state or "draft"
    if state == "waiting" and pushing(status):
        return "sending"
    return state


# -- conflicts -------------------------------------------------------------------------
_TIME_FIELDS = ("inspected_at", "rechecked_at", "assessed_at")


def key_facts(envelope: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """(catalogue key, value) of what a person compares in two versions of a record."""
    if not envelope:
        return []
    content = envelope.get("content") or {}
    kind = envelope.get("kind")
    facts: list[tuple[str, Any]] = [("fact.revision", envelope.get("revision"))]
    if kind == "remediation_check":
        facts += [
            ("fact.total", content.get("total_score")),
            ("fact.deductions", len(content.get("deductions") or [])),
            ("fact.orders", len(content.get("orders") or [])),
        ]
    elif kind == "recheck":
        facts += [("fact.resolved", bool(content.get("resolved"))),
                  ("fact.photos", len(content.get("after_photos") or []))]
    elif kind == "inspection_result":
        facts += [("fact.result", content.get("result")), ("fact.findings", content.get("findings") or "")]
    elif kind == "routine_assessment":
        facts += [("fact.cleaners", len(content.get("cleaner_ratings") or []))]
    notes = [content.get("note") or ""] + [d.get("note") or "" for d in content.get("deductions") or []]
    facts.append(("fact.note", "；".join(n for n in notes if n)))
    when = next((content.get(f) for f in _TIME_FIELDS if content.get(f)), None)
    facts.append(("fact.time", when or ""))
    facts.append(("fact.author", content.get("recorder") or envelope.get("author") or ""))
    return facts


def conflict_facts(mine: Mapping[str, Any] | None, theirs: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Her version's key facts beside the server's: [{key, mine, theirs, differs}]."""
    a, b = dict(key_facts(mine)), dict(key_facts(theirs))
    keys = list(dict.fromkeys([*a, *b]))
    return [{"key": k, "mine": a.get(k), "theirs": b.get(k), "differs": a.get(k) != b.get(k)} for k in keys]


# -- proving a receipt -----------------------------------------------------------------
def verdict_line(verdict: Verdict) -> tuple[str, dict[str, Any]]:
    """(catalogue key, values) of the sentence the officer reads."""
    if verdict.outcome == "verified":
        return "receipt.verified", {"index": verdict.ledger_index, "size": verdict.tree_size}
    if verdict.outcome == "failed":
        return "receipt.failed", {"code": verdict.code}
    return f"receipt.{verdict.outcome}", {}
