"""The Flet shell: one store and one sync scheduler per process, one ``AppContext`` per page.

The route is the single source of truth for navigation:

    /                   home (or sign-in on first start)
    /check/<record_id>  a remediation check draft
    /recheck/<order_id> the re-check of a rectification order
    /history            her records
    /history/<id>       one record: state, receipt and "verify receipt", conflict choices
    /inspection/<draw_id>/<credit_code>  an assigned random inspection, recorded on site
    /pin                her personal PIN (the second inspector's confirmation)

A form that is being edited is remembered in the setting ``editing``, so an app
killed mid-form opens that form again at the next start.

Sync never redraws a screen: ``AppContext.follow_sync`` changes the indicator and progress
bar in place, and the top screen's sections (``field_app.ui.models.live``) only where their data
changed; a form screen has none, so nothing disturbs what she is typing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import flet as ft

from field_app import clock
from field_app.sync import session
from field_app.ui import theme
from field_app.ui.fold import Folds
from field_app.ui.i18n import CATALOGUE, DEFAULT_LANGUAGE, LANGUAGES, Translator
from field_app.ui.models.home import sent_summary
from field_app.ui.models.live import LiveScreen, SingleFlight, watch_key
from field_app.ui.models.state import open_orders, sync_line

log = logging.getLogger(__name__)
RECENT_CHECKS = 300
RECENT_RECHECKS = 1000


@dataclass
class Services:
    """What every page of this process shares: the one store writer and the sync scheduler."""

    data_dir: Path
    store: Any
    sync: Any = None
    listeners: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def open(cls, data_dir: Path) -> Services:
        from field_app.paths import photos_dir
        from field_app.photos import remove_leftover_temp_files
        from field_app.store import LocalStore

        remove_leftover_temp_files(photos_dir(data_dir))
        services = cls(data_dir=data_dir, store=LocalStore(data_dir))
        services.start_sync()
        return services

    def start_sync(self) -> None:
        """Start background sync once the phone is signed in (and not before)."""
        if self.sync is not None or not self.store.get_setting("device_token"):
            return
        try:
            from field_app.sync.scheduler import SyncScheduler
        except ImportError as exc:  # the sync package is optional for previews
            log.warning("sync unavailable: %s", exc)
            return
        self.sync = SyncScheduler(self.store, self.data_dir)
        self.sync.on_change(self._notify)
        self.sync.start()

    def _notify(self, *_: Any) -> None:
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:  # a closed page must not break the others
                log.debug("listener failed", exc_info=True)

    def sync_status(self) -> dict[str, Any] | None:
        if self.sync is None:
            return None
        try:
            return dict(self.sync.status())
        except Exception:
            log.exception("sync status failed")
            return None


class AppContext:
    """Everything a view needs: the page, the store, the language, navigation and messages."""

    def __init__(self, page: ft.Page, services: Services) -> None:
        self.page = page
        self.services = services
        self.store = services.store
        self.tr = Translator(self.store.get_setting("language", DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE)
        self.on_leave: Callable[[], None] | None = None
        # the sections of the top screen that follow sync (render gives each screen a new one)
        self.live = LiveScreen()
        self.screens: list[Any] = []  # the view stack's screens (field_app.ui.screens)
        self.folds = Folds()  # the parts of the screen being built that are drawn after its top
        self.shelf: dict[str, Any] = {}  # home and history once built, shown again as they were left
        self.route = ""  # the route on screen
        self.told: list[str] = []  # routes shown and told to the browser, whose change is still to come
        self._following = SingleFlight()
        self._watched: tuple[Any, ...] | None = None
        self._last_status: dict[str, Any] | None = None
        self._outbox_before = 0
        self.server_reachable: bool | None = None  # before sign-in: the address answered
        self.status_text = ft.Text("", size=14, color=theme.PAPER, weight=ft.FontWeight.BOLD)
        self.status_chip = ft.Container(content=self.status_text, padding=ft.Padding.symmetric(horizontal=10, vertical=4),
                                        border_radius=12, bgcolor=theme.OFFLINE,
                                        clip_behavior=theme.NO_CLIP)
        self.progress = ft.ProgressBar(value=0, visible=False, color=theme.PRIMARY)
        self.refresh_status()

    # -- data ----------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.services.data_dir

    @property
    def signed_in(self) -> bool:
        return bool(self.store.get_setting("device_token"))

    def user(self) -> dict[str, Any]:
        return self.store.get_setting("user") or {}

    def reference(self, topic: str) -> dict[str, Any]:
        return self.store.reference(topic) or {}

    def today(self) -> date:
        return clock.today()

    def open_orders(self) -> list[dict[str, Any]]:
        """Open rectification orders of her recent checks (the last few hundred)."""
        records = [*self.store.history(kind="remediation_check", limit=RECENT_CHECKS),
                   *self.store.history(kind="recheck", limit=RECENT_RECHECKS)]
        return open_orders(records, self.today())

    # -- navigation ----------------------------------------------------------------------
    def go(self, route: str) -> None:
        """Show ``route`` now, then, in a browser, put it in the address bar once the screen is
        drawn (its route change finds it shown; sent with the screen it cost the phone a frame).
        A phone has no address bar: the route is not sent there (the client's route change costs
        some 30 ms a tap, measured in the browser)."""
        self.leave()
        tell = [partial(self.tell, route)] if self.page.web and (self.page.route or "/") != route else []
        if not self.show(route, idle=tell):
            for job in tell:
                job()

    def tell(self, route: str) -> None:
        """Put ``route`` in the browser's address bar (its route change will find it shown)."""
        self.told.append(route)
        self.page.navigate(route)

    def show(self, route: str, *, rebuild: bool = False, idle: Sequence[Callable[[], Any]] = ()) -> bool:
        """Show ``route``; True if another screen was drawn (``idle``: what to do once the rest
        of it is drawn too, ``field_app.ui.fold``)."""
        from field_app.ui.screens import refresh, render

        self.route = route
        if not render(self, route, rebuild=rebuild, idle=idle):  # already shown: bring its lists up to date
            self.run(partial(refresh, self, self.live))
            return False
        return True

    def leave(self) -> None:
        """Let the open form save what was typed before the screen changes."""
        if self.on_leave is not None:
            hook, self.on_leave = self.on_leave, None
            hook()

    def set_language(self, lang: str) -> None:
        if lang in LANGUAGES:
            self.tr.lang = lang
            self.store.set_setting("language", lang)
            self.leave()  # the form on screen saves what was typed before it is built again
            self.refresh_status()
            self.show(self.route, rebuild=True)

    def later(self, fold: Any, *, fill: Callable[[], list[Any]] | None = None) -> Any:
        """Mark ``fold`` (a column of the screen being built, below its first screenful) to be
        drawn once the screen's top is on the phone, its controls made then by ``fill`` if
        given (``field_app.ui.fold``)."""
        self.folds.add(fold, fill)
        return fold

    def once_drawn(self, job: Callable[[], Any]) -> None:
        """Run ``job`` once the screen being built is on her screen (a write that drawing it
        does not need: a phone's fsync costs a tap tens of milliseconds)."""
        self.folds.after.append(job)

    def message(self, text: str, *, error: bool = False) -> None:
        self.page.show_dialog(
            ft.SnackBar(ft.Text(text, size=16, color=theme.PAPER), bgcolor=theme.DANGER if error else theme.PRIMARY)
        )

    def run(self, job: Callable[[], Awaitable[Any]]) -> None:
        self.page.run_task(job)

    # -- sync ----------------------------------------------------------------------------
    def sync_now(self) -> None:
        self.services.start_sync()
        if self.services.sync is None:
            self.message(self.tr("signin.unavailable"), error=True)
            return
        self.services.sync.sync_now()
        self.refresh_status()

    def refresh_status(self) -> None:
        status = self.services.sync_status()
        if status is None and self.server_reachable is not None:
            status = {"state": "idle", "online": self.server_reachable}
        key, progress = sync_line(status)
        self.status_text.value = self.tr(key)
        online = key in ("net.online", "net.syncing")
        # on the dark green bar: a white chip when online, grey when offline, red when revoked
        self.status_chip.bgcolor = theme.PAPER if online else (theme.DANGER if key == "net.revoked" else theme.OFFLINE)
        self.status_text.color = theme.PRIMARY if online else theme.PAPER
        self.progress.visible = progress is not None
        if progress and progress["records_total"] + progress["kb_total"]:
            done = progress["records_done"] + progress["kb_done"]
            self.progress.value = done / (progress["records_total"] + progress["kb_total"])

    async def follow_sync(self) -> None:
        """A sync status change: the indicator and progress bar change in place; a section of
        the top screen is redrawn, in place, only when its data changed. Never the whole screen
        (a tap landing during a redraw would be lost) and never a form being filled in."""
        if not self._following.request():
            return
        while self._following.next():
            status = self.services.sync_status()
            self.refresh_status()
            self.update(self.status_chip, self.progress)
            await self.say_what_was_sent(status)
            key = watch_key(status)
            if key == self._watched or not self.live.sections:
                continue
            self._watched = key
            live = self.live
            models = await asyncio.to_thread(live.read_after, self.store, status)
            if models is not None and live is self.live:  # still the same screen
                self.update(*live.show(models))

    async def say_what_was_sent(self, status: dict[str, Any] | None) -> None:
        """When a pass ends, say what it sent (and the first of a pass, that it runs)."""
        before, self._last_status = self._last_status, status
        outbox = int((await asyncio.to_thread(self.store.stats)).get("outbox", 0))
        if (status or {}).get("state") == "running" and (before or {}).get("state") != "running":
            self._outbox_before = outbox
        sent = sent_summary(before, status, self._outbox_before, outbox)
        if sent is not None and sent[0] + sent[1] > 0:
            self.message(self.tr("home.sent", records=sent[0], photos=sent[1]))

    async def probe_server(self, url: str) -> None:
        """Before sign-in: does the address answer as a Xuncha server? (for the indicator)"""
        from field_app.ui.models.state import SignIn

        self.server_reachable = await asyncio.to_thread(server_answers, SignIn(server_url=url).normalized_server())
        self.refresh_status()
        self.update(self.status_chip)

    def sign_out(self) -> None:
        """Sign this phone out: sync stops, the token and user are forgotten. Her drafts and
        unsent records stay in the store, under her name, for when she signs in again."""
        if self.services.sync is not None:
            self.services.sync.stop(timeout=2.0)
            self.services.sync = None
        server_url, token = self.store.get_setting("server_url"), self.store.get_setting("device_token")
        self.store.sign_out()
        if server_url and token:  # best effort, in the background: signing out works offline
            self.run(partial(asyncio.to_thread, session.revoke, server_url, token))
        self.on_leave = None
        self.server_reachable = None
        self.refresh_status()
        self.message(self.tr("signin.signed_out"))
        self.go("/")

    def update(self, *controls: Any) -> None:
        """Send these controls' changes to the screen (and nothing else of it)."""
        controls = tuple(c for c in controls if c is not None)
        if not controls:
            return
        try:
            self.page.update(*controls)
        except RuntimeError:  # not on the screen (yet): the next full draw carries the change
            log.debug("update of a control not on the page", exc_info=True)

    # -- chrome --------------------------------------------------------------------------
    def appbar(self, title: str, *, back: bool = False, extra: list[ft.Control] | None = None) -> ft.AppBar:
        leading = ft.IconButton(ft.Icons.ARROW_BACK, icon_color=theme.PAPER, tooltip=self.tr("common.back"),
                                on_click=lambda _: self.back()) if back else None
        return ft.AppBar(
            title=ft.Text(title, size=20, weight=ft.FontWeight.BOLD, color=theme.PAPER),
            bgcolor=theme.PRIMARY,
            color=theme.PAPER,
            leading=leading,
            automatically_imply_leading=False,
            actions=[
                *(extra or []),
                ft.Container(self.status_chip, padding=ft.Padding.only(right=4)),
                ft.TextButton(
                    self.tr("lang.switch"),
                    on_click=lambda _: self.set_language(self.tr.toggled()),
                    style=ft.ButtonStyle(color=theme.PAPER),
                    height=theme.TOUCH,
                ),
            ],
        )

    def back(self) -> None:
        """The screen below this one (the back arrow)."""
        from field_app.ui.screens import route_below

        self.go(route_below(self.route))

    def view(self, route: str, title: str, controls: list[ft.Control], *, back: bool = False,
             actions: list[ft.Control] | None = None) -> ft.View:
        return ft.View(
            route=route,
            appbar=self.appbar(title, back=back, extra=actions),
            controls=[self.progress, *controls],
            scroll=ft.ScrollMode.AUTO,
            padding=12,
            spacing=12,
            bgcolor=theme.PAPER,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )


