"""History: her records with their state; search and filter by village and month; conflicts resolved here."""

from __future__ import annotations

from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.state import history_rows, villages

PAGE = 50  # the newest records; filters narrow the search on the phone's whole history


def build(ctx: Any) -> ft.View:
    tr, store = ctx.tr, ctx.store
    vs = villages(ctx.reference("village"))
    names = {v.id: tr.pick(v.name, v.name_en) for v in vs}
    filters: dict[str, Any] = {"village_id": None, "month": "", "text": ""}
    listing = ft.Column(spacing=8)

    def resolve(record_id: str, choice: str) -> None:
        store.resolve_conflict(record_id, choice)
        redraw()

    def edit(record_id: str) -> None:
        draft = store.edit_record(record_id)
        ctx.go(f"/check/{draft['record_id']}")

    def row(r: dict[str, Any]) -> ft.Control:
        state = r["state"]
        lines: list[ft.Control] = [
            ft.Row([theme.body(r["village"] or "—", bold=True),
                    theme.badge(tr(f"state.{state}") if f"state.{state}" in _states() else state,
                                theme.STATE_COLORS.get(state, theme.MUTED))],
                   alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
            theme.body(f"{r['month']} · {tr('kind.' + r['kind']) if r['kind'] else ''}"
                       + (f" · {r['total_score']}" if r["total_score"] is not None else ""), color=theme.MUTED),
        ]
        if r["reason"]:
            lines.append(theme.body(tr("history.reason", reason=r["reason"]), color=theme.DANGER))
        if r["error"]:
            err = r["error"] if isinstance(r["error"], dict) else {"message": str(r["error"])}
            lines.append(theme.body(tr.pick(err.get("message_zh", ""), err.get("message", "")), color=theme.DANGER))
        actions: list[ft.Control] = []
        if state == "conflict":
            lines.append(theme.body(tr("history.conflict"), color=theme.DANGER, bold=True))
            actions += [theme.primary_button(tr("history.keep_mine"), lambda _, i=r["record_id"]: resolve(i, "keep_mine")),
                        theme.button(tr("history.take_server"), lambda _, i=r["record_id"]: resolve(i, "take_server"))]
        elif state == "draft" and r["kind"] == "remediation_check":
            actions.append(theme.button(tr("history.edit"), lambda _, i=r["record_id"]: ctx.go(f"/check/{i}")))
        elif state == "sent_back" and r["kind"] == "remediation_check":
            actions.append(theme.button(tr("history.edit"), lambda _, i=r["record_id"]: edit(i)))
        if actions:
            lines.append(ft.Row(actions, wrap=True))
        return theme.card(*lines)

    def redraw() -> None:
        month = filters["month"].strip() or None
        records = store.history(village_id=filters["village_id"], month=month, limit=PAGE)
        rows = history_rows(records, village_names=names, village_id=filters["village_id"], month=month,
                            text=filters["text"])
        listing.controls = [row(r) for r in rows] or [theme.body(tr("history.empty"), color=theme.MUTED)]
        ctx.page.update()

    def set_filter(key: str, value: Any) -> None:
        filters[key] = value
        redraw()

    village_pick = ft.Dropdown(
        label=tr("history.village"),
        value="",
        options=[ft.DropdownOption(key="", text=tr("common.all"))] + [ft.DropdownOption(key=v.id, text=names[v.id]) for v in vs],
        on_select=lambda e: set_filter("village_id", e.control.value or None),
        expand=True,
    )
    month = theme.field(tr("history.month"), on_change=lambda e: set_filter("month", e.control.value or ""))
    search = theme.field(tr("history.search"), prefix_icon=ft.Icons.SEARCH,
                         on_change=lambda e: set_filter("text", e.control.value or ""))
    rows = history_rows(store.history(limit=PAGE), village_names=names)
    listing.controls = [row(r) for r in rows] or [theme.body(tr("history.empty"), color=theme.MUTED)]
    return ctx.view("/history", tr("history.title"), [search, ft.Row([village_pick]), month, listing], back=True)


def _states() -> set[str]:
    from field_app.ui.i18n import CATALOGUE

    return {k for k in CATALOGUE if k.startswith("state.")}
