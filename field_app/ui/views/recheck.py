"""Re-check: close a rectification order with "after" photos shown beside the "before" ones."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.check_form import RecheckForm
from field_app.ui.models.state import villages
from field_app.ui.views import media


def build(ctx: Any, order_id: str) -> ft.View:
    tr, store = ctx.tr, ctx.store
    route = f"/recheck/{order_id}"
    order = next((o for o in ctx.open_orders() if o["order_id"] == order_id), None)
    if order is None:
        return ctx.view(route, tr("recheck.title"), [theme.body(tr("recheck.unknown_order"), color=theme.DANGER)], back=True)
    existing = next((d for d in store.list_drafts()
                     if d.get("kind") == "recheck" and d.get("content", {}).get("order_id") == order_id), None)
    user = ctx.user()
    form = RecheckForm(existing) if existing else RecheckForm.start(
        order=order, recorder=user.get("display_name") or user.get("username") or "")
    if existing is None:
        store.save_draft(form.draft)
    ctx.store.set_setting("editing", route)
    names = {v.id: ctx.tr.pick(v.name, v.name_en) for v in villages(ctx.reference("village"))}
    village = names.get(order["village_id"], order["village_id"])
    body = ft.Column(spacing=12)

    def save() -> None:
        store.save_draft(form.draft)

    ctx.on_leave = save

    def redraw() -> None:
        body.controls = sections()
        ctx.page.update()

    async def add(data_list: list[bytes], *, from_camera: bool = False) -> None:
        for data in data_list:
            sha = await media.ingest(
                ctx, data, village=village, location=form.content["location"], from_camera=from_camera
            )
            if sha:
                form.add_photo(sha)
                save()
        redraw()

    async def gallery(_: Any) -> None:
        await add(await media.pick_photos(ctx))

    async def camera(_: Any) -> None:
        data = await media.take_photo(ctx)
        if data:
            await add([data], from_camera=True)

    async def do_locate(_: Any) -> None:
        location = await media.locate(ctx)
        if location:
            form.set_location(location)
            save()
            redraw()

    async def submit(_: Any) -> None:
        save()
        problems = form.problems()
        if problems:
            ctx.message(tr("check.cannot_submit", count=len(problems)), error=True)
            redraw()
            return
        envelope = form.envelope(author=user.get("username", ""), device_id=store.get_setting("device_id") or "")
        await asyncio.to_thread(store.submit, envelope)  # durable in the outbox before we say so
        store.set_setting("editing", None)
        ctx.on_leave = None
        ctx.message(tr("check.submitted"))
        if ctx.services.sync is not None:
            ctx.services.sync.sync_now()
        ctx.go("/")

    def sections() -> list[ft.Control]:
        problems = form.problems()
        overdue = order["overdue_days"] > 0
        return [
            theme.card(
                theme.title(f"{village} · {order['title']}"),
                theme.body(tr("home.order_overdue", days=order["overdue_days"], deadline=order["deadline"]) if overdue
                           else tr("home.order_due", deadline=order["deadline"]),
                           color=theme.DANGER if overdue else theme.INK, bold=overdue),
            ),
            ft.Row(
                [
                    ft.Column([theme.body(tr("recheck.before"), bold=True),
                               ft.Row([media.thumbnail(ctx, s, size=150) for s in order["before_photos"]], wrap=True)],
                              expand=True),
                    ft.Column([theme.body(tr("recheck.after"), bold=True),
                               ft.Row([media.thumbnail(ctx, s, size=150) for s in form.content["after_photos"]], wrap=True)],
                              expand=True),
                ],
                vertical_alignment=ft.CrossAxisAlignment.START,
            ),
            ft.Row([theme.button(tr("check.camera"), camera, icon=ft.Icons.PHOTO_CAMERA),
                    theme.button(tr("check.gallery"), gallery, icon=ft.Icons.PHOTO_LIBRARY),
                    theme.button(tr("check.locate"), do_locate, icon=ft.Icons.MY_LOCATION)], wrap=True),
            theme.body(media.location_text(ctx, form.content["location"]), size=14),
            ft.Switch(label=tr("recheck.resolved"), value=form.content["resolved"],
                      on_change=lambda e: (form.set_resolved(e.control.value), save(), redraw())),
            theme.field(tr("recheck.note"), form.content["note"], multiline=True,
                        on_change=lambda e: form.set_note(e.control.value or ""), on_blur=lambda _: save()),
            *[theme.body("• " + tr.pick(p.message_zh, p.message), color=theme.DANGER) for p in problems],
            theme.primary_button(tr("recheck.close"), submit, icon=ft.Icons.TASK_ALT),
        ]

    body.controls = sections()
    return ctx.view(route, tr("recheck.title"), [body], back=True)
