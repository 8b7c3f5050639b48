"""One record: its state, the server's receipt and "verify receipt", a conflict and its two choices.

Also the pieces the history list shares with it (state badge, conflict block). Network and
store writes run in ``asyncio.to_thread``: a handler never holds the screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from field_app.sync.receipt_check import Verdict, check_receipt, receipt_facts, remembered
from field_app.ui import theme
from field_app.ui.models.records import conflict_facts, shown_state, verdict_line
from field_app.ui.models.state import short_time, villages
from field_app.ui.views.details import content_sections

Choose = Callable[[str, str], Awaitable[None]]


def state_badge(tr: Any, state: str) -> ft.Control:
    label = tr(f"state.{state}") if f"state.{state}" in _catalogue() else state
    return theme.badge(label, theme.STATE_COLORS.get(state, theme.MUTED))


def fact_text(tr: Any, key: str, value: Any) -> str:
    if isinstance(value, bool):
        value = tr("common.yes") if value else tr("common.no")
    elif key == "fact.time" and value:
        value = short_time(str(value))
    shown = "—" if value in (None, "") else value
    return tr("fact.line", label=tr(key), value=shown)


def conflict_block(ctx: Any, record_id: str, facts: list[dict[str, Any]], choose: Choose) -> list[ft.Control]:
    """Both versions' key facts (the differing ones in bold red) and the two choices."""
    tr = ctx.tr

    def side(title: str, which: str) -> ft.Control:
        lines: list[ft.Control] = [theme.body(title, bold=True)]
        for f in facts:
            lines.append(theme.body(fact_text(tr, f["key"], f[which]), size=15,
                                    color=theme.DANGER if f["differs"] else theme.INK, bold=f["differs"]))
        return ft.Container(ft.Column(lines, spacing=2), padding=8, border_radius=6, clip_behavior=theme.NO_CLIP,
                            border=ft.Border.all(1, theme.MUTED), expand=True)

    def pick(choice: str) -> Callable[[Any], Awaitable[None]]:
        async def handler(_: Any) -> None:
            await choose(record_id, choice)

        return handler

    return [
        theme.body(tr("history.conflict"), color=theme.DANGER, bold=True),
        side(tr("history.mine"), "mine"),
        side(tr("history.theirs"), "theirs"),
        ft.Row([theme.primary_button(tr("history.keep_mine"), pick("keep_mine")),
                theme.button(tr("history.take_server"), pick("take_server"))], wrap=True),
    ]


async def resolve(ctx: Any, record_id: str, choice: str) -> None:
    """Apply her choice (a store write, off the UI thread), say what happened, send it on."""
    try:
        item = await asyncio.to_thread(ctx.store.resolve_conflict, record_id, choice)
    except Exception as exc:  # a conflict resolved meanwhile (another tab): say so, keep the screen
        ctx.message(ctx.tr("common.error", message=ctx.tr.error(exc)), error=True)
        return
    if choice == "keep_mine":
        revision = ((item or {}).get("envelope") or {}).get("revision") or (item or {}).get("revision") or "?"
        ctx.message(ctx.tr("history.kept_mine", revision=revision))
        ctx.sync_now()
    else:
        ctx.message(ctx.tr("history.took_server"))


