"""First start (or after 退出登录): the server address, then a password or the office's
one-time 登记码. The indicator says whether the address answers, before she signs in."""

from __future__ import annotations

import asyncio
import platform
from typing import Any

import flet as ft

from field_app import settings
from field_app.ui import theme
from field_app.ui.models.state import SignIn


class SignInScreen:
    def __init__(self, ctx: Any) -> None:
        self.ctx, self.tr = ctx, ctx.tr
        tr = ctx.tr
        self.form = SignIn(server_url=ctx.store.get_setting("server_url") or settings.current().server_url)
        self.server = theme.field(tr("signin.server"), self.form.server_url, keyboard_type=ft.KeyboardType.URL,
                                  on_blur=self.probe)
        self.username = theme.field(tr("signin.username"))
        self.password = theme.field(tr("signin.password"), password=True, can_reveal_password=True)
        self.code = theme.field(tr("signin.code"), visible=False)
        self.errors = ft.Column(spacing=4)
        self.busy = ft.ProgressRing(visible=False, width=28, height=28)
        self.switch = ft.TextButton(tr("signin.use_code"), on_click=self.toggle, height=theme.TOUCH)
        self.button = theme.primary_button(tr("signin.submit"), self.submit, icon=ft.Icons.LOGIN)

    async def probe(self, _: Any = None) -> None:
        url = self.server.value or ""
        if url.strip():
            await self.ctx.probe_server(url)

    def toggle(self, _: Any) -> None:
        self.form.use_code = not self.form.use_code
        self.code.visible = self.form.use_code
        self.username.visible = self.password.visible = not self.form.use_code
        self.switch.content = self.tr("signin.use_password") if self.form.use_code else self.tr("signin.use_code")
        self.ctx.page.update()

    def show_errors(self, texts: list[str]) -> None:
        self.errors.controls = [theme.body(t, color=theme.DANGER) for t in texts]
        self.busy.visible, self.button.disabled = False, False
        self.ctx.page.update()

    async def submit(self, _: Any) -> None:
        form, tr = self.form, self.tr
        form.server_url, form.username = self.server.value or "", self.username.value or ""
        form.password, form.code = self.password.value or "", self.code.value or ""
        missing = form.missing()
        if missing:
            self.show_errors([tr(k) for k in missing])
            return
        try:
            from field_app.sync import enroll
        except ImportError:
            self.show_errors([tr("signin.unavailable")])
            return
        self.busy.visible, self.button.disabled = True, True
        self.errors.controls = []
        self.ctx.page.update()
        name = f"{platform.node() or 'phone'} field app"
        credentials = form.credentials()
        try:
            result = await asyncio.to_thread(
                lambda: enroll(form.normalized_server(), device_name=name, username=credentials.get("username"),
                               password=credentials.get("password"),
                               enrollment_code=credentials.get("enrollment_code")))
        except Exception as exc:  # every failure is shown to her, in her language
            self.show_errors([tr("signin.failed", message=tr.error(exc))])
            return
        self.signed_in(result)

    def signed_in(self, result: dict[str, Any]) -> None:
        self.ctx.store.sign_in(server_url=self.form.normalized_server(), user=result["user"],
                               device_id=result["device_id"], device_token=result["token"])
        self.ctx.services.start_sync()
        self.ctx.refresh_status()
        self.ctx.go("/")


def build(ctx: Any) -> ft.View:
    s = SignInScreen(ctx)
    if s.server.value:
        ctx.run(s.probe)
    return ctx.view("/", ctx.tr("signin.title"), [
        theme.body(ctx.tr("signin.intro")), s.server, s.username, s.password, s.code, s.switch, s.errors,
        ft.Row([s.button, s.busy]),
    ])
