"""Just enough of the field app's context for the stage (field_app.ui.screens) to run without a
browser: a page holding views, the screen stack and shelf, what is sent to the screen, tasks
run at once, and the back arrow counted."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import flet as ft

from field_app.ui.screens import Screen


@dataclass
class Page:
    views: list[ft.View] = field(default_factory=list)


@dataclass
class StageCtx:
    page: Page = field(default_factory=Page)
    screens: list[Screen] = field(default_factory=list)
    shelf: dict[str, Screen] = field(default_factory=dict)
    sent: list[Any] = field(default_factory=list)  # controls sent to the screen, in order
    backs: int = 0

    def update(self, *controls: Any) -> None:
        self.sent.extend(controls)

    def run(self, job: Any) -> None:
        asyncio.run(job())

    def back(self) -> None:
        self.backs += 1
