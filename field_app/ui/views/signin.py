"""First start: the server address, then a password or the office's one-time enrollment code."""

from __future__ import annotations

import asyncio
import platform
from typing import Any

import flet as ft

from field_app import settings
from field_app.ui import theme
from field_app.ui.models.state import SignIn


def build(ctx: Any) -> ft.View:
    tr = ctx.tr
    form = SignIn(server_url=ctx.store.get_setting("server_url") or settings.current().server_url)
    server = theme.field(tr("signin.server"), form.server_url, keyboard_type=ft.KeyboardType.URL)
    username = theme.field(tr("signin.username"))
    password = theme.field(tr("signin.password"), password=True, can_reveal_password=True)
    code = theme.field(tr("signin.code"), visible=False)
    errors = ft.Column(spacing=4)
    busy = ft.ProgressRing(visible=False, width=28, height=28)

    def toggle(_: Any) -> None:
        form.use_code = not form.use_code
        code.visible = form.use_code
        username.visible = password.visible = not form.use_code
        switch.content = tr("signin.use_password") if form.use_code else tr("signin.use_code")
        ctx.page.update()

    async def submit(_: Any) -> None:
        form.server_url, form.username = server.value or "", username.value or ""
        form.password, form.code = password.value or "", code.value or ""
        errors.controls = [theme.body(tr(k), color=theme.DANGER) for k in form.missing()]
        if errors.controls:
            ctx.page.update()
            return
        try:
            from field_app.sync import enroll
        except ImportError:
            errors.controls = [theme.body(tr("signin.unavailable"), color=theme.DANGER)]
            ctx.page.update()
            return
        busy.visible, button.disabled = True, True
        ctx.page.update()
        try:
            result = await asyncio.to_thread(
                enroll, form.normalized_server(), device_name=f"{platform.node() or 'phone'} field app",
                **form.credentials())
        except Exception as exc:  # every failure is shown to her, in her language
            text = tr.error(exc)
            errors.controls = [theme.body(tr("signin.failed", message=text), color=theme.DANGER)]
            busy.visible, button.disabled = False, False
            ctx.page.update()
            return
        store = ctx.store
        store.set_setting("server_url", form.normalized_server())
        store.set_setting("device_id", result["device_id"])
        store.set_setting("user", result["user"])
        store.set_setting("device_token", result["token"])
        ctx.services.start_sync()
        ctx.refresh_status()
        ctx.go("/")

    switch = ft.TextButton(tr("signin.use_code"), on_click=toggle, height=theme.TOUCH)
    button = theme.primary_button(tr("signin.submit"), submit, icon=ft.Icons.LOGIN)
    return ctx.view(
        "/",
        tr("signin.title"),
        [
            theme.body(tr("signin.intro")),
            server,
            username,
            password,
            code,
            switch,
            errors,
            ft.Row([button, busy]),
        ],
    )
