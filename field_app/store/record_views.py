"""How a record looks in the app's history list: its latest revision, wherever it lives.

A record may have a draft (being edited), revisions in the outbox (waiting to be
sent) and revisions the server accepted (history). The view shows the latest of
them with its state: draft, waiting, sending, error, refused, conflict, synced,
sent_back, approved or rejected.
"""

from __future__ import annotations

from typing import Any

from field_app.store.history import entry_state, record_month


def view_from_entry(entry: dict[str, Any]) -> dict[str, Any]:
    latest = entry["revisions"][str(entry["revision"])]
    reviews = entry.get("reviews") or []
    return _view(
        latest["envelope"],
        state=entry_state(entry),
        receipt=latest.get("receipt"),
        receipts={rev: item.get("receipt") for rev, item in entry["revisions"].items()},
        review=reviews[-1] if reviews else None,
        reviews=reviews,
        synced_revision=entry["revision"],
    )


def view_from_outbox(item: dict[str, Any], under: dict[str, Any] | None) -> dict[str, Any]:
    under = under or {}
    return _view(
        item["envelope"],
        state=item["state"],
        seq=item["seq"],
        error=item.get("error"),
        server_envelope=item.get("server_envelope"),
        receipts=under.get("receipts", {}),
        reviews=under.get("reviews", []),
        review=under.get("review"),
        synced_revision=under.get("synced_revision"),
    )


def view_from_draft(draft: dict[str, Any], under: dict[str, Any] | None) -> dict[str, Any]:
    under = under or {}
    return _view(
        draft,
        state="draft",
        updated_at=draft.get("updated_at"),
        receipts=under.get("receipts", {}),
        reviews=under.get("reviews", []),
        review=under.get("review"),
        synced_revision=under.get("synced_revision"),
    )


def _view(envelope: dict[str, Any], *, state: str, **extra: Any) -> dict[str, Any]:
    content = envelope.get("content") or {}
    view = {
        "record_id": envelope["record_id"],
        "kind": envelope.get("kind"),
        "revision": envelope.get("revision"),
        "base_revision": envelope.get("base_revision"),
        "state": state,
        "village_id": content.get("village_id"),
        "month": record_month(envelope, extra.get("receipt")),
        "content": content,
        "photos": list(envelope.get("photos") or []),
        "envelope": envelope,
        "receipt": None,
        "receipts": {},
        "review": None,
        "reviews": [],
        "error": None,
        "server_envelope": None,
        "synced_revision": None,
    }
    view.update(extra)
    return view


def summary_matches(
    record_id: str,
    view_village: Any,
    view_month: str,
    view_kind: Any,
    words: str,
    *,
    village_id: str | None,
    month: str | None,
    needle: str | None,
    kind: str | None,
    villages_named: set[str] | frozenset[str] = frozenset(),
) -> bool:
    """True if a record passes every filter given (None means any), on the fields an index
    summary keeps. ``needle`` (case-folded) is looked for in the record id and the content's
    text values (``words``); a record of a village in ``villages_named`` (villages whose
    name holds the text) matches too."""
    if village_id is not None and view_village != village_id:
        return False
    if month is not None and view_month != month:
        return False
    if kind is not None and view_kind != kind:
        return False
    if needle:
        return needle in words or needle in record_id.casefold() or view_village in villages_named
    return True
