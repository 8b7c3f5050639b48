"""The screen stack follows the route, building only the screens that are new.

A route names a stack of screens (home under a check, home and history under a
record's details). Going from one route to another keeps the screens the two stacks
share, as they are: going back from a check to home shows the home that was already
built (no store read, no control rebuilt), and its lists are then brought up to date in
place, off the UI thread, only where their data changed. Only the screens on top that
differ are built.

Forms (a check, a re-check) and a record's details are built each time they are
opened; home and history, once built, are kept (``ctx.shelf``, until the language or
the user changes) and shown again as they were left, their lists brought up to date.

The page shows every screen in one view, the stage: a screen change swaps its bar and
body. Flutter's navigator never takes a page off the top or puts one under it (that costs
the page's exit transition, about 300 ms, even with page transitions turned off in the
theme, and an empty view under the stage cost some 50 ms a tap). Home and history, once
shown, stay on the stage hidden, so showing them again changes one property; while hidden
they are left out of the page's comparisons (Flet's isolated controls), so an update costs
what is on screen only. The phone's back button on any other screen is caught by the stage
(``can_pop`` false, Flutter's PopScope) and goes to the screen below; on home it leaves the app.

A screen is drawn top first (``field_app.ui.fold``): its body reports its size once the
phone has laid it out, then what waited for it runs and, a moment later, the parts below its
first screenful are drawn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import flet as ft

from field_app.ui import fold, theme
from field_app.ui.fold import Folds
from field_app.ui.models.live import LiveScreen

KEPT = ("home", "history")  # screens kept as they are, under another one and on the shelf
STAGE = "stage"  # the one view, that shows the screen on top


@dataclass
class Screen:
    key: str  # what it shows: "home", "history", "check:<id>", ...
    view: ft.View  # its bar and controls, shown on the stage
    live: LiveScreen  # its sections that follow sync (only the top screen's are read)
    body: ft.Column | None = None  # its controls on the stage (made the first time it is shown)
    folds: Folds = field(default_factory=Folds)  # its parts below the first screenful (field_app.ui.fold)


@dataclass(frozen=True)
class Plan:
    key: str
    build: Callable[[], ft.View]


def plan(ctx: Any, route: str) -> list[Plan]:
    """The screens the route stacks, bottom first."""
    from field_app.ui.views import (
        check,
        history,
        home,
        inspection,
        inspection_pin,
        recheck,
        record,
        signin,
    )

    parts = [p for p in route.split("/") if p]
    if not ctx.signed_in:
        return [Plan("signin", lambda: signin.build(ctx))]
    out = [Plan("home", lambda: home.build(ctx))]
    if parts[:1] == ["check"] and len(parts) == 2:
        out.append(Plan(f"check:{parts[1]}", lambda: check.build(ctx, parts[1])))
    elif parts[:1] == ["recheck"] and len(parts) == 2:
        out.append(Plan(f"recheck:{parts[1]}", lambda: recheck.build(ctx, parts[1])))
    elif parts[:1] == ["inspection"] and len(parts) == 3:
        out.append(Plan(f"inspection:{'/'.join(parts[1:])}", lambda: inspection.build(ctx, "/".join(parts[1:]))))
    elif parts == ["pin"]:
        out.append(Plan("pin", lambda: inspection_pin.build(ctx)))
    elif parts[:1] == ["history"]:
        out.append(Plan("history", lambda: history.build(ctx)))
        if len(parts) == 2:
            out.append(Plan(f"record:{parts[1]}", lambda: record.build(ctx, parts[1])))
    return out


def kept(old: list[Screen], wanted: list[Plan]) -> int:
    """How many screens at the bottom of the stack stay as they are."""
    n = 0
    while n < min(len(old), len(wanted)) and old[n].key == wanted[n].key and old[n].key in KEPT:
        n += 1
    if n == len(old) == len(wanted) and n and old[-1].key not in KEPT:
        n -= 1  # the same form again is built again
    return n


def render(ctx: Any, route: str, *, rebuild: bool = False, idle: Sequence[Callable[[], Any]] = ()) -> bool:
    """Make the view stack show ``route``; True if the top screen changed.

    With ``rebuild`` every screen is built again (the language changed); ``idle`` is run once
    the new top screen is drawn whole."""
    page = ctx.page
    wanted = plan(ctx, route)
    old: list[Screen] = [] if rebuild else ctx.screens
    same = kept(old, wanted)
    if same == len(old) == len(wanted) and not rebuild:
        return False
    if rebuild or not ctx.signed_in:  # another language, another user: nothing kept is shown again
        ctx.shelf.clear()
    screens, built = old[:same], []
    for p in wanted[same:]:
        screen = ctx.shelf.get(p.key)  # home or history as it was left: its lists are brought up to date below
        if screen is None:
            ctx.live, ctx.folds = LiveScreen(), Folds()  # the sections and folds the new screen registers
            screen = Screen(p.key, p.build(), ctx.live, folds=ctx.folds)
            built.append(screen)
            if p.key in KEPT:
                ctx.shelf[p.key] = screen
        screens.append(screen)
    top = screens[-1]
    ctx.screens = screens
    ctx.live = top.live
    ctx._watched = None
    show_on_stage(ctx, top)
    page.update()
    # what drawing the top does not need waits until it is on her screen
    if len(screens) == 1 and ctx.signed_in and ctx.store.get_setting("editing"):  # home: no form is being edited
        top.folds.after.append(partial(ctx.store.set_setting, "editing", None))
    if top not in built:  # a kept screen is on top again: its lists may be stale
        top.folds.after.append(partial(ctx.run, partial(refresh, ctx, top.live)))
    top.folds.idle.extend(idle)
    ctx.run(partial(_fallback, ctx, top))
    return True


def show_on_stage(ctx: Any, screen: Screen) -> None:
    """Put ``screen`` on the page's one view: its bar, its body, its route, and whether the
    phone's back button leaves the app (on home) or goes to the screen below."""
    page = ctx.page
    first_time = screen.body is None
    stage = next((v for v in page.views if v.data == STAGE), None)
    if stage is None:
        stage = ft.View(data=STAGE, padding=12, bgcolor=theme.PAPER, on_confirm_pop=partial(_back_button, ctx))
    if screen.body is None:
        view = screen.view
        # a scroll of its own: a screen opens at its top, not where the last one was left
        # its size event comes once the phone has laid it out: then the parts below its top are drawn
        screen.body = ft.Column([c for c in view.controls if isinstance(c, ft.Control)], scroll=ft.ScrollMode.AUTO,
                                expand=True, spacing=view.spacing, horizontal_alignment=view.horizontal_alignment,
                                on_size_change=partial(_drawn, ctx, screen), size_change_interval=0)
    screen.folds.hold(first_time=first_time)
    stage.route, stage.appbar = screen.view.route, screen.view.appbar
    stage.can_pop = len(ctx.screens) <= 1
    # Home and history stay on the stage, hidden while another screen is shown: showing one
    # again changes one property instead of sending and building all its controls again.
    bodies = [s.body for s in (ctx.shelf.get(k) for k in KEPT) if s is not None and s.body is not None]
    if screen.body not in bodies:
        bodies.append(screen.body)
    for body in bodies:
        body.visible = body is screen.body
        # a hidden screen's controls are not compared with what the phone has at each update
        object.__setattr__(body, "_isolated", not body.visible)
    if [id(c) for c in stage.controls] != [id(b) for b in bodies]:
        stage.controls = bodies
    if len(page.views) != 1 or page.views[0] is not stage:
        page.views[:] = [stage]


