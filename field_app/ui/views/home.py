"""Home: what the office sent back (first), this month's check of each village in its exact
state, open rectification orders, what waits to be sent; sign out."""

from __future__ import annotations

from typing import Any

import flet as ft

from field_app.ui import theme
from field_app.ui.models.check_form import CheckForm, month_of
from field_app.ui.models.home import Todo, existing_check, todos, village_statuses
from field_app.ui.models.live import KeyedRows
from field_app.ui.models.state import cleaners_of, sheet_for, short_time, villages
from field_app.ui.views import inspection_home
from field_app.ui.views.widgets import confirm

RECENT = 300
VILLAGES_ON_TOP = 4  # village rows drawn with the top of home (a phone screenful); the others a moment later
STRETCH = ft.CrossAxisAlignment.STRETCH


def build(ctx: Any) -> ft.View:
    """Home. Its sections follow sync in place (``ctx.live``): a row whose data did not
    change keeps its controls, so a tap on it is never lost."""
    tr = ctx.tr
    controls: list[ft.Control] = [*recovery_note(ctx)]
    inspections = inspection_home.section(ctx)  # an officer's assigned inspections come first
    if inspections is not None:
        controls.append(inspections)
    for load, draw, target in (todo_section(ctx), summary_section(ctx), village_section(ctx), order_section(ctx)):
        ctx.live.section(load, draw, target=target).show(load())
        controls.append(target)
    controls[-1] = ctx.later(ft.Column([controls[-1]], horizontal_alignment=STRETCH))  # the orders: below the top
    sign_out = ft.IconButton(ft.Icons.LOGOUT, icon_color=theme.PAPER, tooltip=tr("signin.out"),
                             on_click=lambda _: ask_sign_out(ctx))
    return ctx.view("/", tr("app.title"), controls, actions=[sign_out])


def names(ctx: Any) -> dict[str, str]:
    return {v.id: ctx.tr.pick(v.name, v.name_en) for v in villages(ctx.reference("village"))}


def recovery_note(ctx: Any) -> list[ft.Control]:
    report = ctx.store.recovery_report
    if report.ok:
        return []
    facts = report.as_dict()
    detail = "; ".join([*(m.get("reason", "") for m in facts.get("moved", [])), *facts.get("reconciled", [])])
    return [theme.body(ctx.tr("home.recovered", detail=detail), color=theme.WARN, bold=True)]


# -- sent back: a to-do, first -----------------------------------------------------------------
def todo_section(ctx: Any) -> tuple[Any, Any, ft.Control]:
    tr = ctx.tr
    box = ft.Column(spacing=8, horizontal_alignment=STRETCH)
    rows = KeyedRows(lambda t: todo_row(ctx, t))

    def load() -> tuple[dict[str, str], tuple[Todo, ...]]:
        return names(ctx), tuple(todos(ctx.store.history(limit=RECENT)))

    def draw(model: tuple[dict[str, str], tuple[Todo, ...]]) -> None:
        village_names, found = model
        box.visible = bool(found)
        box.controls = [theme.title(tr("home.todo")),
                        *rows.controls((t.record_id, (t, village_names.get(t.village_id, t.village_id))) for t in found)]

    return load, draw, box


