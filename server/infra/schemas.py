"""FastAPI response models made from the core's shapes, so /openapi.json describes what is sent.

The shapes the phone and the server exchange are ``TypedDict``s in the core
(``xuncha_core.receipts``, ``xuncha_core.errors``); the core imports no pydantic, so
``model_of`` turns each into a pydantic model here. A key the shape marks
``NotRequired`` is left out of the answer when the route leaves it out (routes use
``response_model_exclude_unset``), so answers stay exactly what they were.
"""

from __future__ import annotations

import functools
import operator
import types
import typing
from typing import Any, NotRequired, get_args, get_origin, get_type_hints, is_typeddict

from pydantic import BaseModel, ConfigDict, create_model

from xuncha_core.errors import ErrorEnvelope


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


@functools.cache
def model_of(shape: type) -> type[BaseModel]:
    """A pydantic model with the fields of the TypedDict ``shape`` (nested shapes too)."""
    # Read from the hints: with postponed annotations ``__required_keys__`` misses NotRequired.
    fields: dict[str, Any] = {}
    for name, hint in get_type_hints(shape, include_extras=True).items():
        if get_origin(hint) is NotRequired:
            fields[name] = (_model_types(get_args(hint)[0]) | None, None)
        else:
            fields[name] = (_model_types(hint), ...)
    model: type[BaseModel] = create_model(shape.__name__, __base__=_Shape, __doc__=shape.__doc__, **fields)
    return model


def list_of(shape: type) -> Any:
    """``response_model`` for a route that answers a JSON array of ``shape``."""
    return list[model_of(shape)]  # type: ignore[misc]


def _model_types(hint: Any) -> Any:
    if is_typeddict(hint):
        return model_of(hint)
    origin, args = get_origin(hint), get_args(hint)
    if origin in (list, typing.List):  # noqa: UP006
        return list[_model_types(args[0])]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):  # a shape or null
        return functools.reduce(operator.or_, map(_model_types, args))
    return hint


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answers the one error body."""
    return {status: {"model": model_of(ErrorEnvelope), "description": "The one error body"} for status in statuses}
