"""What the screens show, computed from the store's plain dicts: no Flet here.

- ``village_statuses``: this month's check of each village (done / draft / not started);
- ``open_orders``: rectification orders not yet closed by a re-check, overdue ones flagged;
- ``history_rows``: her records with their state, filtered by village, month and text;
- ``SignIn``: the first-start form and what is missing from it;
- ``sync_line``: the online/offline indicator and progress from the sync status;
- ``Debouncer``: when a draft being typed is due to be saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from field_app.clock import monotonic
from field_app.sync.receipt_check import receipt_facts
from field_app.ui.models.records import conflict_facts, shown_state
from xuncha_core import rectification
from xuncha_core.scoring import ScoringSheet, parse_sheet

DONE_STATES = frozenset({"waiting", "sending", "synced", "approved", "error", "conflict", "sent_back", "rejected"})


# -- reference data ---------------------------------------------------------------------
@dataclass(frozen=True)
class Village:
    id: str
    name: str
    name_en: str
    sheet_id: str | None


def villages(reference: Mapping[str, Mapping[str, Any]]) -> list[Village]:
    """Villages from the cached reference topic ``village``, in name order."""
    out = [
        Village(
            id=key,
            name=str(p.get("name") or key),
            name_en=str(p.get("name_en") or ""),
            sheet_id=p.get("sheet_id"),
        )
        for key, p in reference.items()
        if isinstance(p, Mapping)
    ]
    return sorted(out, key=lambda v: (v.name, v.id))


def sheet_for(village: Village | None, sheets: Mapping[str, Any]) -> ScoringSheet | None:
    """The scoring sheet a village is checked on: its own ``sheet_id``, else the newest sheet.

    Sheets that do not parse are skipped (the office sees the error when publishing).
    """
    parsed: list[ScoringSheet] = []
    for payload in sheets.values():
        try:
            parsed.append(parse_sheet(payload))
        except Exception:  # a bad sheet must not stop the app
            continue
    if not parsed:
        return None
    if village is not None and village.sheet_id:
        own = [s for s in parsed if s.id == village.sheet_id]
        if own:
            return max(own, key=lambda s: s.version)
    return max(parsed, key=lambda s: (s.version, s.id))


def cleaners_of(village_id: str, cleaners: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(cleaner id, name) of the village's cleaners, in name order."""
    rows = [
        (key, str(p.get("name") or key))
        for key, p in cleaners.items()
        if isinstance(p, Mapping) and p.get("village_id") == village_id and p.get("active", True)
    ]
    return sorted(rows, key=lambda r: (r[1], r[0]))


# -- home ------------------------------------------------------------------------------
def village_statuses(
    vs: Iterable[Village], records: Iterable[Mapping[str, Any]], drafts: Iterable[Mapping[str, Any]], month: str
) -> list[tuple[Village, str, str | None]]:
    """(village, "done" | "draft" | "not_started", record_id to open) for each village this month."""
    done: dict[Any, str] = {}
    drafted: dict[Any, str] = {}
    for r in records:
        if r.get("kind") != "remediation_check":
            continue
        content = r.get("content") or {}
        if content.get("month") != month:
            continue
        vid = content.get("village_id")
        if r.get("state") in DONE_STATES:
            done.setdefault(vid, r["record_id"])
        elif r.get("state") == "draft":
            drafted.setdefault(vid, r["record_id"])
    for d in drafts:
        content = d.get("content") or {}
        if d.get("kind") == "remediation_check" and content.get("month") == month:
            drafted.setdefault(content.get("village_id"), d["record_id"])
    out: list[tuple[Village, str, str | None]] = []
    for v in vs:
        if v.id in drafted:
            out.append((v, "draft", drafted[v.id]))
        elif v.id in done:
            out.append((v, "done", done[v.id]))
        else:
            out.append((v, "not_started", None))
    return out


def open_orders(records: Iterable[Mapping[str, Any]], today: date) -> list[dict[str, Any]]:
    """Rectification orders from her checks that no submitted re-check has closed, soonest first.

    Open and overdue are decided by ``xuncha_core.rectification`` (as the office decides
    them). Each is the order's content plus ``check_record_id``, ``village_id``, ``month``,
    ``before_photos`` (the photos of its deductions), ``overdue_days`` (0 when not overdue).
    """
    checks: dict[str, Mapping[str, Any]] = {}
    rechecks: list[tuple[str, Mapping[str, Any]]] = []
    for r in records:
        if r.get("state") == "draft":
            continue
        if r.get("kind") == "remediation_check":
            checks[r["record_id"]] = r.get("content") or {}
        elif r.get("kind") == "recheck":
            rechecks.append((r["record_id"], r.get("content") or {}))
    out: list[dict[str, Any]] = []
    for status in rectification.open_orders(checks.items(), rechecks, today=today):
        content = checks[status.check_record_id]
        order = next(o for o in content.get("orders") or [] if o.get("order_id") == status.order_id)
        photos = {d.get("deduction_id"): d.get("photos") or [] for d in content.get("deductions") or []}
        before = [p for did in order.get("deduction_ids") or [] for p in photos.get(did, [])]
        out.append(
            {
                **order,
                "check_record_id": status.check_record_id,
                "village_id": status.village_id,
                "month": status.month,
                "before_photos": list(dict.fromkeys(before)),
                "overdue_days": max(-status.days_left, 0) if status.state == "overdue" else 0,
            }
        )
    return out