def todo_row(ctx: Any, data: tuple[Todo, str]) -> ft.Control:
    tr = ctx.tr
    todo, village = data
    action = tr("home.continue") if todo.started else tr("home.fix")
    return ft.Container(ft.Column([
        ft.Row([theme.body(f"{village} · {todo.month}", bold=True),
                theme.badge(tr("state.draft" if todo.started else "state.sent_back"),
                            theme.WARN if todo.started else theme.DANGER)],
               alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
        theme.body(tr("history.reason", reason=todo.reason or "—"), color=theme.DANGER),
        theme.primary_button(action, lambda _: fix(ctx, todo.record_id), icon=ft.Icons.EDIT),
    ], spacing=6, horizontal_alignment=STRETCH), padding=12, border=ft.Border.all(2, theme.DANGER), border_radius=8,
       clip_behavior=theme.NO_CLIP)


def fix(ctx: Any, record_id: str) -> None:
    """Open the sent-back record for editing (its next revision's draft, made once)."""
    draft = ctx.store.edit_record(record_id)
    ctx.go(f"/check/{draft['record_id']}")


# -- waiting, last sync, sync now ----------------------------------------------------------------
def summary_section(ctx: Any) -> tuple[Any, Any, ft.Control]:
    tr = ctx.tr
    waiting, last_sync = theme.body("", bold=True), theme.body("", color=theme.MUTED)
    sync_error = theme.body("", color=theme.DANGER)
    busy = ft.ProgressRing(width=24, height=24, visible=False)

    def load() -> tuple[int, str, str, bool]:
        stats, status = ctx.store.stats(), ctx.services.sync_status() or {}
        err = status.get("last_error") or {}
        return (int(stats.get("outbox", 0)), short_time(status.get("last_success_at") or stats.get("last_sync_at")) or "",
                tr.error(err) if err else "", status.get("state") == "running")

    def draw(model: tuple[int, str, str, bool]) -> None:
        count, last, error, running = model
        waiting.value = tr("home.waiting", count=count)
        last_sync.value = tr("home.syncing") if running else (tr("home.last_sync", at=last) if last
                                                               else tr("home.never_synced"))
        busy.visible = running
        sync_error.value, sync_error.visible = (tr("home.sync_error", message=error) if error else ""), bool(error)

    user = ctx.user()
    card = theme.card(
        theme.body(tr("signin.as", name=user.get("display_name") or user.get("username") or "?")),
        waiting, ft.Row([busy, last_sync]), sync_error,
        ft.Row([theme.primary_button(tr("home.sync_now"), lambda _: ctx.sync_now(), icon=ft.Icons.SYNC),
                theme.button(tr("home.history"), lambda _: ctx.go("/history"), icon=ft.Icons.LIST)], wrap=True),
    )
    return load, draw, card


# -- this month's check of each village ------------------------------------------------------
def village_section(ctx: Any) -> tuple[Any, Any, ft.Control]:
    tr = ctx.tr
    month = month_of(ctx.today())
    rows = KeyedRows(lambda data: village_row(ctx, data))
    no_reference = theme.body(tr("home.no_reference"), color=theme.DANGER, bold=True)
    top = ft.Column(spacing=8, horizontal_alignment=STRETCH)
    rest = ctx.later(ft.Column(spacing=8, horizontal_alignment=STRETCH))  # the villages below the first screenful
    listing = ft.Column([theme.title(tr("home.month_checks", month=month)), top, rest], spacing=8,
                        horizontal_alignment=STRETCH)

    def load() -> tuple[bool, tuple[tuple[str, str, str, str | None], ...]]:
        vs = villages(ctx.reference("village"))
        found = village_statuses([v.id for v in vs], ctx.store.history(month=month, kind="remediation_check"), month)
        shown = {v.id: tr.pick(v.name, v.name_en) for v in vs}
        return bool(vs) and bool(ctx.reference("scoring_sheet")), tuple((vid, shown[vid], s, r) for vid, s, r in found)

    def draw(model: tuple[bool, tuple[tuple[str, str, str, str | None], ...]]) -> None:
        ready, found = model
        no_reference.visible = not ready
        shown = rows.controls((r[0], r) for r in found)
        top.controls, rest.controls = shown[:VILLAGES_ON_TOP], shown[VILLAGES_ON_TOP:]

    return load, draw, ft.Column([no_reference, theme.card(listing)], spacing=12, horizontal_alignment=STRETCH)


def village_row(ctx: Any, data: tuple[str, str, str, str | None]) -> ft.Control:
    tr = ctx.tr
    village_id, name, state, record_id = data
    action: ft.Control
    if state == "not_started":
        action = theme.primary_button(tr("home.new_check"), lambda _: start_check(ctx, village_id), icon=ft.Icons.ADD)
    elif state == "draft":
        action = theme.button(tr("home.continue"), lambda _: ctx.go(f"/check/{record_id}"), icon=ft.Icons.EDIT)
    elif state == "sent_back" and record_id:
        action = theme.primary_button(tr("home.fix"), lambda _: fix(ctx, record_id), icon=ft.Icons.EDIT)
    else:
        action = theme.button(tr("home.open"), lambda _: ctx.go(f"/history/{record_id}"))
    badge = tr(f"state.{state}") if state != "not_started" else tr("home.status.not_started")
    return ft.Container(
        ft.Row([ft.Column([theme.body(name, bold=True), theme.badge(badge, theme.STATE_COLORS.get(state, theme.MUTED))],
                          spacing=4, expand=True), action], vertical_alignment=ft.CrossAxisAlignment.CENTER),
        padding=ft.Padding.symmetric(vertical=6), border=ft.Border.only(bottom=ft.BorderSide(1, "#BDBDBD")))


def start_check(ctx: Any, village_id: str) -> None:
    """A new check of this month, unless she already has one of this village: then that one."""
    month = month_of(ctx.today())
    mine = existing_check(ctx.store.history(month=month, kind="remediation_check"), village_id, month)
    if mine is not None:
        ctx.message(ctx.tr("check.month_taken", month=month))
        ctx.go(f"/check/{mine['record_id']}" if mine.get("state") == "draft" else f"/history/{mine['record_id']}")
        return
    village = next((v for v in villages(ctx.reference("village")) if v.id == village_id), None)
    sheet = sheet_for(village, ctx.reference("scoring_sheet"))
    if village is None or sheet is None:
        ctx.message(ctx.tr("check.no_sheet"), error=True)
        return
    user = ctx.user()
    form = CheckForm.start(village_id=village.id, month=month, sheet=sheet,
                           recorder=user.get("display_name") or user.get("username") or "",
                           cleaner_ids=[cid for cid, _ in cleaners_of(village.id, ctx.reference("cleaner"))])
    ctx.store.save_draft(form.draft)
    ctx.go(f"/check/{form.record_id}")


# -- open rectification orders ----------------------------------------------------------------
def order_section(ctx: Any) -> tuple[Any, Any, ft.Control]:
    tr = ctx.tr
    rows = KeyedRows(lambda o: order_row(ctx, o))
    none = theme.body(tr("home.no_orders"), color=theme.MUTED)
    listing = ft.Column([theme.title(tr("home.orders"))], spacing=8, horizontal_alignment=STRETCH)

    def load() -> tuple[dict[str, Any], ...]:
        shown = names(ctx)
        return tuple({"order_id": o["order_id"], "village": shown.get(o["village_id"], o["village_id"]),
                      "title": o["title"], "deadline": o["deadline"], "overdue_days": o["overdue_days"]}
                     for o in ctx.open_orders())

    def draw(orders: tuple[dict[str, Any], ...]) -> None:
        none.visible = not orders
        listing.controls = [listing.controls[0], none, *rows.controls((o["order_id"], o) for o in orders)]

    return load, draw, theme.card(listing)


def order_row(ctx: Any, order: dict[str, Any]) -> ft.Control:
    tr = ctx.tr
    overdue = order["overdue_days"] > 0
    when = (tr("home.order_overdue", days=order["overdue_days"], deadline=order["deadline"]) if overdue
            else tr("home.order_due", deadline=order["deadline"]))
    return ft.ListTile(
        title=theme.body(f"{order['village']} · {order['title']}", bold=True),
        subtitle=theme.body(when, color=theme.DANGER if overdue else theme.INK, bold=overdue),
        trailing=ft.Icon(ft.Icons.CHEVRON_RIGHT),
        on_click=lambda _: ctx.go(f"/recheck/{order['order_id']}"),
        min_height=theme.TOUCH,
    )


# -- sign out -----------------------------------------------------------------------------------
def ask_sign_out(ctx: Any) -> None:
    user = ctx.user()
    name = user.get("display_name") or user.get("username") or "?"
    unsent = ctx.store.unsent_work()
    count = int(unsent.get("outbox", 0)) + int(unsent.get("drafts", 0))
    confirm(ctx, ctx.tr("signin.out_body", name=name, count=count), ctx.tr("signin.out"), ctx.sign_out,
            title=ctx.tr("signin.out_title"), icon=ft.Icons.LOGOUT)
