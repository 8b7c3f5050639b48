"""One random inspection on site: matters, result, findings, photos, place, body-camera files, and the
second inspector's PIN on this phone. Offline like every form: a draft until submitted, then the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.inspection_form import InspectionForm
from field_app.ui.models.state import short_time
from field_app.ui.views import media
from xuncha_core.inspections.inspection_record import KIND

PIN_OUTCOMES = {"wrong": "inspection.pin_wrong", "locked": "inspection.pin_locked", "no_pin": "inspection.no_pin"}


def open_form(ctx: Any, task_id: str) -> InspectionForm | None:
    """Her draft of this inspection, or a new one (saved at once); None if the task is not on the phone."""
    task = ctx.reference("task").get(task_id)
    if not isinstance(task, dict):
        return None
    user = ctx.user()
    username = user.get("username", "")
    draft = next((d for d in ctx.store.list_drafts()
                  if d.get("kind") == KIND and (d.get("content") or {}).get("task_id") == task_id), None)
    if draft is not None:
        return InspectionForm(draft, task, username)
    form = InspectionForm.start(task=task, username=username, recorder=user.get("display_name") or username)
    ctx.store.save_draft(form.draft)
    return form


def build(ctx: Any, task_id: str) -> ft.View:
    tr, store = ctx.tr, ctx.store
    route = f"/inspection/{task_id}"
    form = open_form(ctx, task_id)
    if form is None:
        return ctx.view(route, tr("inspection.title"), [theme.body(tr("inspection.unknown"), color=theme.DANGER)], back=True)
    store.set_setting("editing", route)

    def save() -> None:
        store.save_draft(form.draft)

    ctx.on_leave = save
    # Each part is redrawn alone, and only when what it shows changed: a whole-screen redraw
    # would replace the control her finger is on (a second tick, the field she moves to).
    slots: dict[str, ft.Container] = {}
    shown_confirmed: list[bool] = [False]

    def refresh(*names: str) -> None:
        for name in names:
            slots[name].content = builders[name]()
        ctx.update(*(slots[n] for n in names))

    def changed(*parts: str) -> None:
        save()
        names = {*parts, "problems"}
        if shown_confirmed[0] != (form.confirmed_by is not None):
            names.add("confirmation")  # a change after her PIN asks for it again
        refresh(*sorted(names))

    camera, gallery, do_locate = _photo_actions(ctx, form, save, changed)
    submit = _submitter(ctx, form, save, refresh)

    def confirmation() -> ft.Control:
        shown_confirmed[0] = form.confirmed_by is not None
        return _confirmation(ctx, form, changed)

    builders = {
        "header": lambda: _header(ctx, form),
        "matters": lambda: _matters(ctx, form, changed),
        "result": lambda: _result(ctx, form, changed),
        "findings": lambda: _findings(ctx, form, changed),
        "recordings": lambda: _recordings(ctx, form, changed),
        "evidence": lambda: _evidence(ctx, form, camera, gallery, do_locate),
        "confirmation": confirmation,
        "problems": lambda: ft.Column([theme.body("• " + tr.pick(p.message_zh, p.message), color=theme.DANGER)
                                       for p in form.problems()], spacing=4),
    }
    for name, make in builders.items():
        slots[name] = ft.Container(make())
    submit_button = theme.primary_button(tr("inspection.submit"), submit, icon=ft.Icons.TASK_ALT)
    body = ft.Column([*slots.values(), submit_button], spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    return ctx.view(route, tr("inspection.title"), [body], back=True)



def _photo_actions(ctx: Any, form: InspectionForm, save: Callable[[], None],
                   changed: Callable[..., None]) -> tuple[Any, Any, Any]:
    """The camera, gallery and location buttons' handlers."""
    async def add(data_list: list[bytes], *, from_camera: bool = False) -> None:
        for data in data_list:
            meta = await media.ingest(ctx, data, village=form.task.get("entity", {}).get("name", ""),
                                      location=form.content["location"], from_camera=from_camera)
            if meta:
                form.add_photo(meta["sha256"])
                save()
        changed("evidence")

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
            changed("evidence")

    return camera, gallery, do_locate


def _submitter(ctx: Any, form: InspectionForm, save: Callable[[], None], refresh: Callable[..., None]) -> Any:
    """The submit button's handler: durable in the outbox before it says so."""
    tr, store = ctx.tr, ctx.store

    async def submit(_: Any) -> None:
        save()
        problems = form.problems()
        if problems:
            ctx.message(tr("check.cannot_submit", count=len(problems)), error=True)
            refresh("problems")
            return
        user = ctx.user()
        envelope = form.envelope(author=user.get("username", ""), device_id=store.get_setting("device_id") or "")
        await asyncio.to_thread(store.submit, envelope)  # durable in the outbox before we say so
        store.set_setting("editing", None)
        ctx.on_leave = None
        ctx.message(tr("check.submitted"))
        if ctx.services.sync is not None:
            ctx.services.sync.sync_now()
        ctx.go("/")

    return submit


