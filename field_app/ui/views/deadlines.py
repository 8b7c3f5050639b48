"""A rectification order's deadline on the check form: 预计 while its year's working-day
schedule is not out yet, and a note when the schedule arrived and moved it."""

from __future__ import annotations

from typing import Any

import flet as ft

from field_app.ui import theme


def deadline_notes(tr: Any, order: dict[str, Any], changes: list[dict[str, Any]]) -> list[ft.Control]:
    """预计 on a deadline counted Monday to Friday (its year's schedule is not out yet), and a note
    when the schedule arrived and moved it."""
    notes: list[ft.Control] = []
    estimate = order.get("deadline_estimate")
    if isinstance(estimate, dict):
        notes.append(theme.body(tr("check.deadline_estimate", days=estimate.get("working_days", "")),
                                color=theme.WARN, size=14))
    for change in changes:
        if change.get("order_id") == order.get("order_id"):
            notes.append(theme.body(tr("check.deadline_changed", was=change.get("was", ""), now=change.get("now", "")),
                                    color=theme.MUTED, size=14))
    return notes
