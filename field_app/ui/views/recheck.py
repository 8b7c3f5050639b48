"""Re-check: close a rectification order with "after" photos shown beside the "before" ones.

Opening an order only shows it: the re-check draft is made by her first change (a photo,
a place, the switch, a note), so a look leaves nothing behind.
"""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.check_form import RecheckForm
from field_app.ui.models.evidence import max_distance_m, photo_evidence, village_location
from field_app.ui.models.state import villages
from field_app.ui.views import media


class RecheckScreen:
    def __init__(self, ctx: Any, order: dict[str, Any]) -> None:
        self.ctx, self.tr, self.store, self.order = ctx, ctx.tr, ctx.store, order
        existing = next((d for d in self.store.list_drafts()
                         if d.get("kind") == "recheck" and d.get("content", {}).get("order_id") == order["order_id"]), None)
        user = ctx.user()
        self.stored = existing is not None
        self.touched = False  # a note typed and not yet saved
        self.form = RecheckForm(existing) if existing else RecheckForm.start(
            order=order, recorder=user.get("display_name") or user.get("username") or "")
        names = {v.id: ctx.tr.pick(v.name, v.name_en) for v in villages(ctx.reference("village"))}
        self.village = names.get(order["village_id"], order["village_id"])
        self.body = ft.Column(spacing=12)
        self.route = f"/recheck/{order['order_id']}"

    def save(self) -> None:
        """Keep the draft (the first change makes it) and reopen it after a kill."""
        self.store.save_draft(self.form.draft)
        if not self.stored:
            self.stored = True
            self.store.set_setting("editing", self.route)

    def leave(self) -> None:
        if self.stored or self.touched:
            self.save()

    def redraw(self) -> None:
        self.body.controls = self.sections()
        self.ctx.page.update()

    def changed(self) -> None:
        self.save()
        self.redraw()

    async def add(self, data_list: list[bytes], *, from_camera: bool = False) -> None:
        content = self.form.content
        for data in data_list:
            meta = await media.ingest(self.ctx, data, village=self.village, location=content["location"],
                                      from_camera=from_camera)
            if meta:
                payload = self.ctx.reference("village").get(self.order["village_id"]) or {}
                self.form.add_photo(meta["sha256"], photo_evidence(
                    meta, village=village_location(payload, content["location"]), checked_at=content["rechecked_at"],
                    max_distance=max_distance_m(self.ctx.reference("setting").get("evidence"))))
                self.save()
        self.redraw()

    async def gallery(self, _: Any) -> None:
        await self.add(await media.pick_photos(self.ctx))

    async def camera(self, _: Any) -> None:
        data = await media.take_photo(self.ctx)
        if data:
            await self.add([data], from_camera=True)

    async def locate(self, _: Any) -> None:
        location = await media.locate(self.ctx)
        if location:
            self.form.set_location(location)
            self.changed()

    async def submit(self, _: Any) -> None:
        ctx, tr = self.ctx, self.tr
        self.save()
        problems = self.form.problems()
        if problems:
            ctx.message(tr("check.cannot_submit", count=len(problems)), error=True)
            self.redraw()
            return
        user = ctx.user()
        envelope = self.form.envelope(author=user.get("username", ""), device_id=self.store.get_setting("device_id") or "")
        await asyncio.to_thread(self.store.submit, envelope)  # durable in the outbox before we say so
        self.store.set_setting("editing", None)
        ctx.on_leave = None
        ctx.message(tr("check.submitted"))
        if ctx.services.sync is not None:
            ctx.services.sync.sync_now()
        ctx.go("/")

    def sections(self) -> list[ft.Control]:
        tr, ctx, order, content = self.tr, self.ctx, self.order, self.form.content
        overdue = order["overdue_days"] > 0
        evidence = content.get("photo_evidence") or {}

        def column(title: str, shas: list[str]) -> ft.Control:
            return ft.Column([theme.body(title, bold=True),
                              ft.Row([media.thumbnail(ctx, s, n, size=150, evidence=evidence.get(s))
                                      for n, s in enumerate(shas, 1)], wrap=True)], expand=True)

        def on_resolved(e: Any) -> None:
            self.form.set_resolved(bool(e.control.value))
            self.changed()

        def on_note(e: Any) -> None:
            self.form.set_note(e.control.value or "")
            self.touched = True

        return [
            theme.card(theme.title(f"{self.village} · {order['title']}"),
                       theme.body(tr("home.order_overdue", days=order["overdue_days"], deadline=order["deadline"])
                                  if overdue else tr("home.order_due", deadline=order["deadline"]),
                                  color=theme.DANGER if overdue else theme.INK, bold=overdue)),
            ft.Row([column(tr("recheck.before"), order["before_photos"]), column(tr("recheck.after"), content["after_photos"])],
                   vertical_alignment=ft.CrossAxisAlignment.START),
            ft.Row([theme.button(tr("check.camera"), self.camera, icon=ft.Icons.PHOTO_CAMERA),
                    theme.button(tr("check.gallery"), self.gallery, icon=ft.Icons.PHOTO_LIBRARY),
                    theme.button(tr("check.locate"), self.locate, icon=ft.Icons.MY_LOCATION)], wrap=True),
            theme.body(media.location_text(ctx, content["location"]), size=14),
            ft.Switch(label=tr("recheck.resolved"), value=content["resolved"], on_change=on_resolved),
            theme.field(tr("recheck.note"), content["note"], multiline=True, on_change=on_note, on_blur=lambda _: self.leave()),
            *[theme.body("• " + tr.pick(p.message_zh, p.message), color=theme.DANGER) for p in self.form.problems()],
            theme.primary_button(tr("recheck.close"), self.submit, icon=ft.Icons.TASK_ALT),
        ]


def build(ctx: Any, order_id: str) -> ft.View:
    tr = ctx.tr
    route = f"/recheck/{order_id}"
    order = next((o for o in ctx.open_orders() if o["order_id"] == order_id), None)
    if order is None:
        return ctx.view(route, tr("recheck.title"), [theme.body(tr("recheck.unknown_order"), color=theme.DANGER)], back=True)
    screen = RecheckScreen(ctx, order)
    if screen.stored:
        ctx.store.set_setting("editing", route)
    ctx.on_leave = screen.leave
    screen.body.controls = screen.sections()
    return ctx.view(route, tr("recheck.title"), [screen.body], back=True)
