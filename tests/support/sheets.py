"""The sample scoring sheet shipped in ``assets/config``, loaded once for every test that needs it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xuncha_core.sheet import ScoringSheet, parse_sheet

if TYPE_CHECKING:
    from tests.support.live_server import LiveServer

SAMPLE_SHEET_PATH = Path(__file__).resolve().parents[2] / "assets" / "config" / "scoring_sheet.sample.json"


def sample_sheet_json() -> dict[str, Any]:
    """The sample sheet as JSON (a fresh copy: callers may change it)."""
    return json.loads(_text())


@cache
def sample_sheet() -> ScoringSheet:
    """The sample sheet, parsed (immutable, shared)."""
    return parse_sheet(sample_sheet_json())


@cache
def _text() -> str:
    return SAMPLE_SHEET_PATH.read_text(encoding="utf-8")


def publish_reference(
    server: LiveServer,
    *villages: tuple[str, str] | tuple[str, str, str],
    cleaners: list[tuple[str, str, str]] | tuple[()] = (),
) -> dict[str, Any]:
    """Publish, as an office admin, the sample sheet, villages ``(id, name[, name_en])`` and
    cleaners ``(id, name, village_id)``; answers the sheet."""
    server.add_user("office", "admin")
    token = server.enroll("office", kind="browser")["token"]
    sheet = sample_sheet_json()
    items: list[tuple[str, str, dict[str, Any]]] = [("scoring_sheet", sheet["id"], sheet)]
    for vid, name, *name_en in villages:
        items.append(("village", vid, {"name": name, **({"name_en": name_en[0]} if name_en else {})}))
    items += [("cleaner", cid, {"name": name, "village_id": vid}) for cid, name, vid in cleaners]
    with server.client(token) as c:
        for topic, key, payload in items:
            r = c.put(f"/api/v1/reference/{topic}/{key}", json=payload)
            assert r.status_code in (200, 201), r.text
    return sheet
