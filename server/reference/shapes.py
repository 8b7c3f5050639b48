"""What the pull feed and the reference API answer: the shapes of their JSON bodies (their
routes' ``response_model``s). A payload is whatever the office published for that topic."""

from __future__ import annotations

from typing import Any, TypedDict


class Change(TypedDict):
    """One step of the feed: an item set (its payload) or deleted (a tombstone, payload null)."""

    seq: int
    topic: str
    key: str
    payload: Any
    deleted: bool


class ChangesPage(TypedDict):
    changes: list[Change]
    next: int  # the cursor to send as ``after`` for the following page
    more: bool


class Item(TypedDict):
    key: str
    seq: int
    payload: Any


class TopicState(TypedDict):
    topic: str
    items: list[Item]


class ItemWritten(TypedDict):
    """An item set or deleted; ``changed`` is false when it already was so."""

    seq: int
    topic: str
    key: str
    payload: Any
    deleted: bool
    changed: bool


class CalendarYear(TypedDict):
    year: int
    source: str  # built_in or office


class CalendarWarning(TypedDict):
    code: str
    message: str
    message_zh: str


class CalendarYears(TypedDict):
    years: list[CalendarYear]
    next_year_missing: bool
    warning: CalendarWarning | None
