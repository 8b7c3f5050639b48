"""Home: this month's check of each village, open rectification orders, what waits to be sent."""

from __future__ import annotations

from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.check_form import CheckForm, month_of
from field_app.ui.state import (
    cleaners_of,
    sheet_for,
    short_time,
    village_statuses,
    villages,
)

STATUS_COLORS = {"done": theme.PRIMARY, "draft": theme.WARN, "not_started": theme.MUTED}


def build(ctx: Any) -> ft.View:
    tr, store = ctx.tr, ctx.store
    today = ctx.today()
    month = month_of(today)
    vs = villages(ctx.reference("village"))
    sheets = ctx.reference("scoring_sheet")
    records = store.history(month=month)
    drafts = store.list_drafts()
    stats = store.stats()
    status = ctx.services.sync_status() or {}
    user = ctx.user()
    controls: list[ft.Control] = []

    report = getattr(store, "recovery_report", None)
    if report is not None and not report.ok:
        detail = "; ".join([*(m.get("reason", "") for m in report.as_dict().get("moved", [])),
                            *report.as_dict().get("reconciled", [])])
        controls.append(theme.body(tr("home.recovered", detail=detail), color=theme.WARN, bold=True))

    last = short_time(status.get("last_success_at") or stats.get("last_sync_at"))
    controls.append(
        theme.card(
            theme.body(tr("signin.as", name=user.get("display_name") or user.get("username") or "?")),
            theme.body(tr("home.waiting", count=stats.get("outbox", 0)), bold=True),
            theme.body(tr("home.last_sync", at=last) if last else tr("home.never_synced"), color=theme.MUTED),
            *([theme.body(tr("home.sync_error", message=tr.pick(status["last_error"].get("message_zh", ""),
                                                              status["last_error"].get("message", ""))),
                          color=theme.DANGER)] if status.get("last_error") else []),
            ft.Row(
                [
                    theme.primary_button(tr("home.sync_now"), lambda _: ctx.sync_now(), icon=ft.Icons.SYNC),
                    theme.button(tr("home.history"), lambda _: ctx.go("/history"), icon=ft.Icons.LIST),
                ],
                wrap=True,
            ),
        )
    )

    if not vs or not sheets:
        controls.append(theme.body(tr("home.no_reference"), color=theme.DANGER, bold=True))

    def start_check(village_id: str) -> None:
        village = next(v for v in vs if v.id == village_id)
        sheet = sheet_for(village, sheets)
        if sheet is None:
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

    rows: list[ft.Control] = [theme.title(tr("home.month_checks", month=month))]
    for village, state, record_id in village_statuses(vs, records, drafts, month):
        name = tr.pick(village.name, village.name_en)
        if state == "not_started":
            action = theme.primary_button(tr("home.new_check"), lambda _, v=village.id: start_check(v), icon=ft.Icons.ADD)
        elif state == "draft":
            action = theme.button(tr("home.status.draft"), lambda _, r=record_id: ctx.go(f"/check/{r}"), icon=ft.Icons.EDIT)
        else:
            action = theme.button(tr("home.history"), lambda _: ctx.go("/history"))
        rows.append(
            ft.Container(
                ft.Row(
                    [
                        ft.Column([theme.body(name, bold=True),
                                   theme.badge(tr(f"home.status.{state}"), STATUS_COLORS[state])],
                                  spacing=4, expand=True),
                        action,
                    ],
                    vertical_alignment=ft.CrossAxisAlignment.CENTER,
                ),
                padding=ft.Padding.symmetric(vertical=6),
                border=ft.Border.only(bottom=ft.BorderSide(1, "#BDBDBD")),
            )
        )
    controls.append(theme.card(*rows))

    names = {v.id: tr.pick(v.name, v.name_en) for v in vs}
    orders = ctx.open_orders()
    order_rows: list[ft.Control] = [theme.title(tr("home.orders"))]
    if not orders:
        order_rows.append(theme.body(tr("home.no_orders"), color=theme.MUTED))
    for order in orders:
        overdue = order["overdue_days"] > 0
        when = (tr("home.order_overdue", days=order["overdue_days"], deadline=order["deadline"]) if overdue
                else tr("home.order_due", deadline=order["deadline"]))
        order_rows.append(
            ft.ListTile(
                title=theme.body(f"{names.get(order['village_id'], order['village_id'])} · {order['title']}", bold=True),
                subtitle=theme.body(when, color=theme.DANGER if overdue else theme.INK, bold=overdue),
                trailing=ft.Icon(ft.Icons.CHEVRON_RIGHT),
                on_click=lambda _, o=order["order_id"]: ctx.go(f"/recheck/{o}"),
                min_height=theme.TOUCH,
            )
        )
    controls.append(theme.card(*order_rows))
    return ctx.view("/", tr("app.title"), controls)
