"""History: her records with their state; search and filter by village and month; conflicts resolved here."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.inputs import month_choices
from field_app.ui.models.live import KeyedRows
from field_app.ui.models.state import history_rows, villages
from field_app.ui.views import record

ON_TOP = 4  # cards drawn with the filters (a phone screenful); the others a moment later (field_app.ui.fold)
PAGE = 20  # the newest records first, 20 more a tap (a short list draws at once); filters search them all


def row(ctx: Any, r: dict[str, Any], choose: Any) -> ft.Control:
    tr, state = ctx.tr, r["state"]
    facts = [r["month"], tr("kind." + r["kind"]) if r["kind"] else ""]
    if r["total_score"] is not None:
        facts.append(str(r["total_score"]))
    if r["ledger_index"] is not None:
        facts.append(tr("history.ledger", index=r["ledger_index"]))
    lines: list[ft.Control] = [
        ft.Row([theme.body(r["village"] or "—", bold=True), record.state_badge(tr, state)],
               alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
        theme.body(" · ".join(f for f in facts if f), color=theme.MUTED),
    ]
    if r["reason"]:
        lines.append(theme.body(tr("history.reason", reason=r["reason"]), color=theme.DANGER))
    if r["error"]:
        lines.append(theme.body(tr.error(r["error"] if isinstance(r["error"], dict) else {"code": "unknown"}),
                                color=theme.DANGER))
    if r["conflict"]:
        lines += record.conflict_block(ctx, r["record_id"], r["conflict"], choose)
    actions: list[ft.Control] = [theme.button(tr("history.details"), lambda _, i=r["record_id"]: ctx.go(f"/history/{i}"),
                                              icon=ft.Icons.RECEIPT_LONG)]
    if state == "draft" and r["kind"] == "remediation_check":
        actions.append(theme.button(tr("history.edit"), lambda _, i=r["record_id"]: ctx.go(f"/check/{i}")))
    elif state == "sent_back" and r["kind"] == "remediation_check":
        actions.append(theme.primary_button(tr("home.fix"), lambda _, i=r["record_id"]: edit(ctx, i)))
    lines.append(ft.Row(actions, wrap=True))
    return theme.card(*lines)


def edit(ctx: Any, record_id: str) -> None:
    draft = ctx.store.edit_record(record_id)
    ctx.go(f"/check/{draft['record_id']}")


class HistoryScreen:
    """The list, its filters, and a query generation (a newer query wins over an older one still reading)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx, self.tr = ctx, ctx.tr
        self.vs = villages(ctx.reference("village"))
        self.names = {v.id: ctx.tr.pick(v.name, v.name_en) for v in self.vs}
        self.filters: dict[str, Any] = {"village_id": None, "month": None, "text": ""}
        self.top, self.rest = ft.Column(spacing=8), ctx.later(ft.Column(spacing=8))  # the first cards, the others
        self.listing = ft.Column([self.top, self.rest], spacing=8)
        self.generation = 0
        self.shown = PAGE
        self.more = theme.button(self.tr("history.more"), self.show_more, icon=ft.Icons.EXPAND_MORE)
        self.rows = KeyedRows(lambda r: row(ctx, r, self.choose))
        self.empty = theme.body(self.tr("history.empty"), color=theme.MUTED)
        # the list follows sync in place: "sending" while the pass pushes, "synced" with its ledger index after
        self.section = ctx.live.section(self.load, self.draw, target=self.listing)

    async def choose(self, record_id: str, choice: str) -> None:
        await record.resolve(self.ctx, record_id, choice)
        await self.redraw()

    def load(self) -> tuple[int, list[dict[str, Any]], bool]:
        """(the query's generation, its rows, whether there are more): blocking, off the UI thread."""
        mine, month, shown = self.generation, self.filters["month"], self.shown
        records = self.ctx.store.history(village_id=self.filters["village_id"], month=month,
                                         text=self.filters["text"] or None, limit=shown + 1)
        rows = history_rows(records[:shown], village_names=self.names, village_id=self.filters["village_id"],
                            month=month, text=self.filters["text"], sync_status=self.ctx.services.sync_status())
        return mine, rows, len(records) > shown

    def draw(self, model: tuple[int, list[dict[str, Any]], bool]) -> bool:
        mine, found, more = model
        if mine != self.generation:
            return False
        rows = [*(self.rows.controls((r["record_id"], r) for r in found) or [self.empty]), *([self.more] if more else [])]
        self.top.controls, self.rest.controls = rows[:ON_TOP], rows[ON_TOP:]
        return True

    async def show_more(self, _: Any) -> None:
        self.shown += PAGE
        await self.redraw()

    async def redraw(self) -> None:
        self.generation += 1
        if self.section.show(await asyncio.to_thread(self.load)):
            self.ctx.update(self.listing)

    def setter(self, key: str) -> Any:
        async def handler(e: Any) -> None:
            self.filters[key] = (e.control.value or "") if key == "text" else (e.control.value or None)
            await self.redraw()
        return handler

    def filters_bar(self) -> list[ft.Control]:
        tr = self.tr
        every = [ft.DropdownOption(key="", text=tr("common.all"))]
        village = ft.Dropdown(label=tr("history.village"), value="", expand=True, on_select=self.setter("village_id"),
                              options=every + [ft.DropdownOption(key=v.id, text=self.names[v.id]) for v in self.vs])
        month = ft.Dropdown(label=tr("history.month"), value="", expand=True, on_select=self.setter("month"),
                            options=every + [ft.DropdownOption(key=m, text=m) for m in month_choices(self.ctx.today())])
        search = theme.field(tr("history.search"), prefix_icon=ft.Icons.SEARCH, on_change=self.setter("text"))
        return [search, ft.Row([village, month])]


def build(ctx: Any) -> ft.View:
    screen = HistoryScreen(ctx)
    screen.section.show(screen.load())
    return ctx.view("/history", ctx.tr("history.title"), [*screen.filters_bar(), screen.listing], back=True)