def server_answers(url: str) -> bool:
    """True if ``url`` answers as a Xuncha server (its health endpoint), within a few seconds."""
    try:
        from field_app.sync.transport import build_client
    except ImportError:
        return False
    try:
        with build_client(url, None, timeout=5.0) as client:
            return client.get("/api/v1/health").status_code == 200
    except Exception:  # an address that does not answer (or is not one) is "offline"
        return False


def make_main(services: Services) -> Callable[[ft.Page], Awaitable[None]]:
    """The Flet entry point for one page (one browser tab or the desktop window)."""

    async def main(page: ft.Page) -> None:
        page.title = f"{CATALOGUE['app.title'][0]} {CATALOGUE['app.title'][1]}"
        theme.apply(page)
        ctx = AppContext(page, services)

        def on_sync_change() -> None:
            page.run_task(ctx.follow_sync)

        services.listeners.append(on_sync_change)

        def route_change(_: Any = None) -> None:
            route = page.route or "/"
            if route in ctx.told:  # ``go`` showed it already (and maybe another one since: a quick second tap)
                del ctx.told[: ctx.told.index(route) + 1]
                ft.context.disable_auto_update()  # nothing changed: no whole-page diff and patch
                return
            if route != ctx.route:  # the browser's back or forward, a typed address
                ctx.leave()
            ctx.show(route)  # (the route on screen again: its lists are brought up to date)

        def disconnect(_: Any = None) -> None:
            ctx.leave()
            if on_sync_change in services.listeners:
                services.listeners.remove(on_sync_change)

        page.on_route_change = route_change
        page.on_disconnect = disconnect
        page.on_close = disconnect
        editing = services.store.get_setting("editing")
        if (page.route in ("", "/")) and editing and ctx.signed_in:
            await page.push_route(editing)
        else:
            ctx.show(page.route or "/")
        await asyncio.sleep(0)

    return main
