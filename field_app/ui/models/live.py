"""What a sync change redraws on the open screen: only what changed, in place. No Flet here.

The sync scheduler reports every change of its status (a pass starts, a chunk is sent, a
pass ends). Redrawing a whole screen on each report loses the taps that land during the
redraw and can disturb a form being filled in, so a status change is handled in three steps:

1. the indicator and progress bar take the new status (always; the app does that);
2. ``sync_fingerprint`` answers, cheaply, whether what the screen shows may have changed
   (outbox, drafts, conflicts, history size, the reference cursor, the sync pass's
   "pushing" and last success/error); if not, nothing else happens;
3. each ``Section`` the screen registered loads its plain data again (off the UI thread)
   and redraws only if that data differs from what it shows; a section of rows keeps the
   controls of unchanged rows (``KeyedRows``), so a button that did not change is never
   replaced under a finger.

Form screens (a check, a re-check) register no section: nothing on them is redrawn by sync.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from field_app.ui.models.records import pushing

M = TypeVar("M")
C = TypeVar("C")


def watch_key(status: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """The parts of a sync status after which stored data may differ (not the byte counts
    of a photo upload: those move the progress bar only)."""
    status = status or {}
    progress = status.get("progress") or {}
    error = status.get("last_error") or {}
    return (status.get("state"), pushing(status), progress.get("records_done"), progress.get("photos_done"),
            status.get("last_success_at"), error.get("code") if isinstance(error, Mapping) else error)


def sync_fingerprint(store: Any, status: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """A cheap summary of everything a screen shows that sync can change: equal fingerprints
    mean no list needs reading again. (Counts and the reference cursor, no record is read.)"""
    stats = dict(store.stats())
    stats.pop("photos_pending", None)  # moves with every photo upload; no list shows it
    cursor = store.cursor()
    return (tuple(sorted(stats.items())), cursor, watch_key(status))


@dataclass
class Section(Generic[M]):
    """A part of a screen that shows stored data.

    ``load`` reads its plain data (comparable with ``==``; called off the UI thread);
    ``draw`` puts that data on its controls in place and may answer False to refuse a
    stale model; ``target`` is the control to send to the screen afterwards.
    """

    load: Callable[[], M]
    draw: Callable[[M], bool | None]
    target: Any = None
    shown: Any = None
    drawn: bool = False

    def show(self, model: M) -> bool:
        """Draw ``model`` unless it is what the section shows already; True if drawn."""
        if self.drawn and model == self.shown:
            return False
        if self.draw(model) is False:
            return False
        self.shown, self.drawn = model, True
        return True

    def mark_shown(self, model: M) -> None:
        """The screen was built showing ``model`` (so the same data is not drawn again)."""
        self.shown, self.drawn = model, True


@dataclass
class LiveScreen:
    """The sections of the screen on top; a new screen gets a new one."""

    sections: list[Section[Any]] = field(default_factory=list)
    fingerprint: Hashable | None = None

    def section(self, load: Callable[[], M], draw: Callable[[M], bool | None], *, target: Any = None,
                shown: Any = ...) -> Section[M]:
        """Register a section; ``shown`` is the data it was built with, if any."""
        s: Section[M] = Section(load, draw, target)
        if shown is not ...:
            s.mark_shown(shown)
        self.sections.append(s)
        return s

    def read(self, fingerprint: Hashable) -> list[Any] | None:
        """Every section's data if the fingerprint moved since the last read, else None.
        Blocking (store reads): run it off the UI thread."""
        if not self.sections or fingerprint == self.fingerprint:
            return None
        models = [s.load() for s in self.sections]
        self.fingerprint = fingerprint
        return models

    def read_after(self, store: Any, status: Mapping[str, Any] | None) -> list[Any] | None:
        """``read`` with the store's ``sync_fingerprint`` (blocking: off the UI thread)."""
        if not self.sections:
            return None
        return self.read(sync_fingerprint(store, status))

    def show(self, models: Iterable[Any]) -> list[Any]:
        """Draw the sections whose data changed; answer their targets (to send to the screen)."""
        return [s.target for s, m in zip(self.sections, models, strict=True) if s.show(m)]


class KeyedRows(Generic[C]):
    """Controls for rows of data: a row whose data did not change keeps its control object."""

    def __init__(self, build: Callable[[Any], C]) -> None:
        self.build = build
        self.cache: dict[Hashable, tuple[Any, C]] = {}

    def controls(self, rows: Iterable[tuple[Hashable, Any]]) -> list[C]:
        """One control per (key, data) row, in order: reused when the key's data is unchanged."""
        fresh: dict[Hashable, tuple[Any, C]] = {}
        out: list[C] = []
        for key, data in rows:
            old = self.cache.get(key)
            control = old[1] if old is not None and old[0] == data and key not in fresh else self.build(data)
            fresh[key] = (data, control)
            out.append(control)
        self.cache = fresh
        return out


class SingleFlight:
    """At most one refresh at a time; reports arriving meanwhile cause exactly one more.

    ``request()`` answers True when the caller should run the refresh loop: call ``next()``
    before each round and stop when it answers False.
    """

    def __init__(self) -> None:
        self.running = False
        self.pending = False

    def request(self) -> bool:
        self.pending = True
        if self.running:
            return False
        self.running = True
        return True

    def next(self) -> bool:
        if self.pending:
            self.pending = False
            return True
        self.running = False
        return False
