"""A screen's top first: what is below its first screenful is drawn once the phone is idle.

Building a whole long screen (a check form of a dozen items, twenty history cards, all of a
captain's open orders) in one frame made her wait for what she cannot see yet, and a tap on
the next screen waited for it too. A view marks the parts below its first screenful as folds
(``AppContext.later``), and the stage shows a screen in steps:

1. its top, alone: the folds of a screen shown for the first time are sent without their
   controls, those of a screen shown again (home, history) are hidden;
2. once the phone reports that it has laid the top out (the body's size event, sent after
   Flutter's frame), what waited for the screen to be on her screen runs (``after``: its lists
   brought up to date, the form it replaced forgotten);
3. ``REST_S`` later, if she is still on that screen, the folds are drawn and what only
   the browser needs is done (``idle``: the address bar). Nobody scrolls to the second
   screenful in that time, and a quick tap to another screen does not wait for a part of this
   one that she never saw (it stays held until the screen is shown again).

If no report comes (a client that does not send it), step 2 runs after ``FALLBACK_S``.
A fold whose controls the view has replaced meanwhile (a tap redrew the form) keeps the new
ones. Nothing here touches a page: the stage sends what ``release`` answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REST_S = 0.3  # after the top is drawn: the rest of the screen
FALLBACK_S = 1.0  # the top counts as drawn after this long without the phone's report

Job = Callable[[], Any]


@dataclass
class Folds:
    """The folds of one screen and what waits for its top to be drawn."""

    parts: list[Any] = field(default_factory=list)  # the views' fold controls (columns), top to bottom
    fills: dict[int, Callable[[], list[Any]]] = field(default_factory=dict)  # how a fold's controls are made
    held: list[tuple[Any, list[Any], Any]] = field(default_factory=list)  # (fold, placeholder, controls or fill)
    hidden: list[Any] = field(default_factory=list)  # folds hidden while the top is drawn again
    after: list[Job] = field(default_factory=list)  # run once the top is drawn
    idle: list[Job] = field(default_factory=list)  # run with the folds
    resting: bool = False  # the folds' turn is scheduled

    @property
    def pending(self) -> bool:
        """Folds or jobs still wait."""
        return bool(self.held or self.hidden or self.idle)

    def add(self, part: Any, fill: Callable[[], list[Any]] | None = None) -> None:
        """``part`` is a fold; ``fill`` makes its controls when its turn comes (none are made
        before: a long form is built as far as the phone draws it)."""
        self.parts.append(part)
        if fill is not None:
            self.fills[id(part)] = fill

    def hold(self, *, first_time: bool) -> None:
        """Before the screen is sent: its folds wait. The first time, their controls are not
        sent at all (a placeholder list stands in); when shown again, they are hidden, and
        what waited for an earlier showing that was left before it was drawn is dropped."""
        if not first_time:
            self.after.clear()
            self.idle.clear()
        for part in self.parts:
            if first_time:
                placeholder: list[Any] = []
                self.held.append((part, placeholder, self.fills.pop(id(part), part.controls)))
                part.controls = placeholder
            elif part.visible:
                part.visible = False
                self.hidden.append(part)

    def take_after(self) -> list[Job]:
        after, self.after = self.after, []
        return after

    def release(self) -> tuple[list[Any], list[Job]]:
        """The folds' turn: put them back. Answers the controls to send to the phone and
        the jobs to run after sending them."""
        changed: list[Any] = []
        for part, placeholder, controls in self.held:
            if part.controls is placeholder:  # not redrawn meanwhile
                part.controls = controls() if callable(controls) else controls
                changed.append(part)
        for part in self.hidden:
            part.visible = True
            if part not in changed:
                changed.append(part)
        idle, self.held, self.hidden, self.idle = self.idle, [], [], []
        return changed, idle
