"""A screen's top first, the rest once the phone has drawn it (field_app.ui.fold), on the stage
(field_app.ui.screens) without a browser: what is sent, what waits, and what is never lost."""

from __future__ import annotations

import flet as ft
import pytest

from field_app.ui import fold
from field_app.ui.fold import Folds
from field_app.ui.models.live import LiveScreen
from field_app.ui.screens import Screen, _drawn, show_on_stage
from tests.support.stage import StageCtx


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fold, "REST_S", 0.0)
    monkeypatch.setattr(fold, "FALLBACK_S", 0.0)


def screen(key: str, top: list[str], rest: list[str]) -> tuple[Screen, ft.Column]:
    below = ft.Column([ft.Text(t) for t in rest])
    view = ft.View(route=f"/{key}", controls=[*(ft.Text(t) for t in top), below])
    return Screen(key, view, LiveScreen(), folds=Folds(parts=[below])), below


def show(ctx: StageCtx, stack: list[Screen]) -> None:
    ctx.screens = stack
    show_on_stage(ctx, stack[-1])


def texts(column: ft.Column) -> list[str]:
    return [c.value for c in column.controls] if column.visible else []


def test_a_new_screen_is_sent_without_its_folds_and_they_follow_with_the_same_controls() -> None:
    ctx = StageCtx()
    form, below = screen("check:1", ["村/社区：冯家村"], ["检查项目 2", "提交"])
    controls = list(below.controls)
    show(ctx, [form])
    assert texts(below) == [], "the part below the first screenful waits for the top to be drawn"

    _drawn(ctx, form, report=None)

    assert texts(below) == ["检查项目 2", "提交"] and below.controls == controls
    assert all(a is b for a, b in zip(below.controls, controls, strict=True)), "built once, not again"
    assert ctx.sent == [below], "only the fold is sent, not the screen"


def test_a_tap_that_redrew_the_fold_meanwhile_keeps_what_it_drew() -> None:
    ctx = StageCtx()
    form, below = screen("check:1", ["村/社区：冯家村"], ["提交"])
    show(ctx, [form])
    below.controls = [ft.Text("扣 1 分"), ft.Text("提交")]  # she added a deduction before the rest came

    _drawn(ctx, form, report=None)

    assert texts(below) == ["扣 1 分", "提交"]


def test_a_screen_shown_again_hides_its_folds_for_the_top_then_shows_them() -> None:
    ctx = StageCtx()
    home, orders = screen("home", ["各村检查"], ["整改单"])
    ctx.shelf["home"] = home
    show(ctx, [home])
    _drawn(ctx, home, report=None)
    check, _ = screen("check:1", ["村/社区："], [])
    show(ctx, [home, check])

    show(ctx, [home])  # back home: the orders wait for the villages to be drawn
    assert not orders.visible and texts(orders) == []
    _drawn(ctx, home, report=None)
    assert orders.visible and texts(orders) == ["整改单"]


def test_a_screen_left_before_it_was_drawn_keeps_its_folds_for_when_it_is_shown_again() -> None:
    ctx = StageCtx()
    home, orders = screen("home", ["各村检查"], ["整改单"])
    ctx.shelf["home"] = home
    show(ctx, [home])
    stale: list[str] = []
    home.folds.after.append(lambda: stale.append("refresh of the first showing"))
    check, _ = screen("check:1", ["村/社区："], [])
    show(ctx, [home, check])  # a quick tap on: home's top was never reported drawn

    _drawn(ctx, home, report=None)  # a late report for the screen she left
    assert texts(orders) == [] and not ctx.sent, "nothing is drawn for a screen that is not on top"

    show(ctx, [home])
    _drawn(ctx, home, report=None)
    assert texts(orders) == ["整改单"]
    assert stale == [], "what waited for a showing she left is dropped, not run late"


def test_what_waits_for_the_draw_runs_once_and_the_idle_jobs_after_the_folds() -> None:
    order: list[str] = []
    ctx = StageCtx()
    form, below = screen("check:1", ["村/社区："], ["提交"])
    form.folds.after.append(lambda: order.append("after"))
    form.folds.idle.append(lambda: order.append(f"idle, fold {'sent' if below in ctx.sent else 'not sent'}"))
    show(ctx, [form])

    _drawn(ctx, form, report=None)
    _drawn(ctx, form, report=None)  # a later size report (the keyboard opened)

    assert order == ["after", "idle, fold sent"]


def test_a_fold_made_by_its_fill_is_built_only_when_its_turn_comes() -> None:
    made: list[str] = []

    def fill() -> list[ft.Control]:
        made.append("built")
        return [ft.Text("提交")]

    folds, below = Folds(), ft.Column()
    folds.add(below, fill)
    folds.hold(first_time=True)
    assert made == [] and below.controls == [], "a long form is built as far as the phone draws it"

    changed, _ = folds.release()

    assert made == ["built"] and changed == [below] and texts(below) == ["提交"]