class RecordScreen:
    """One record: the head (state, reason, edit), what she recorded, a conflict, the receipt."""

    def __init__(self, ctx: Any, record_id: str) -> None:
        self.ctx, self.tr, self.store, self.record_id = ctx, ctx.tr, ctx.store, record_id
        self.names = {v.id: ctx.tr.pick(v.name, v.name_en) for v in villages(ctx.reference("village"))}
        self.body = ft.Column(spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
        self.verdict: Verdict | None = None  # this visit's answer (offline etc. are not kept)
        self.checking = False
        # follows sync in place, only when the record, its shown state or its receipt changed
        self.section = ctx.live.section(self.load, self.draw, target=self.body)

    def load(self) -> tuple[Any, ...]:
        """Everything the screen shows (blocking: off the UI thread)."""
        view = self.store.get_record(self.record_id)
        state = shown_state(view.get("state"), self.ctx.services.sync_status()) if view else None
        kept = remembered(self.store, view) if view else None
        return view, state, self.checking, self.verdict, kept

    def draw(self, model: tuple[Any, ...]) -> None:
        view = model[0]
        self.body.controls = (self.sections(view) if view
                              else [theme.body(self.tr("history.not_found"), color=theme.DANGER)])

    async def refresh(self) -> None:
        if self.section.show(await asyncio.to_thread(self.load)):
            self.ctx.update(self.body)

    async def choose(self, rid: str, choice: str) -> None:
        await resolve(self.ctx, rid, choice)
        await self.refresh()

    async def verify(self, _: Any = None) -> None:
        if self.checking:
            return
        self.checking = True
        await self.refresh()
        try:
            self.verdict = await asyncio.to_thread(check_receipt, self.store, self.record_id)
        finally:
            self.checking = False
        await self.refresh()

    def sections(self, view: dict[str, Any]) -> list[ft.Control]:
        out = [theme.card(*self.head(view)), *content_sections(self.ctx, view)]
        if view.get("state") == "conflict":
            facts = conflict_facts(view.get("envelope"), view.get("server_envelope"))
            out.append(theme.card(*conflict_block(self.ctx, self.record_id, facts, self.choose)))
        out.append(theme.card(*self.receipt(view)))
        return out

    def head(self, view: dict[str, Any]) -> list[ft.Control]:
        tr, content = self.tr, view.get("content") or {}
        state = shown_state(view.get("state"), self.ctx.services.sync_status())
        vid = content.get("village_id") or view.get("village_id") or ""
        kind = tr("kind." + view["kind"]) if view.get("kind") else ""
        head: list[ft.Control] = [
            ft.Row([theme.body(self.names.get(vid, vid) or "—", bold=True), state_badge(tr, state)],
                   alignment=ft.MainAxisAlignment.SPACE_BETWEEN),
            theme.body(" · ".join(x for x in (view.get("month") or "", kind,
                                              tr("record.revision", revision=view.get("revision"))) if x), color=theme.MUTED),
        ]
        if content.get("total_score") is not None:
            head.append(theme.body(tr("check.total", total=content["total_score"]), bold=True))
        review = view.get("review") or {}
        if view.get("state") in ("sent_back", "rejected") and review.get("reason"):
            head.append(theme.body(tr("history.reason", reason=review["reason"]), color=theme.DANGER, bold=True))
        if view.get("error"):
            err = view["error"] if isinstance(view["error"], dict) else {"code": "unknown"}
            head.append(theme.body(tr.error(err), color=theme.DANGER))
        if view.get("kind") == "remediation_check" and view.get("state") in ("draft", "sent_back"):
            head.append(theme.primary_button(tr("home.fix") if view.get("state") == "sent_back" else tr("history.edit"),
                                             lambda _: self.edit(view), icon=ft.Icons.EDIT))
        return head

    def receipt(self, view: dict[str, Any]) -> list[ft.Control]:
        tr, facts = self.tr, receipt_facts(view)
        lines: list[ft.Control] = [theme.title(tr("receipt.title"))]
        if facts is None:
            return [*lines, theme.body(tr("receipt.none"), color=theme.MUTED)]
        if facts["revision"] != view.get("revision"):
            lines.append(theme.body(tr("receipt.of_revision", revision=facts["revision"]), color=theme.MUTED))
        lines += [
            theme.body(tr("receipt.index", index=facts["ledger_index"]), bold=True),
            theme.body(tr("receipt.received", at=short_time(facts["received_at"]) or "—")),
            theme.body(tr("receipt.leaf"), color=theme.MUTED, size=14),
            ft.Text(facts["leaf_hash"], size=13, font_family="monospace", selectable=True, color=theme.INK),
        ]
        verdict = self.verdict
        if verdict is None or verdict.leaf_hash != facts["leaf_hash"]:
            verdict = remembered(self.store, view)
        if self.checking:
            lines.append(ft.Row([ft.ProgressRing(width=20, height=20), theme.body(tr("receipt.checking"))]))
        elif verdict is not None:
            lines.append(verdict_box(tr, verdict))
        lines.append(theme.primary_button(tr("receipt.verify"), self.verify, icon=ft.Icons.VERIFIED_USER,
                                          disabled=self.checking))
        return lines

    def edit(self, view: dict[str, Any]) -> None:
        if view.get("state") == "draft":
            self.ctx.go(f"/check/{self.record_id}")
            return
        draft = self.store.edit_record(self.record_id)
        self.ctx.go(f"/check/{draft['record_id']}")


def verdict_box(tr: Any, verdict: Verdict) -> ft.Control:
    key, values = verdict_line(verdict)
    colour = theme.PRIMARY if verdict.outcome == "verified" else theme.WARN
    lines: list[ft.Control] = [theme.body(tr(key, **values), bold=True, color=theme.PAPER if verdict.loud else colour,
                                          size=17 if verdict.loud else 16)]
    if verdict.outcome == "verified" and verdict.checkpoint_time:
        lines.append(theme.body(tr("receipt.checkpoint_time", at=short_time(verdict.checkpoint_time)), color=theme.MUTED,
                                size=14))
    if verdict.loud and (verdict.message or verdict.message_zh):
        lines.append(theme.body(tr.pick(verdict.message_zh, verdict.message), color=theme.PAPER, size=14))
    return ft.Container(ft.Column(lines, spacing=4), padding=10, border_radius=6, clip_behavior=theme.NO_CLIP,
                        bgcolor=theme.DANGER if verdict.loud else None,
                        border=ft.Border.all(2, theme.DANGER if verdict.loud else colour))


def build(ctx: Any, record_id: str) -> ft.View:
    screen = RecordScreen(ctx, record_id)
    screen.section.show(screen.load())
    return ctx.view(f"/history/{record_id}", ctx.tr("record.title"), [screen.body], back=True)


def _catalogue() -> set[str]:
    from field_app.ui.i18n import CATALOGUE

    return set(CATALOGUE)
