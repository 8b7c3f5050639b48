"""The remediation check: the sheet's items and rules, deductions with photos and place,
cleaners rated, orders with deadlines, the running total and what is still missing.

Every change is saved as a draft: a tap at once, typing after a short pause
(and on leaving the field or the screen), so a killed app reopens this draft.
"""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.check_form import RATING_FIELDS, CheckForm, device_now
from field_app.ui.models.state import Debouncer, cleaners_of, sheet_for, villages
from field_app.ui.views import media

RATING_LABELS = {"absent_days": "check.absent_days", "late_minutes": "check.late_minutes",
                 "left_post_times": "check.left_post", "dirty_spots": "check.dirty_spots"}


class CheckScreen:
    def __init__(self, ctx: Any, record_id: str) -> None:
        self.ctx, self.tr, self.store = ctx, ctx.tr, ctx.store
        draft = self.store.get_draft(record_id)
        self.missing = draft is None
        vs = villages(ctx.reference("village"))
        content = (draft or {}).get("content", {})
        self.village = next((v for v in vs if v.id == content.get("village_id")), None)
        self.village_name = self.tr.pick(self.village.name, self.village.name_en) if self.village else content.get("village_id", "")
        sheets = ctx.reference("scoring_sheet")
        sheet = sheet_for(self.village, sheets)
        if draft is not None and sheet is not None and (sheet.id, sheet.version) != (content.get("sheet_id"), content.get("sheet_version")):
            from xuncha_core.scoring import parse_sheet

            # the draft was started on another sheet version: keep scoring on that one if cached
            sheet = next((s for s in (parse_sheet(p) for p in sheets.values())
                          if (s.id, s.version) == (content.get("sheet_id"), content.get("sheet_version"))), sheet)
        self.form = CheckForm(draft, sheet) if draft is not None else None
        self.cleaner_names = dict(cleaners_of(content.get("village_id", ""), ctx.reference("cleaner")))
        self.debounce = Debouncer()
        self.saved_at = ft.Text("", size=14, color=theme.MUTED)
        self.total = ft.Text("", size=26, weight=ft.FontWeight.BOLD, color=theme.PRIMARY)
        self.problems = ft.Column(spacing=4)
        self.body = ft.Column(spacing=12)
        self.route = f"/check/{record_id}"

    # -- saving ----------------------------------------------------------------------------
    def save(self) -> None:
        if self.form is None:
            return
        self.store.save_draft(self.form.draft)
        self.debounce.saved()
        self.saved_at.value = self.tr("check.draft_saved", at=device_now()[11:19])

    def typed(self) -> None:
        self.debounce.touch()

        async def later() -> None:
            await asyncio.sleep(self.debounce.delay)
            if self.debounce.due():
                self.save()
                self.refresh_summary()
                self.ctx.page.update()

        self.ctx.run(later)

    def flush(self) -> None:
        if self.debounce.dirty:
            self.save()

    def changed(self) -> None:
        """A discrete change (a tap): save now and redraw."""
        self.save()
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------
    def refresh_summary(self) -> None:
        form, tr = self.form, self.tr
        assert form is not None
        self.total.value = tr("check.total", total=form.total)
        problems = form.problems()
        if problems:
            self.problems.controls = [theme.body(tr("check.problems"), color=theme.DANGER, bold=True)] + [
                theme.body("• " + tr.pick(p.message_zh, p.message), color=theme.DANGER, size=15) for p in problems
            ]
        else:
            self.problems.controls = [theme.body(tr("check.ready"), color=theme.PRIMARY, bold=True)]

    def redraw(self) -> None:
        self.body.controls = self.sections()
        self.refresh_summary()
        self.ctx.page.update()

    def build(self) -> ft.View:
        tr = self.tr
        if self.form is None or self.form.sheet is None:
            text = tr("check.no_sheet") if self.form is not None else tr("history.empty")
            return self.ctx.view(self.route, tr("check.title"), [theme.body(text, color=theme.DANGER)], back=True)
        self.ctx.store.set_setting("editing", self.route)
        self.ctx.on_leave = self.flush
        self.body.controls = self.sections()
        self.refresh_summary()
        return self.ctx.view(self.route, tr("check.title"), [self.body], back=True)

    def sections(self) -> list[ft.Control]:
        return [self.header(), *self.items(), self.cleaners(), self.footer()]

    def header(self) -> ft.Control:
        form, tr = self.form, self.tr
        assert form is not None

        def month_changed(e: Any) -> None:
            form.content["month"] = e.control.value or ""
            self.typed()

        async def do_locate(_: Any) -> None:
            location = await media.locate(self.ctx)
            if location:
                form.set_location(location)
                self.changed()

        def manual(_: Any) -> None:
            media.manual_location(self.ctx, lambda loc: (form.set_location(loc), self.changed()))

        return theme.card(
            theme.title(f"{tr('check.village')}：{self.village_name}"),
            theme.field(tr("check.month"), form.content["month"], on_change=month_changed, on_blur=lambda _: self.flush()),
            ft.Row([ft.Icon(ft.Icons.PLACE, color=theme.PRIMARY),
                    theme.body(media.location_text(self.ctx, form.content["location"]), size=15)]),
            ft.Row([theme.button(tr("check.locate"), do_locate, icon=ft.Icons.MY_LOCATION),
                    theme.button(tr("check.set_manual"), manual, icon=ft.Icons.EDIT_LOCATION)], wrap=True),
            self.total,
            self.saved_at,
        )

    def items(self) -> list[ft.Control]:
        form, tr = self.form, self.tr
        assert form is not None and form.sheet is not None
        out: list[ft.Control] = [theme.title(tr("check.items"))]
        for item in form.sheet.items:
            rows: list[ft.Control] = [
                theme.body(tr("check.item_head", name=tr.pick(item.name, item.name_en), max=item.max_points), bold=True)
            ]
            for rule in item.rules:
                name = tr.pick(rule.name, rule.name_en)
                text = (tr("check.rule_zeroes", name=name) if rule.zeroes_item
                        else tr("check.rule", name=name, unit=rule.unit, per=rule.points_per_unit))
                rows.append(ft.Row(
                    [ft.Container(theme.body(text, size=15), expand=True),
                     theme.button(tr("check.add_deduction"),
                                  lambda _, i=item.id, r=rule.id: (form.add_deduction(i, r), self.changed()),
                                  icon=ft.Icons.REMOVE_CIRCLE_OUTLINE, color=theme.DANGER)],
                    vertical_alignment=ft.CrossAxisAlignment.CENTER))
            for d in form.deductions_for(item.id):
                rows.append(self.deduction(d))
            out.append(theme.card(*rows))
        return out

    def deduction(self, d: dict[str, Any]) -> ft.Control:
        form, tr, ctx = self.form, self.tr, self.ctx
        assert form is not None and form.sheet is not None
        did = d["deduction_id"]
        rule = form.sheet.rule(d["item_id"], d["rule_id"])
        rule_name = tr.pick(rule.name, rule.name_en) if rule else d["rule_id"]

        def note_changed(e: Any) -> None:
            form.set_note(did, e.control.value or "")
            self.typed()

        async def add_photos(data_list: list[bytes], *, from_camera: bool = False) -> None:
            for data in data_list:
                ctx.message(tr("check.photo_busy"))
                sha = await media.ingest(
                    ctx,
                    data,
                    village=self.village_name,
                    location=d["location"] or form.content["location"],
                    from_camera=from_camera,
                )
                if sha:
                    form.add_photo(did, sha)
                    self.save()
            self.redraw()

        async def gallery(_: Any) -> None:
            await add_photos(await media.pick_photos(ctx))

        async def camera(_: Any) -> None:
            data = await media.take_photo(ctx)
            if data:
                await add_photos([data], from_camera=True)

        async def relocate(_: Any) -> None:
            location = await media.locate(ctx)
            if location:
                form.set_deduction_location(did, location)
                self.changed()

        def make_order(_: Any) -> None:
            form.add_order(did, title=rule_name + (f"：{d['note']}" if d["note"] else ""), responsible=self.village_name)
            self.changed()

        photos = ft.Row([media.thumbnail(ctx, sha) for sha in d["photos"]], wrap=True)
        orders = [self.order(o) for o in form.orders_for(did)]
        return ft.Container(
            ft.Column(
                [
                    ft.Row([theme.body(rule_name, bold=True), theme.badge(tr("check.points", points=d["points"]), theme.DANGER)],
                           alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
                    ft.Row(
                        [
                            theme.body(tr("check.count")),
                            ft.IconButton(ft.Icons.REMOVE, on_click=lambda _: (form.step_count(did, -1), self.changed()),
                                          icon_size=28, tooltip="-1"),
                            theme.body(str(d["count"]), size=20, bold=True),
                            ft.IconButton(ft.Icons.ADD, on_click=lambda _: (form.step_count(did, 1), self.changed()),
                                          icon_size=28, tooltip="+1"),
                        ]
                    ),
                    theme.field(tr("check.note"), d["note"], on_change=note_changed, on_blur=lambda _: self.flush(),
                                multiline=True),
                    theme.body(tr("check.photos", count=len(d["photos"]))),
                    photos,
                    ft.Row([theme.button(tr("check.camera"), camera, icon=ft.Icons.PHOTO_CAMERA),
                            theme.button(tr("check.gallery"), gallery, icon=ft.Icons.PHOTO_LIBRARY)], wrap=True),
                    ft.Row([ft.Icon(ft.Icons.PLACE, size=18), theme.body(media.location_text(ctx, d["location"]), size=14),
                            ft.IconButton(ft.Icons.MY_LOCATION, on_click=relocate, tooltip=tr("check.locate"))]),
                    *orders,
                    ft.Row([theme.button(tr("check.make_order"), make_order, icon=ft.Icons.ASSIGNMENT_LATE),
                            theme.button(tr("check.remove"), lambda _: (form.remove_deduction(did), self.changed()),
                                         icon=ft.Icons.DELETE, color=theme.DANGER)], wrap=True),
                ],
                spacing=6,
            ),
            padding=10,
            border=ft.Border.all(2, theme.DANGER),
            border_radius=8,
        )

    def order(self, o: dict[str, Any]) -> ft.Control:
        form, tr = self.form, self.tr
        assert form is not None
        oid = o["order_id"]

        def edit(field: str):
            def handler(e: Any) -> None:
                form.set_order_field(oid, field, e.control.value or "")
                self.typed()
            return handler

        return ft.Container(
            ft.Column([
                theme.body(tr("check.orders"), bold=True, color=theme.WARN),
                theme.field(tr("check.make_order"), o["title"], on_change=edit("title"), on_blur=lambda _: self.flush()),
                theme.field(tr("check.order_deadline"), o["deadline"], on_change=edit("deadline"), on_blur=lambda _: self.flush()),
                theme.field(tr("check.order_responsible"), o["responsible"], on_change=edit("responsible"),
                            on_blur=lambda _: self.flush()),
                theme.button(tr("check.remove"), lambda _: (form.remove_order(oid), self.changed()), icon=ft.Icons.DELETE),
            ], spacing=6),
            padding=8, bgcolor="#FFF4E5", border_radius=6,
        )

    def cleaners(self) -> ft.Control:
        form, tr = self.form, self.tr
        assert form is not None
        rows: list[ft.Control] = [theme.title(tr("check.cleaners"))]
        for r in form.content["cleaner_ratings"]:
            cid = r["cleaner_id"]
            rows.append(theme.body(tr("check.cleaner_score", name=self.cleaner_names.get(cid, cid), score=r["score"]), bold=True))
            for f in RATING_FIELDS:
                rows.append(ft.Row([
                    ft.Container(theme.body(tr(RATING_LABELS[f]), size=15), expand=True),
                    ft.IconButton(ft.Icons.REMOVE, on_click=lambda _, c=cid, f=f, v=r[f]: (form.rate_cleaner(c, f, v - 1), self.changed())),
                    theme.body(str(r[f]), bold=True),
                    ft.IconButton(ft.Icons.ADD, on_click=lambda _, c=cid, f=f, v=r[f]: (form.rate_cleaner(c, f, v + 1), self.changed())),
                ]))
        if len(rows) == 1:
            rows.append(theme.body(tr("common.none"), color=theme.MUTED))
        return theme.card(*rows)

    def footer(self) -> ft.Control:
        tr = self.tr

        async def submit(_: Any) -> None:
            form = self.form
            assert form is not None
            self.save()
            problems = form.problems()
            if problems:
                self.refresh_summary()
                self.ctx.message(tr("check.cannot_submit", count=len(problems)), error=True)
                return
            user = self.ctx.user()
            envelope = form.envelope(author=user.get("username", ""), device_id=self.store.get_setting("device_id") or "")
            await asyncio.to_thread(self.store.submit, envelope)  # durable in the outbox before we say so
            self.store.set_setting("editing", None)
            self.ctx.on_leave = None
            self.ctx.message(tr("check.submitted"))
            if self.ctx.services.sync is not None:
                self.ctx.services.sync.sync_now()
            self.ctx.go("/")

        def save(_: Any) -> None:
            self.save()
            self.ctx.message(tr("common.saved"))

        return ft.Column([
            self.problems,
            ft.Row([theme.button(tr("check.save_draft"), save, icon=ft.Icons.SAVE),
                    theme.primary_button(tr("check.submit"), submit, icon=ft.Icons.SEND)], wrap=True),
        ])


def build(ctx: Any, record_id: str) -> ft.View:
    return CheckScreen(ctx, record_id).build()
