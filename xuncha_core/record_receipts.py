"""A record's receipt against the ledger: is the entry at the receipt's index this revision?

When the server accepts a revision it answers a receipt ``{record_id, revision, digest,
received_at, ledger_index, leaf_hash, …}``; ``digest`` is SHA-256 of the canonical
envelope. ``check_entry`` takes what the public ledger serves at ``ledger_index`` and
the envelope the phone holds, and raises ``IntegrityError`` unless:

- the entry's text hashes to the receipt's leaf hash (RFC 9162 leaf);
- it is the ``record.accepted`` entry of this record and revision, committing to this
  digest (``xuncha_core.ledger_entries``);
- the envelope, when given, hashes to the digest.

A legacy entry (before commitments existed) is withheld by the public ledger: the phone
rebuilds its text from the envelope and the receipt and checks that instead, so old
receipts keep verifying. Inclusion in the signed tree is checked apart
(``xuncha_core.merkle``). Each error carries its ``message_zh``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from xuncha_core import ledger_entries
from xuncha_core.errors import IntegrityError
from xuncha_core.merkle import leaf_hash
from xuncha_core.records import envelope_digest

__all__ = ["check_entry", "envelope_digest"]


def check_entry(entry: str | None, receipt: Mapping[str, Any], envelope: Mapping[str, Any] | None = None) -> None:
    """That ``entry`` (the served text, or None where it is withheld) is the receipt's revision."""
    index = receipt["ledger_index"]
    if envelope is not None and envelope_digest(envelope) != receipt["digest"]:
        raise _mismatch(receipt)
    if entry is None:
        if envelope is None:
            raise IntegrityError(
                code="receipt.entry_withheld",
                message=f"ledger entry {index} predates public commitments and is withheld; "
                "this phone no longer holds the revision's envelope to rebuild it",
                message_zh="该账本条目为旧格式，已不公开；本机没有该版本的记录内容，无法核对",
            )
        entry = ledger_entries.legacy_record_accepted(
            envelope, digest=str(receipt["digest"]), received_at=str(receipt["received_at"])
        )
        if leaf_hash(entry.encode("utf-8")).hex() != receipt["leaf_hash"]:
            raise _mismatch(receipt)
    elif leaf_hash(entry.encode("utf-8")).hex() != receipt["leaf_hash"]:
        raise IntegrityError(
            code="receipt.leaf_mismatch",
            message=f"ledger entry {index} does not hash to the receipt's leaf hash",
            message_zh="账本条目与回执的叶哈希不符",
        )
    try:
        committed = ledger_entries.parse(entry)
        value = committed if committed is not None else json.loads(entry)
    except (IntegrityError, ValueError) as exc:
        raise _mismatch(receipt) from exc
    record = value.get("record")
    same = (
        value.get("type") == "record.accepted"
        and isinstance(record, dict)
        and record.get("record_id") == receipt["record_id"]
        and record.get("revision") == receipt["revision"]
        and value.get("digest") == receipt["digest"]
    )
    if not same:
        raise _mismatch(receipt)


def _mismatch(receipt: Mapping[str, Any]) -> IntegrityError:
    return IntegrityError(
        code="receipt.entry_mismatch",
        message=f"ledger entry {receipt['ledger_index']} is not revision {receipt['revision']} "
        f"of record {receipt['record_id']}",
        message_zh="账本条目不是该记录的这一版本",
    )