# -- history ---------------------------------------------------------------------------
def history_rows(
    records: Iterable[Mapping[str, Any]],
    *,
    village_names: Mapping[str, str],
    village_id: str | None = None,
    month: str | None = None,
    text: str = "",
    sync_status: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Her records as rows: id, kind, state (``sending`` while sync pushes), village name,
    month, reason, ledger index of the newest receipt, and for a conflict both versions'
    key facts; filtered."""
    needle = text.strip().lower()
    rows = []
    for r in records:
        content = r.get("content") or {}
        vid = content.get("village_id") or r.get("village_id")
        m = content.get("month") or r.get("month")
        if village_id and vid != village_id:
            continue
        if month and m != month:
            continue
        review = r.get("review") or {}
        row = {
            "record_id": r["record_id"],
            "kind": r.get("kind"),
            "revision": r.get("revision"),
            "state": shown_state(r.get("state"), sync_status),
            "village_id": vid,
            "village": village_names.get(vid or "", vid or ""),
            "month": m or "",
            "reason": review.get("reason") if r.get("state") in ("sent_back", "rejected") else None,
            "error": r.get("error"),
            "total_score": content.get("total_score"),
            "ledger_index": (receipt_facts(r) or {}).get("ledger_index"),
            "conflict": conflict_facts(r.get("envelope"), r.get("server_envelope")) if r.get("state") == "conflict" else None,
        }
        if needle:
            hay = " ".join(str(x) for x in (row["village"], row["month"], row["record_id"], content.get("note", ""),
                                            *(d.get("note", "") for d in content.get("deductions") or []))).lower()
            if needle not in hay:
                continue
        rows.append(row)
    return rows


# -- sign-in ---------------------------------------------------------------------------
@dataclass
class SignIn:
    """The first-start form. ``missing()`` names the catalogue keys of what is missing."""

    server_url: str = ""
    username: str = ""
    password: str = ""
    code: str = ""
    use_code: bool = False

    def normalized_server(self) -> str:
        url = self.server_url.strip().rstrip("/")
        if url and "://" not in url:
            url = "http://" + url
        return url

    def missing(self) -> list[str]:
        keys = []
        url = self.normalized_server()
        if not url:
            keys.append("signin.need_server")
        else:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                keys.append("signin.bad_server")
        if self.use_code:
            if not self.code.strip():
                keys.append("signin.need_code")
        else:
            if not self.username.strip():
                keys.append("signin.need_username")
            if not self.password:
                keys.append("signin.need_password")
        return keys

    def credentials(self) -> dict[str, str]:
        if self.use_code:
            return {"enrollment_code": self.code.strip()}
        return {"username": self.username.strip(), "password": self.password}


# -- sync indicator --------------------------------------------------------------------
def sync_line(status: Mapping[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
    """(catalogue key of the indicator, progress values or None) from the sync status dict."""
    if not status:
        return "net.offline", None
    state = status.get("state")
    if state == "revoked":
        return "net.revoked", None
    if state == "running":
        raw = status.get("progress") or status
        progress = {
            "records_done": int(raw.get("records_done") or 0),
            "records_total": int(raw.get("records_total") or 0),
            "kb_done": int(raw.get("bytes_done") or 0) // 1024,
            "kb_total": int(raw.get("bytes_total") or 0) // 1024,
        }
        return "net.syncing", progress
    return ("net.online" if status.get("online") else "net.offline"), None


def short_time(iso: str | None) -> str | None:
    """``2025-03-14 09:30`` in the phone's local time, from a server ISO time."""
    if not iso:
        return None
    from datetime import datetime

    try:
        t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


# -- draft saving ----------------------------------------------------------------------
class Debouncer:
    """Says when typing has paused long enough to save; a discrete action saves at once.

    ``touch()`` after each keystroke; ``due()`` is true once ``delay`` seconds
    passed since the last touch (and until ``saved()``).
    """

    def __init__(self, delay: float = 0.4, clock: Callable[[], float] = monotonic) -> None:
        self.delay = delay
        self.clock = clock
        self.dirty_since: float | None = None

    def touch(self) -> None:
        self.dirty_since = self.clock()

    @property
    def dirty(self) -> bool:
        return self.dirty_since is not None

    def due(self) -> bool:
        return self.dirty_since is not None and self.clock() - self.dirty_since >= self.delay

    def saved(self) -> None:
        self.dirty_since = None
