"""An officer sets her personal PIN on her own phone: hashed here, only the hash is sent (online)."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.inspection_form import new_pin_hash


def send_pin_hash(store: Any, pin_hash: dict[str, Any]) -> dict[str, Any]:
    """PUT the hash to the server this phone is enrolled with; raises the sync errors (Offline, Refused…)."""
    from field_app.sync.transport import ServerApi, build_client

    api = ServerApi(build_client(store.get_setting("server_url") or "", store.get_setting("device_token")))
    try:
        return api.set_inspection_pin(pin_hash)
    finally:
        api.close()


def build(ctx: Any) -> ft.View:
    tr = ctx.tr
    username = ctx.user().get("username", "")
    pin = theme.field(tr("pin.new"), password=True, keyboard_type=ft.KeyboardType.NUMBER)
    again = theme.field(tr("pin.again"), password=True, keyboard_type=ft.KeyboardType.NUMBER)
    errors = ft.Column(spacing=4)

    async def save(_: Any) -> None:
        keys, pin_hash = await asyncio.to_thread(new_pin_hash, username, pin.value or "", again.value or "")
        pin.value = again.value = ""
        errors.controls = [theme.body(tr(k), color=theme.DANGER) for k in keys]
        if pin_hash is not None:
            try:
                await asyncio.to_thread(send_pin_hash, ctx.store, pin_hash)
            except Exception as exc:  # offline or refused: she is told, in her language
                code = getattr(exc, "code", "")
                text = tr("pin.needs_network") if code.startswith("sync.") else tr.error(exc)
                errors.controls = [theme.body(text, color=theme.DANGER)]
            else:
                ctx.message(tr("pin.saved"))
                ctx.go("/")
                return
        ctx.page.update()

    return ctx.view("/pin", tr("pin.title"), [
        theme.body(tr("pin.intro")), pin, again, errors,
        theme.primary_button(tr("pin.save"), save, icon=ft.Icons.PIN),
    ], back=True)
