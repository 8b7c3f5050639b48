"""The one view that shows every screen (field_app.ui.screens.show_on_stage), without a
browser: the phone's back button, home and history kept on the stage, and the route sent to
the client only where there is an address bar."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from field_app.ui.models.live import LiveScreen
from field_app.ui.screens import Screen, _back_button, show_on_stage
from tests.support.stage import StageCtx


def screen(key: str) -> Screen:
    return Screen(key, ft.View(route=f"/{key}", controls=[ft.Text(key)]), LiveScreen())


def show(ctx: StageCtx, stack: list[Screen]) -> ft.View:
    ctx.screens = stack
    show_on_stage(ctx, stack[-1])
    assert len(ctx.page.views) == 1, "every screen is shown in one view"
    return ctx.page.views[0]


def shown(stage: ft.View) -> list[str]:
    return [c.controls[0].value for c in stage.controls if c.visible]


def test_the_back_button_leaves_the_app_only_from_home_and_elsewhere_goes_back() -> None:
    ctx = StageCtx()
    home, check = screen("home"), screen("check:1")
    ctx.shelf["home"] = home
    stage = show(ctx, [home])
    assert stage.can_pop, "on home the back button leaves the app"
    stage = show(ctx, [home, check])
    assert not stage.can_pop, "on a form the back button must not close the app"

    answers: list[bool] = []

    class Control:
        async def confirm_pop(self, should_pop: bool) -> None:
            answers.append(should_pop)

    asyncio.run(_back_button(ctx, ft.Event("confirm_pop", control=Control())))  # type: ignore[arg-type]
    assert answers == [False] and ctx.backs == 1, "the view stays; the app goes to the screen below"


def test_home_and_history_stay_on_the_stage_hidden_and_a_form_goes_when_left() -> None:
    ctx = StageCtx()
    home, history, check = screen("home"), screen("history"), screen("check:1")
    ctx.shelf.update(home=home)
    stage = show(ctx, [home])
    assert shown(stage) == ["home"]
    ctx.shelf["history"] = history
    stage = show(ctx, [home, history])
    assert shown(stage) == ["history"] and len(stage.controls) == 2
    stage = show(ctx, [home, check])
    assert shown(stage) == ["check:1"] and len(stage.controls) == 3
    home_body = home.body
    stage = show(ctx, [home])
    assert shown(stage) == ["home"] and len(stage.controls) == 2, "the form left the stage"
    assert home.body is home_body, "home was shown again as it was, not built again"
    ctx.shelf.clear()  # another language or user: nothing kept
    stage = show(ctx, [check])
    assert [c.controls[0].value for c in stage.controls] == ["check:1"]


class Navigator:
    """A page that records the routes sent to the client."""

    def __init__(self, *, web: bool) -> None:
        self.web, self.route = web, "/"
        self.sent: list[str] = []

    def navigate(self, route: str) -> None:
        self.sent.append(route)


def go_and_draw(*, web: bool) -> tuple[list[str], list[str], list[str]]:
    """``AppContext.go`` to /history on a browser's or a phone's page: (the routes shown, the
    routes sent to the address bar before the screen was drawn, and after)."""
    from field_app.ui.app import AppContext

    shown_routes: list[str] = []
    later: list[Any] = []

    def show(route: str, *, idle: Any = ()) -> bool:
        shown_routes.append(route)
        later.extend(idle)  # the stage runs these once the screen is drawn whole
        return True

    ctx: Any = type("Ctx", (), {})()
    ctx.page, ctx.told = Navigator(web=web), []
    ctx.leave = lambda: None
    ctx.show = show
    ctx.tell = lambda route: AppContext.tell(ctx, route)
    AppContext.go(ctx, "/history")  # type: ignore[arg-type]
    before = list(ctx.page.sent)
    for job in later:
        job()
    assert ctx.told == ctx.page.sent
    return shown_routes, before, ctx.page.sent


def test_the_route_goes_to_the_address_bar_in_a_browser_once_the_screen_is_drawn_and_not_on_a_phone() -> None:
    assert go_and_draw(web=True) == (["/history"], [], ["/history"]), "the address bar waits for the screen"
    assert go_and_draw(web=False) == (["/history"], [], []), "a phone has no address bar"
