"""The remediation check: the sheet's items and rules, deductions with photos and place,
cleaners rated, orders with deadlines, the running total and what is still missing.

Every change is saved as a draft: a tap at once, typing after a short pause
(and on leaving the field or the screen), so a killed app reopens this draft. Deleting a
deduction or a photo asks first. A sent-back check shows the office's reason at the top.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.check_form import RATING_FIELDS, CheckForm, device_now
from field_app.ui.models.evidence import (
    max_distance_m,
    photo_evidence,
    photo_location,
    village_location,
)
from field_app.ui.models.inputs import month_choices
from field_app.ui.models.state import Debouncer, cleaners_of, sheet_for, villages
from field_app.ui.views import media
from field_app.ui.views.deadlines import deadline_notes
from field_app.ui.views.widgets import confirm, number_field

RATING_LABELS = {"absent_days": "check.absent_days", "late_minutes": "check.late_minutes",
                 "left_post_times": "check.left_post", "dirty_spots": "check.dirty_spots"}
RATING_STEPS = {"late_minutes": 5}
ON_TOP = 1  # items drawn with the header (a phone screenful); the others a moment later (field_app.ui.fold)


def load_form(ctx: Any, record_id: str) -> tuple[CheckForm | None, dict[str, Any]]:
    """The draft as a form on the sheet it was started on (if cached), and the record's view."""
    from xuncha_core.scoring import parse_sheet

    draft = ctx.store.get_draft(record_id)
    if draft is None:
        return None, {}
    content = draft.get("content", {})
    village = next((v for v in villages(ctx.reference("village")) if v.id == content.get("village_id")), None)
    sheets = ctx.reference("scoring_sheet")
    sheet = sheet_for(village, sheets)
    wanted = (content.get("sheet_id"), content.get("sheet_version"))
    if sheet is not None and (sheet.id, sheet.version) != wanted:
        sheet = next((s for s in (parse_sheet(p) for p in sheets.values()) if (s.id, s.version) == wanted), sheet)
    return CheckForm(draft, sheet, ctx.store.work_calendar()), ctx.store.get_record(record_id) or {}


