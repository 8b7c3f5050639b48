"""What the server answers when it keeps something: the receipts the phone stores and checks.

    RecordReceipt   a record revision kept: its digest (``records.envelope_digest``), when it
                    was received, and the ``record.accepted`` ledger entry it got
    PhotoReceipt    a photo kept: what it is, when it came, and its ``photo.received`` entry
    BatchResult     one envelope of a batch: its HTTP status and its receipt or its error

``replayed`` is true when the same thing was sent again: the original receipt is answered
and nothing is written. A receipt names a photo's uploader only to the uploader and to the
roles that read everything (``uploaded_by`` is left out otherwise). The receipt is checked
against the public ledger by ``xuncha_core.record_receipts``.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from xuncha_core.errors import ErrorBody


class LedgerPlace(TypedDict):
    """Where an accepted change stands in the ledger."""

    ledger_index: int
    leaf_hash: str  # hex: RFC 9162 leaf hash of the entry's committed text


class RecordReceipt(TypedDict):
    record_id: str
    revision: int
    digest: str
    received_at: str
    ledger_index: int
    leaf_hash: str
    photos_missing: list[str]  # the photos this revision names that the server does not hold yet
    replayed: bool


class PhotoReceipt(TypedDict):
    sha256: str
    size: int
    mime: str
    width: int
    height: int
    uploaded_by: NotRequired[str]
    received_at: str
    ledger_index: int
    leaf_hash: str
    replayed: bool


class BatchResult(TypedDict):
    """One envelope's answer in a batch: its status and either its receipt or its error."""

    status: int
    receipt: NotRequired[RecordReceipt]
    error: NotRequired[ErrorBody]


class BatchReceipts(TypedDict):
    """The answer to a batch: one result per envelope, in the order sent."""

    results: list[BatchResult]


def record_receipt(
    *,
    record_id: str,
    revision: int,
    digest: str,
    received_at: str,
    place: LedgerPlace,
    photos_missing: list[str],
    replayed: bool,
) -> RecordReceipt:
    return {
        "record_id": record_id,
        "revision": revision,
        "digest": digest,
        "received_at": received_at,
        "ledger_index": int(place["ledger_index"]),
        "leaf_hash": place["leaf_hash"],
        "photos_missing": photos_missing,
        "replayed": replayed,
    }