def _drawn(ctx: Any, screen: Screen, report: Any = None) -> None:
    """The phone has laid out ``screen``'s top (or the fallback says so): run what waited for
    it, and give the rest of the screen its turn (``field_app.ui.fold``)."""
    if report is not None:
        ft.context.disable_auto_update()  # a size report changes nothing else on the page
    if not on_top(ctx, screen):
        return
    for job in screen.folds.take_after():
        job()
    if screen.folds.pending and not screen.folds.resting:
        screen.folds.resting = True
        ctx.run(partial(_rest, ctx, screen))


async def _rest(ctx: Any, screen: Screen) -> None:
    await asyncio.sleep(fold.REST_S)
    screen.folds.resting = False
    if on_top(ctx, screen) and screen.folds.pending:  # else when it is shown again
        changed, jobs = screen.folds.release()
        ctx.update(*changed)
        for job in jobs:
            job()


async def _fallback(ctx: Any, screen: Screen) -> None:
    await asyncio.sleep(fold.FALLBACK_S)
    _drawn(ctx, screen)


def on_top(ctx: Any, screen: Screen) -> bool:
    return bool(ctx.screens) and ctx.screens[-1] is screen


async def _back_button(ctx: Any, e: Any) -> None:
    """The phone's back button on a screen other than home: the screen below, not out of the app."""
    await e.control.confirm_pop(False)
    ctx.back()


async def refresh(ctx: Any, live: LiveScreen) -> None:
    """Read the top screen's sections again (off the UI thread) and redraw what changed."""
    if not live.sections:
        return
    models = await asyncio.to_thread(lambda: [s.load() for s in live.sections])
    if live is ctx.live:  # still on top
        ctx.update(*live.show(models))


def route_below(route: str) -> str:
    """The route of the screen under the one ``route`` shows (the back arrow's)."""
    parts = [p for p in route.split("/") if p]
    return "/history" if parts[:1] == ["history"] and len(parts) == 2 else "/"