class CheckScreen:
    def __init__(self, ctx: Any, record_id: str) -> None:
        self.ctx, self.tr, self.store = ctx, ctx.tr, ctx.store
        self.form, self.view = load_form(ctx, record_id)
        content = self.form.content if self.form else {}
        vs = villages(ctx.reference("village"))
        village = next((v for v in vs if v.id == content.get("village_id")), None)
        self.village_name = self.tr.pick(village.name, village.name_en) if village else content.get("village_id", "")
        self.village_payload = ctx.reference("village").get(content.get("village_id", "")) or {}
        self.cleaner_names = dict(cleaners_of(content.get("village_id", ""), ctx.reference("cleaner")))
        self.debounce = Debouncer()
        self.saved_at = ft.Text("", size=14, color=theme.MUTED)
        self.total = ft.Text("", size=26, weight=ft.FontWeight.BOLD, color=theme.PRIMARY)
        self.problems = ft.Column(spacing=4)
        self.body = ft.Column(spacing=12)
        self.rest = ft.Column(spacing=12)  # below the first item: drawn a moment after the top
        self.rating: set[str] = set()  # the cleaners whose number fields are open
        self.route = f"/check/{record_id}"

    @property
    def f(self) -> CheckForm:
        assert self.form is not None
        return self.form

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
                self.ctx.update(self.total, self.problems, self.saved_at)  # not the page: she is typing

        self.ctx.run(later)

    def flush(self) -> None:
        if self.debounce.dirty:
            self.save()

    def changed(self, *_: Any) -> None:
        """A discrete change (a tap): save now and redraw."""
        self.save()
        self.redraw()

    def do(self, change: Any) -> Any:
        """A handler that applies ``change()`` to the form, then saves and redraws."""
        def handler(*_: Any) -> None:
            change()
            self.changed()
        return handler

    # -- drawing ---------------------------------------------------------------------------
    def refresh_summary(self) -> None:
        tr = self.tr
        self.total.value = tr("check.total", total=self.f.total)
        problems = self.f.problems()
        lines: list[ft.Control] = [theme.body(tr("check.ready"), color=theme.PRIMARY, bold=True)]
        if problems:
            lines = [theme.body(tr("check.problems"), color=theme.DANGER, bold=True)]
            lines += [theme.body("• " + tr.pick(p.message_zh, p.message), color=theme.DANGER, size=15) for p in problems]
        self.problems.controls = lines

    def redraw(self) -> None:
        self.body.controls = self.sections()
        self.refresh_summary()
        self.ctx.page.update()

    def build(self) -> ft.View:
        tr = self.tr
        if self.form is None or self.form.sheet is None:
            text = tr("check.no_sheet") if self.form is not None else tr("history.empty")
            return self.ctx.view(self.route, tr("check.title"), [theme.body(text, color=theme.DANGER)], back=True)
        self.ctx.once_drawn(partial(self.store.set_setting, "editing", self.route))  # reopened after a kill
        self.ctx.on_leave = self.flush
        self.body.controls = self.top()
        self.ctx.later(self.rest, fill=self.below)  # built when its turn comes
        self.refresh_summary()
        return self.ctx.view(self.route, tr("check.title"), [self.body], back=True)

    def sections(self) -> list[ft.Control]:
        """The whole form (redrawn after a change)."""
        self.rest.controls = self.below()
        return self.top()

    def top(self) -> list[ft.Control]:
        """A phone screenful: the office's reason, the header, the first items."""
        return [*self.reason(), self.header(), theme.title(self.tr("check.items")), *self.items(0, ON_TOP), self.rest]

    def below(self) -> list[ft.Control]:
        return [*self.items(ON_TOP, None), self.cleaners(), self.footer()]

    def reason(self) -> list[ft.Control]:
        review = self.view.get("review") or {}
        if review.get("action") != "send_back":
            return []
        return [ft.Container(theme.body(self.tr("check.reason", reason=review.get("reason") or "—"), color=theme.PAPER,
                                        bold=True), bgcolor=theme.DANGER, padding=12, border_radius=8,
                             clip_behavior=theme.NO_CLIP)]

    def header(self) -> ft.Control:
        form, tr, ctx = self.f, self.tr, self.ctx

        def month_changed(e: Any) -> None:
            month = e.control.value or form.content["month"]
            if form.move_to_month(month, self.store.history(month=month, kind="remediation_check")) is not None:
                e.control.value = form.content["month"]  # the picker shows the month it stays in
                ctx.message(tr("check.month_move_taken", month=month), error=True)
                ctx.update(e.control)
                return
            self.changed()

        async def do_locate(_: Any) -> None:
            location = await media.locate(ctx)
            if location:
                form.set_location(location)
                self.changed()

        month = ft.Dropdown(label=tr("check.month"), value=form.content["month"], on_select=month_changed,
                            options=[ft.DropdownOption(key=m, text=m) for m in
                                     month_choices(ctx.today(), keep=form.content["month"])])
        return theme.card(
            theme.title(f"{tr('check.village')}：{self.village_name}"), month,
            ft.Row([ft.Icon(ft.Icons.PLACE, color=theme.PRIMARY),
                    theme.body(media.location_text(ctx, form.content["location"]), size=15)]),
            ft.Row([theme.button(tr("check.locate"), do_locate, icon=ft.Icons.MY_LOCATION),
                    theme.button(tr("check.set_manual"), lambda _: media.manual_location(ctx, self.do_location),
                                 icon=ft.Icons.EDIT_LOCATION)], wrap=True),
            self.total, self.saved_at)

    def do_location(self, location: dict[str, Any]) -> None:
        self.f.set_location(location)
        self.changed()

    def items(self, first: int, last: int | None) -> list[ft.Control]:
        """A card for each of the sheet's items ``first`` to ``last``."""
        form, tr = self.f, self.tr
        assert form.sheet is not None
        out: list[ft.Control] = []
        for item in form.sheet.items[first:last]:
            rows: list[ft.Control] = [
                theme.body(tr("check.item_head", name=tr.pick(item.name, item.name_en), max=item.max_points), bold=True)]
            for rule in item.rules:
                name = tr.pick(rule.name, rule.name_en)
                text = (tr("check.rule_zeroes", name=name) if rule.zeroes_item
                        else tr("check.rule", name=name, unit=tr.unit(rule.unit), per=rule.points_per_unit))
                add = theme.button(tr("check.add_deduction"), self.do(lambda i=item.id, r=rule.id: form.add_deduction(i, r)),
                                   icon=ft.Icons.REMOVE_CIRCLE_OUTLINE, color=theme.DANGER)
                rows.append(ft.Row([ft.Container(theme.body(text, size=15), expand=True), add],
                                   vertical_alignment=ft.CrossAxisAlignment.CENTER))
            rows += [self.deduction(d) for d in form.deductions_for(item.id)]
            out.append(theme.card(*rows))
        return out

    def deduction(self, d: dict[str, Any]) -> ft.Control:
        form, tr = self.f, self.tr
        assert form.sheet is not None
        did = d["deduction_id"]
        rule = form.sheet.rule(d["item_id"], d["rule_id"])
        rule_name = tr.pick(rule.name, rule.name_en) if rule else d["rule_id"]

        def note_changed(e: Any) -> None:
            form.set_note(did, e.control.value or "")
            self.typed()

        def remove(_: Any) -> None:
            confirm(self.ctx, tr("check.remove_ask", rule=rule_name, photos=len(d["photos"])), tr("check.remove"),
                    self.do(lambda: form.remove_deduction(did)))

        def make_order(_: Any) -> None:
            form.add_order(did, title=rule_name + (f"：{d['note']}" if d["note"] else ""), responsible=self.village_name)
            self.changed()

        head = ft.Row([theme.body(rule_name, bold=True, size=17),
                       theme.badge(tr("check.points", points=d["points"]), theme.DANGER),
                       ft.IconButton(ft.Icons.DELETE_OUTLINE, on_click=remove, tooltip=tr("check.remove"),
                                     icon_color=theme.DANGER, width=theme.TOUCH, height=theme.TOUCH)],
                      alignment=ft.MainAxisAlignment.SPACE_BETWEEN)
        return ft.Container(ft.Column([
            head,
            number_field(self.ctx, tr("check.count"), d["count"], lambda n: self.do(lambda: form.set_count(did, n))(),
                         minimum=1),
            theme.field(tr("check.note"), d["note"], on_change=note_changed, on_blur=lambda _: self.flush(), multiline=True),
            *self.photos(d),
            *self.deduction_place(d),
            *[self.order(o) for o in form.orders_for(did)],
            theme.button(tr("check.make_order"), make_order, icon=ft.Icons.ASSIGNMENT_LATE),
        ], spacing=6), padding=10, border=ft.Border.all(2, theme.DANGER), border_radius=8,
           clip_behavior=theme.NO_CLIP)

    def photos(self, d: dict[str, Any]) -> list[ft.Control]:
        tr, ctx, did = self.tr, self.ctx, d["deduction_id"]
        evidence = self.f.content.get("photo_evidence") or {}

        def one(n: int, sha: str) -> ft.Control:
            ask = lambda _: confirm(ctx, tr("check.remove_photo_ask"), tr("check.remove_photo"),  # noqa: E731
                                    self.do(lambda: self.f.remove_photo(did, sha)))
            return ft.Column([media.thumbnail(ctx, sha, n, evidence=evidence.get(sha)),
                              ft.IconButton(ft.Icons.DELETE_OUTLINE, on_click=ask, tooltip=tr("check.remove_photo"),
                                            width=theme.TOUCH, height=theme.TOUCH)], spacing=2)

        async def gallery(_: Any) -> None:
            await self.add_photos(did, await media.pick_photos(ctx))

        async def camera(_: Any) -> None:
            data = await media.take_photo(ctx)
            if data:
                await self.add_photos(did, [data], from_camera=True)

        return [theme.body(tr("check.photos", count=len(d["photos"]))),
                ft.Row([one(n, sha) for n, sha in enumerate(d["photos"], 1)], wrap=True),
                ft.Row([theme.button(tr("check.camera"), camera, icon=ft.Icons.PHOTO_CAMERA),
                        theme.button(tr("check.gallery"), gallery, icon=ft.Icons.PHOTO_LIBRARY)], wrap=True)]

    async def add_photos(self, did: str, data_list: list[bytes], *, from_camera: bool = False) -> None:
        form, ctx = self.f, self.ctx
        d = form.deduction(did)
        for data in data_list:
            ctx.message(self.tr("check.photo_busy"))
            meta = await media.ingest(ctx, data, village=self.village_name, location=d["location"] or form.content["location"],
                                      from_camera=from_camera)
            if meta:
                form.add_photo(did, meta["sha256"], photo_evidence(
                    meta, village=village_location(self.village_payload, form.content["location"]),
                    checked_at=form.content.get("inspected_at"),
                    max_distance=max_distance_m(ctx.reference("setting").get("evidence"))))
                self.save()
        self.redraw()

    def deduction_place(self, d: dict[str, Any]) -> list[ft.Control]:
        tr, ctx, did = self.tr, self.ctx, d["deduction_id"]

        async def relocate(_: Any) -> None:
            location = await media.locate(ctx)
            if location:
                self.f.set_deduction_location(did, location)
                self.changed()

        from_photo = next((loc for loc in (photo_location(ctx.store.photo(s) or {}) for s in d["photos"]) if loc), None)
        row: list[ft.Control] = [ft.Icon(ft.Icons.PLACE, size=18),
                                 ft.Container(theme.body(media.location_text(ctx, d["location"]), size=14), expand=True),
                                 ft.IconButton(ft.Icons.MY_LOCATION, on_click=relocate, tooltip=tr("check.locate"),
                                               width=theme.TOUCH, height=theme.TOUCH)]
        use = ([theme.button(tr("check.use_photo_location"),
                             self.do(lambda: self.f.set_deduction_location(did, from_photo)), icon=ft.Icons.PHOTO)]
               if from_photo and from_photo != d["location"] else [])
        return [ft.Row(row), *use]

    def order(self, o: dict[str, Any]) -> ft.Control:
        form, tr, oid = self.f, self.tr, o["order_id"]

        def edit(field: str) -> Any:
            def handler(e: Any) -> None:
                form.set_order_field(oid, field, e.control.value or "")
                self.typed()
            return handler

        fields: list[ft.Control] = [theme.field(tr(label), o[name], on_change=edit(name), on_blur=lambda _: self.flush())
                  for name, label in (("title", "check.make_order"), ("deadline", "check.order_deadline"),
                                      ("responsible", "check.order_responsible"))]
        withdraw = ft.TextButton(tr("check.remove_order"), on_click=self.do(lambda: form.remove_order(oid)),
                                 height=theme.TOUCH)
        fields += deadline_notes(tr, o, form.draft.get("deadline_changes") or [])
        return ft.Container(ft.Column([theme.body(tr("check.orders"), bold=True, color=theme.WARN), *fields, withdraw],
                                      spacing=6), padding=8, bgcolor="#FFF4E5", border_radius=6,
                            clip_behavior=theme.NO_CLIP)

    def cleaners(self) -> ft.Control:
        form, tr = self.f, self.tr
        rows: list[ft.Control] = [theme.title(tr("check.cleaners"))]
        for r in form.content["cleaner_ratings"]:
            cid = r["cleaner_id"]
            opened = cid in self.rating
            rows.append(ft.Row([
                ft.Container(theme.body(tr("check.cleaner_score", name=self.cleaner_names.get(cid, cid),
                                           score=r["score"]), bold=True), expand=True),
                theme.button(tr("check.rate_done" if opened else "check.rate"), self.toggle_rating(cid))],
                vertical_alignment=ft.CrossAxisAlignment.CENTER))
            if not opened:  # four number fields a cleaner: built when she rates that one
                continue
            for f in RATING_FIELDS:
                rows.append(number_field(self.ctx, tr(RATING_LABELS[f]), r[f], self.rate(cid, f),
                                         step=RATING_STEPS.get(f, 1)))
        if len(rows) == 1:
            rows.append(theme.body(tr("common.none"), color=theme.MUTED))
        return theme.card(*rows)

    def toggle_rating(self, cleaner_id: str) -> Callable[[Any], None]:
        def handler(_: Any) -> None:
            self.rating ^= {cleaner_id}
            self.redraw()
        return handler

    def rate(self, cleaner_id: str, field: str) -> Callable[[int], None]:
        def set_value(value: int) -> None:
            self.f.rate_cleaner(cleaner_id, field, value)
            self.changed()
        return set_value

    def footer(self) -> ft.Control:
        tr = self.tr

        def save(_: Any) -> None:
            self.save()
            self.ctx.message(tr("common.saved"))

        return ft.Column([self.problems, ft.Row([
            theme.button(tr("check.save_draft"), save, icon=ft.Icons.SAVE),
            theme.primary_button(tr("check.submit"), self.submit, icon=ft.Icons.SEND)], wrap=True)])

    async def submit(self, _: Any) -> None:
        form, ctx = self.f, self.ctx
        self.save()
        problems = form.problems()
        if problems:
            self.refresh_summary()
            ctx.message(self.tr("check.cannot_submit", count=len(problems)), error=True)
            return
        user = ctx.user()
        envelope = form.envelope(author=user.get("username", ""), device_id=self.store.get_setting("device_id") or "")
        await asyncio.to_thread(self.store.submit, envelope)  # durable in the outbox before we say so
        self.store.set_setting("editing", None)
        ctx.on_leave = None
        ctx.message(self.tr("check.submitted"))
        if ctx.services.sync is not None:
            ctx.services.sync.sync_now()
        ctx.go("/")


def build(ctx: Any, record_id: str) -> ft.View:
    return CheckScreen(ctx, record_id).build()
