"""Home: this month's check of each village, open rectification orders, what waits to be sent."""

from __future__ import annotations

from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.check_form import CheckForm, month_of
from field_app.ui.models.live import KeyedRows
from field_app.ui.models.state import (
    cleaners_of,
    sheet_for,
    short_time,
    village_statuses,
    villages,
)
from field_app.ui.views import inspection_home

STATUS_COLORS = {"done": theme.PRIMARY, "draft": theme.WARN, "not_started": theme.MUTED}


def build(ctx: Any) -> ft.View:
    """Home. Its summary, village list and orders follow sync in place (``ctx.live``): a
    row whose data did not change keeps its controls, so a tap on it is never lost."""
    tr, store = ctx.tr, ctx.store
    month = month_of(ctx.today())
    user = ctx.user()
    controls: list[ft.Control] = []

    report = store.recovery_report
    if not report.ok:
        detail = "; ".join([*(m.get("reason", "") for m in report.as_dict().get("moved", [])),
                            *report.as_dict().get("reconciled", [])])
        controls.append(theme.body(tr("home.recovered", detail=detail), color=theme.WARN, bold=True))

    inspections = inspection_home.section(ctx)  # an officer's assigned inspections come first
    if inspections is not None:
        controls.append(inspections)

    # -- what waits to be sent, last sync, last error ----------------------------------------
    waiting = theme.body("", bold=True)
    last_sync = theme.body("", color=theme.MUTED)
    sync_error = theme.body("", color=theme.DANGER)
    summary = ft.Column([waiting, last_sync, sync_error], spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def load_summary() -> tuple[int, str, str]:
        stats, status = store.stats(), ctx.services.sync_status() or {}
        err = status.get("last_error") or {}
        return (int(stats.get("outbox", 0)), short_time(status.get("last_success_at") or stats.get("last_sync_at")) or "",
                tr.error(err) if err else "")

    def draw_summary(model: tuple[int, str, str]) -> None:
        count, last, error = model
        waiting.value = tr("home.waiting", count=count)
        last_sync.value = tr("home.last_sync", at=last) if last else tr("home.never_synced")
        sync_error.value = tr("home.sync_error", message=error) if error else ""
        sync_error.visible = bool(error)

    controls.append(
        theme.card(
            theme.body(tr("signin.as", name=user.get("display_name") or user.get("username") or "?")),
            summary,
            ft.Row(
                [
                    theme.primary_button(tr("home.sync_now"), lambda _: ctx.sync_now(), icon=ft.Icons.SYNC),
                    theme.button(tr("home.history"), lambda _: ctx.go("/history"), icon=ft.Icons.LIST),
                ],
                wrap=True,
            ),
        )
    )

    # -- this month's check of each village ------------------------------------------------
    def start_check(village_id: str) -> None:
        village = next((v for v in villages(ctx.reference("village")) if v.id == village_id), None)
        sheet = sheet_for(village, ctx.reference("scoring_sheet"))
        if village is None or sheet is None:
            ctx.message(tr("check.no_sheet"), error=True)
            return
        form = CheckForm.start(
            village_id=village.id,
            month=month,
            sheet=sheet,
            recorder=user.get("display_name") or user.get("username") or "",
            cleaner_ids=[cid for cid, _ in cleaners_of(village.id, ctx.reference("cleaner"))],
        )
        store.save_draft(form.draft)
        ctx.go(f"/check/{form.record_id}")

    def village_row(data: tuple[str, str, str, str | None]) -> ft.Control:
        village_id, name, state, record_id = data
        if state == "not_started":
            action = theme.primary_button(tr("home.new_check"), lambda _: start_check(village_id), icon=ft.Icons.ADD)
        elif state == "draft":
            action = theme.button(tr("home.status.draft"), lambda _: ctx.go(f"/check/{record_id}"), icon=ft.Icons.EDIT)
        else:
            action = theme.button(tr("home.history"), lambda _: ctx.go("/history"))
        return ft.Container(
            ft.Row(
                [
                    ft.Column([theme.body(name, bold=True), theme.badge(tr(f"home.status.{state}"), STATUS_COLORS[state])],
                              spacing=4, expand=True),
                    action,
                ],
                vertical_alignment=ft.CrossAxisAlignment.CENTER,
            ),
            padding=ft.Padding.symmetric(vertical=6),
            border=ft.Border.only(bottom=ft.BorderSide(1, "#BDBDBD")),
        )

    village_rows = KeyedRows(village_row)
    no_reference = theme.body(tr("home.no_reference"), color=theme.DANGER, bold=True)
    village_list = ft.Column([theme.title(tr("home.month_checks", month=month))], spacing=8,
                             horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def load_villages() -> tuple[bool, tuple[tuple[str, str, str, str | None], ...]]:
        vs = villages(ctx.reference("village"))
        rows = village_statuses(vs, store.history(month=month), store.list_drafts(), month)
        ready = bool(vs) and bool(ctx.reference("scoring_sheet"))
        return ready, tuple((v.id, tr.pick(v.name, v.name_en), state, rid) for v, state, rid in rows)

    def draw_villages(model: tuple[bool, tuple[tuple[str, str, str, str | None], ...]]) -> None:
        ready, rows = model
        no_reference.visible = not ready
        village_list.controls = [village_list.controls[0], *village_rows.controls((r[0], r) for r in rows)]

    # -- open rectification orders --------------------------------------------------------
    def order_row(order: dict[str, Any]) -> ft.Control:
        overdue = order["overdue_days"] > 0
        when = (tr("home.order_overdue", days=order["overdue_days"], deadline=order["deadline"]) if overdue
                else tr("home.order_due", deadline=order["deadline"]))
        return ft.ListTile(
            title=theme.body(f"{order['village']} · {order['title']}", bold=True),
            subtitle=theme.body(when, color=theme.DANGER if overdue else theme.INK, bold=overdue),
            trailing=ft.Icon(ft.Icons.CHEVRON_RIGHT),
            on_click=lambda _: ctx.go(f"/recheck/{order['order_id']}"),
            min_height=theme.TOUCH,
        )

    order_rows = KeyedRows(order_row)
    no_orders = theme.body(tr("home.no_orders"), color=theme.MUTED)
    order_list = ft.Column([theme.title(tr("home.orders"))], spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def load_orders() -> tuple[dict[str, Any], ...]:
        names = {v.id: tr.pick(v.name, v.name_en) for v in villages(ctx.reference("village"))}
        return tuple({"order_id": o["order_id"], "village": names.get(o["village_id"], o["village_id"]),
                      "title": o["title"], "deadline": o["deadline"], "overdue_days": o["overdue_days"]}
                     for o in ctx.open_orders())

    def draw_orders(orders: tuple[dict[str, Any], ...]) -> None:
        no_orders.visible = not orders
        order_list.controls = [order_list.controls[0], no_orders, *order_rows.controls((o["order_id"], o) for o in orders)]

    village_block = ft.Column([no_reference, theme.card(village_list)], spacing=12,
                              horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    for load, draw, target in ((load_summary, draw_summary, summary), (load_villages, draw_villages, village_block),
                               (load_orders, draw_orders, order_list)):
        ctx.live.section(load, draw, target=target).show(load())
    controls += [village_block, theme.card(order_list)]
    return ctx.view("/", tr("app.title"), controls)
