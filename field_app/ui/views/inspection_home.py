"""Home's first card for an officer: the random inspections assigned to her, and her PIN."""

from __future__ import annotations

from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.inspection_form import AssignedInspection, assigned_inspections
from field_app.ui.models.live import KeyedRows
from xuncha_core.inspections.inspection_record import KIND


def route_of(task_id: str) -> str:
    """The form's route: a task id is ``<draw id>/<credit code>``."""
    return f"/inspection/{task_id}"


def section(ctx: Any) -> ft.Control | None:
    """The card, following sync in place (``ctx.live``); None for someone with no inspections to do."""
    tr, store = ctx.tr, ctx.store
    user = ctx.user()
    if user.get("role") != "officer" and not ctx.reference("task"):
        return None

    def row(item: AssignedInspection) -> ft.Control:
        label = tr("inspection.continue") if item.draft_id else tr("inspection.start")
        lines = [
            theme.body(item.entity, bold=True),
            theme.body(item.address, size=14),
            theme.body(tr("inspection.matters_line", names="、".join(item.matters)), size=14),
            theme.body(tr("inspection.with", names="、".join(item.co_inspectors) or tr("common.none")), size=14),
            theme.body(tr("inspection.deadline", deadline=item.deadline), size=14, bold=True),
        ]
        return ft.Container(
            ft.Column([*lines, theme.primary_button(label, lambda _: ctx.go(route_of(item.task_id)), icon=ft.Icons.FACT_CHECK)],
                      spacing=4, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
            padding=ft.Padding.symmetric(vertical=6),
            border=ft.Border.only(bottom=ft.BorderSide(1, "#BDBDBD")),
        )

    rows = KeyedRows(row)
    empty = theme.body(tr("inspection.none"), color=theme.MUTED)
    listing = ft.Column([theme.title(tr("inspection.assigned"))], spacing=8,
                        horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def load() -> tuple[AssignedInspection, ...]:
        return tuple(assigned_inspections(ctx.reference("task"), store.history(kind=KIND), store.list_drafts(),
                                          user.get("username", "")))

    def draw(items: tuple[AssignedInspection, ...]) -> None:
        empty.visible = not items
        listing.controls = [listing.controls[0], empty, *rows.controls((i.task_id, i) for i in items)]

    ctx.live.section(load, draw, target=listing).show(load())
    pin = theme.button(tr("pin.set"), lambda _: ctx.go("/pin"), icon=ft.Icons.PIN)
    return theme.card(listing, pin)
