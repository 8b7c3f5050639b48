"""The view stack follows the route, building only the screens that are new.

A route names a stack of screens (home under a check, home and history under a
record's details). Going from one route to another keeps the screens the two stacks
share, as they are: going back from a check to home shows the home that was already
there (no store read, no control rebuilt, nothing sent but the removed view), and
its lists are then brought up to date in place, off the UI thread, only where their
data changed. Only the screens on top that differ are built.

Forms (a check, a re-check) and a record's details are built each time they are
opened; home and history may be kept under another screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import flet as ft

from field_app.ui.models.live import LiveScreen

KEPT = ("home", "history")  # screens that stay as they are under another one


@dataclass
class Screen:
    key: str  # what it shows: "home", "history", "check:<id>", ...
    view: ft.View
    live: LiveScreen  # its sections that follow sync (only the top screen's are read)


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


def render(ctx: Any, route: str, *, rebuild: bool = False) -> bool:
    """Make the view stack show ``route``; True if the top screen changed.

    With ``rebuild`` every screen is built again (the language changed)."""
    page = ctx.page
    wanted = plan(ctx, route)
    old: list[Screen] = [] if rebuild else ctx.screens
    same = kept(old, wanted)
    if same == len(old) == len(wanted) and not rebuild:
        return False
    screens = old[:same]
    for p in wanted[same:]:
        ctx.live = LiveScreen()  # the sections the new screen registers
        screens.append(Screen(p.key, p.build(), ctx.live))
    ctx.screens = screens
    ctx.live = screens[-1].live
    ctx._watched = None
    if len(screens) == 1 and ctx.signed_in:  # home: no form is being edited
        ctx.store.set_setting("editing", None)
    views = [s.view for s in screens]
    if same and len(page.views) >= same and all(a is b for a, b in zip(page.views[:same], views[:same], strict=False)):
        del page.views[same:]
        page.views.extend(views[same:])
    else:
        page.views.clear()
        page.views.extend(views)
    page.update()
    if same == len(screens):  # a kept screen is on top again: its lists may be stale
        ctx.run(partial(refresh, ctx, screens[-1].live))
    return True


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
