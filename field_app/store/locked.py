"""``under_lock``: a facade method that takes the store's lock and calls one part's method.

``LocalStore`` serialises every read and write with one lock; most of its methods only
take that lock and hand the call to the part that owns the data. Declaring them as
``get_draft = under_lock("_work", WorkItems.get_draft)`` keeps the part's signature and
docstring (for readers and for the type checker) without a forwarding body each.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

P = ParamSpec("P")
R = TypeVar("R")


class under_lock(Generic[P, R]):
    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self.part = part
        self.name = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, store: None, owner: type[Any]) -> under_lock[P, R]: ...
    @overload
    def __get__(self, store: object, owner: type[Any] | None = None) -> Callable[P, R]: ...
    def __get__(self, store: object, owner: type[Any] | None = None) -> Any:
        if store is None:
            return self
        target: Callable[P, R] = getattr(getattr(store, self.part), self.name)
        lock = store._lock  # type: ignore[attr-defined]

        @functools.wraps(target)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            with lock:
                return target(*args, **kwargs)

        return call
