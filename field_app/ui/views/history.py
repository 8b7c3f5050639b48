"""History: her records with their state; search and filter by village and month; conflicts resolved here."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.live import KeyedRows
from field_app.ui.models.state import history_rows, villages
from field_app.ui.views import record

PAGE = 50  # the newest records; filters narrow the search on the phone's whole history


def build(ctx: Any) -> ft.View:
    tr, store = ctx.tr, ctx.store
    vs = villages(ctx.reference("village"))
    names = {v.id: tr.pick(v.name, v.name_en) for v in vs}
    filters: dict[str, Any] = {"village_id": None, "month": "", "text": ""}
    listing = ft.Column(spacing=8)
    generation = [0]  # a newer query (the next keystroke) wins over an older one still reading

    async def choose(record_id: str, choice: str) -> None:
        await record.resolve(ctx, record_id, choice)
        await redraw()

    def edit(record_id: str) -> None:
        draft = store.edit_record(record_id)
        ctx.go(f"/check/{draft['record_id']}")

    def row(r: dict[str, Any]) -> ft.Control:
        state = r["state"]
        lines: list[ft.Control] = [
            ft.Row([theme.body(r["village"] or "—", bold=True), record.state_badge(tr, state)],
                   alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
            theme.body(f"{r['month']} · {tr('kind.' + r['kind']) if r['kind'] else ''}"
                       + (f" · {r['total_score']}" if r["total_score"] is not None else "")
                       + (f" · {tr('history.ledger', index=r['ledger_index'])}" if r["ledger_index"] is not None else ""),
                       color=theme.MUTED),
        ]
        if r["reason"]:
            lines.append(theme.body(tr("history.reason", reason=r["reason"]), color=theme.DANGER))
        if r["error"]:
            err = r["error"] if isinstance(r["error"], dict) else {"message": str(r["error"])}
            lines.append(theme.body(tr.error(err), color=theme.DANGER))
        if r["conflict"]:
            lines += record.conflict_block(ctx, r["record_id"], r["conflict"], choose)
        actions: list[ft.Control] = [
            theme.button(tr("history.details"), lambda _, i=r["record_id"]: ctx.go(f"/history/{i}"),
                         icon=ft.Icons.RECEIPT_LONG)
        ]
        if state == "draft" and r["kind"] == "remediation_check":
            actions.append(theme.button(tr("history.edit"), lambda _, i=r["record_id"]: ctx.go(f"/check/{i}")))
        elif state == "sent_back" and r["kind"] == "remediation_check":
            actions.append(theme.button(tr("history.edit"), lambda _, i=r["record_id"]: edit(i)))
        lines.append(ft.Row(actions, wrap=True))
        return theme.card(*lines)

    def rows_of(records: list[dict[str, Any]], month: str | None) -> list[dict[str, Any]]:
        return history_rows(records, village_names=names, village_id=filters["village_id"], month=month,
                            text=filters["text"], sync_status=ctx.services.sync_status())

    rows = KeyedRows(row)
    empty = theme.body(tr("history.empty"), color=theme.MUTED)

    def load() -> tuple[int, list[dict[str, Any]]]:
        """(the query's generation, its rows): blocking, off the UI thread."""
        mine, month = generation[0], filters["month"].strip() or None
        records = store.history(village_id=filters["village_id"], month=month, limit=PAGE)
        return mine, rows_of(records, month)

    def draw(model: tuple[int, list[dict[str, Any]]]) -> bool:
        mine, found = model
        if mine != generation[0]:
            return False  # a newer query (the next keystroke) wins over an older one still reading
        listing.controls = rows.controls((r["record_id"], r) for r in found) or [empty]
        return True

    # the list follows sync in place: "sending" while the pass pushes, "synced" with its ledger index after
    section = ctx.live.section(load, draw, target=listing)

    async def redraw() -> None:
        generation[0] += 1
        if section.show(await asyncio.to_thread(load)):
            ctx.update(listing)

    async def set_filter(key: str, value: Any) -> None:
        filters[key] = value
        await redraw()

    async def on_village(e: Any) -> None:
        await set_filter("village_id", e.control.value or None)

    async def on_month(e: Any) -> None:
        await set_filter("month", e.control.value or "")

    async def on_text(e: Any) -> None:
        await set_filter("text", e.control.value or "")

    village_pick = ft.Dropdown(
        label=tr("history.village"),
        value="",
        options=[ft.DropdownOption(key="", text=tr("common.all"))] + [ft.DropdownOption(key=v.id, text=names[v.id]) for v in vs],
        on_select=on_village,
        expand=True,
    )
    month = theme.field(tr("history.month"), on_change=on_month)
    search = theme.field(tr("history.search"), prefix_icon=ft.Icons.SEARCH, on_change=on_text)
    section.show(load())
    return ctx.view("/history", tr("history.title"), [search, ft.Row([village_pick]), month, listing], back=True)