def _header(ctx: Any, form: InspectionForm) -> ft.Control:
    tr, entity = ctx.tr, form.task.get("entity") or {}
    names = "、".join(str(m.get("name")) for m in form.co_inspectors()) or tr("common.none")
    return theme.card(
        theme.title(str(entity.get("name") or "")),
        theme.body(str(entity.get("address") or ""), size=14),
        theme.body(tr("inspection.with", names=names), size=14),
        theme.body(tr("inspection.deadline", deadline=form.task.get("deadline", "")), size=14, bold=True),
        theme.body(tr("inspection.started", at=short_time(form.content["started_at"]) or ""), size=14),
    )


def _matters(ctx: Any, form: InspectionForm, changed: Any) -> ft.Control:
    def toggle(e: ft.Event[ft.Checkbox], matter_id: str) -> None:
        form.toggle_matter(matter_id, bool(e.control.value))
        changed()

    boxes: list[ft.Control] = [
        ft.Checkbox(label=name, value=checked, on_change=lambda e, mid=mid: toggle(e, mid))
        for mid, name, checked in form.matters()
    ]
    return theme.card(theme.body(ctx.tr("inspection.matters"), bold=True), *boxes)


def _result(ctx: Any, form: InspectionForm, changed: Any) -> ft.Control:
    tr = ctx.tr

    def pick(code: str) -> None:
        form.set_result(code)
        changed("result")

    # one large button per category, the chosen one filled: easier to hit on site than a radio
    choices: list[ft.Control] = [
        (theme.primary_button if code == form.content["result"] else theme.button)(
            tr.pick(zh, en), lambda _, code=code: pick(code))
        for code, zh, en in form.results()
    ]
    return theme.card(theme.body(tr("inspection.result"), bold=True), *choices)


def _findings(ctx: Any, form: InspectionForm, changed: Any) -> ft.Control:
    """Never redrawn while the form is open: the field keeps what she types."""
    return theme.field(ctx.tr("inspection.findings"), form.content["findings"], multiline=True,
                       on_change=lambda e: form.set_findings(e.control.value or ""), on_blur=lambda _: changed())


def _recordings(ctx: Any, form: InspectionForm, changed: Any) -> ft.Control:
    tr = ctx.tr
    typed: list[str] = [""]
    number = theme.field(tr("inspection.recording_number"), on_change=lambda e: typed.__setitem__(0, e.control.value or ""))

    def add(_: Any) -> None:
        if form.add_recording(typed[0] or number.value or ""):
            changed("recordings")

    def remove(number: str) -> None:
        form.remove_recording(number)
        changed("recordings")

    chips: list[ft.Control] = [
        ft.Row([theme.body(n, size=14),
                ft.IconButton(ft.Icons.DELETE, tooltip=tr("common.cancel"), on_click=lambda _, n=n: remove(n))])
        for n in form.content["recordings"]
    ]
    return theme.card(theme.body(tr("inspection.recordings"), bold=True), *chips,
                      ft.Row([ft.Container(number, expand=True), theme.button(tr("inspection.add_recording"), add)]))


def _evidence(ctx: Any, form: InspectionForm, camera: Any, gallery: Any, locate: Any) -> ft.Control:
    tr = ctx.tr
    return theme.card(
        theme.body(tr("inspection.photos", count=len(form.content["photos"])), bold=True),
        ft.Row([media.thumbnail(ctx, s, n) for n, s in enumerate(form.content["photos"], 1)], wrap=True),
        ft.Row([theme.button(tr("check.camera"), camera, icon=ft.Icons.PHOTO_CAMERA),
                theme.button(tr("check.gallery"), gallery, icon=ft.Icons.PHOTO_LIBRARY),
                theme.button(tr("check.locate"), locate, icon=ft.Icons.MY_LOCATION)], wrap=True),
        theme.body(media.location_text(ctx, form.content["location"]), size=14),
    )


def _confirmation(ctx: Any, form: InspectionForm, changed: Any) -> ft.Control:
    tr = ctx.tr
    co = form.content.get("co_inspector")
    if isinstance(co, dict):
        name = next((str(m.get("name")) for m in form.co_inspectors() if m["username"] == co["username"]), co["username"])
        return theme.card(theme.body(tr("inspection.co_inspector"), bold=True),
                          theme.body(tr("inspection.confirmed", name=name, at=short_time(co["confirmed_at"]) or ""),
                                     color=theme.PRIMARY, bold=True))
    rows: list[ft.Control] = []
    for member in form.co_inspectors():
        pin = theme.field(tr("inspection.pin_for", name=member.get("name")), password=True,
                          keyboard_type=ft.KeyboardType.NUMBER)

        async def confirm(_: Any, username: str = member["username"], pin: ft.TextField = pin) -> None:
            # scrypt takes a few tenths of a second on a phone: off the UI thread
            outcome = await asyncio.to_thread(form.confirm, username, pin.value or "", ctx.reference("pin"))
            pin.value = ""
            if outcome == "confirmed":
                changed("confirmation")
            else:
                ctx.store.save_draft(form.draft)  # a wrong PIN counts even if the app is killed now
                ctx.message(tr(PIN_OUTCOMES[outcome]), error=True)

        rows.append(ft.Row([ft.Container(pin, expand=True), theme.primary_button(tr("inspection.confirm"), confirm)]))
    return theme.card(theme.body(tr("inspection.co_inspector"), bold=True), *rows)
