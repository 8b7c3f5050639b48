"""Small builders the screens share: a confirm dialog, a number typed or stepped, a photo
opened full size with zoom buttons. Each takes the ``AppContext`` and plain values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.inputs import parse_number

ZOOM_STEPS = (1.0, 1.5, 2.0, 3.0, 4.0)
PHOTO_WIDTH = 340


def confirm(ctx: Any, question: str, yes_label: str, on_yes: Callable[[], None], *, title: str | None = None,
            icon: ft.IconData = ft.Icons.DELETE) -> None:
    """Ask first: ``on_yes`` runs only after she taps ``yes_label``."""

    def yes(_: Any) -> None:
        ctx.page.pop_dialog()
        on_yes()

    ctx.page.show_dialog(ft.AlertDialog(
        modal=True,
        semantics_label=title or yes_label,
        title=theme.body(title, bold=True) if title else None,
        content=theme.body(question),
        actions=[theme.button(ctx.tr("common.cancel"), lambda _: ctx.page.pop_dialog()),
                 theme.primary_button(yes_label, yes, icon=icon)],
    ))


def number_field(ctx: Any, label: str, value: int, on_set: Callable[[int], None], *, minimum: int = 0,
                 step: int = 1) -> ft.Control:
    """A labelled whole number: typed (number keyboard) or stepped with two 48 px buttons
    whose names say what they change."""
    tr = ctx.tr
    box = ft.TextField(label=label, value=str(value), width=110, text_size=18, keyboard_type=ft.KeyboardType.NUMBER,
                       text_align=ft.TextAlign.CENTER)

    def typed(_: Any) -> None:
        number = parse_number(box.value or "", minimum=minimum)
        if number is None:
            box.error = tr("check.bad_number")
            ctx.update(box)
            return
        box.error = None
        if number != value:
            on_set(number)

    box.on_blur = typed
    box.on_submit = typed
    return ft.Row([
        ft.IconButton(ft.Icons.REMOVE, on_click=lambda _: on_set(max(value - step, minimum)), icon_size=28,
                      tooltip=tr("check.less", label=label), width=theme.TOUCH, height=theme.TOUCH),
        box,
        ft.IconButton(ft.Icons.ADD, on_click=lambda _: on_set(value + step), icon_size=28,
                      tooltip=tr("check.more", label=label), width=theme.TOUCH, height=theme.TOUCH),
    ], spacing=4, vertical_alignment=ft.CrossAxisAlignment.CENTER)


def open_photo(ctx: Any, path: Path | None, label: str, facts: list[str]) -> None:
    """The photo full size in a dialog: pinch, or the zoom buttons, to look closer."""
    tr = ctx.tr
    if path is None or not path.exists():
        ctx.message(tr("photo.missing"), error=True)
        return
    zoom = {"step": 0}
    image = ft.Image(src=path.read_bytes(), width=PHOTO_WIDTH, fit=ft.BoxFit.CONTAIN, semantics_label=label)
    viewer = ft.InteractiveViewer(ft.Row([image], scroll=ft.ScrollMode.AUTO), max_scale=5, width=PHOTO_WIDTH,
                                  height=PHOTO_WIDTH)

    def step(delta: int) -> Callable[[Any], None]:
        def handler(_: Any) -> None:
            zoom["step"] = min(max(zoom["step"] + delta, 0), len(ZOOM_STEPS) - 1)
            image.width = PHOTO_WIDTH * ZOOM_STEPS[zoom["step"]]
            ctx.update(image)
        return handler

    ctx.page.show_dialog(ft.AlertDialog(
        semantics_label=label,
        title=theme.body(label, bold=True),
        content=ft.Column([viewer, *(theme.body(f, size=14) for f in facts)], tight=True, scroll=ft.ScrollMode.AUTO),
        actions=[ft.IconButton(ft.Icons.ZOOM_OUT, on_click=step(-1), tooltip=tr("photo.zoom_out")),
                 ft.IconButton(ft.Icons.ZOOM_IN, on_click=step(1), tooltip=tr("photo.zoom_in")),
                 theme.primary_button(tr("photo.close"), lambda _: ctx.page.pop_dialog())],
    ))
