"""The sample scoring sheet shipped in ``assets/config``, loaded once for every test that needs it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from xuncha_core.sheet import ScoringSheet, parse_sheet

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
