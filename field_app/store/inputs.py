"""What callers hand the store, checked and copied, and the errors the store raises.

    XunchaError
     ├── ValidationError   bad input (xuncha_core): nothing was changed
     ├── ConflictError     the input clashes with what is stored (xuncha_core)
     └── NotFoundError
          └── StoreError   codes ``store.*``: the store does not hold what was asked for
"""

from __future__ import annotations

from typing import Any

from field_app import clock
from field_app.store.store_file import plain
from xuncha_core.errors import ConflictError, NotFoundError, Problem, ValidationError


class StoreError(NotFoundError):
    """The store was asked about something it does not hold (codes ``store.*``)."""


def invalid(path: str, code: str, message: str) -> ValidationError:
    """A ValidationError with one problem at ``path``."""
    return ValidationError.of([Problem(path, code, message)], code=code)


def copy_json(value: Any, what: str) -> Any:
    """A private copy of ``value``, or ValidationError store.not_json naming ``what``."""
    try:
        return plain(value)
    except (TypeError, ValueError) as exc:
        raise invalid(what, "store.not_json", f"{what} must be plain JSON data ({exc})") from exc


def revision_exists(record_id: str, revision: int) -> ConflictError:
    return ConflictError(
        "store.revision_exists",
        f"revision {revision} of record {record_id} was already submitted with other content; "
        "edit the record to make a new revision",
    )


def now_iso() -> str:
    """The device's time, for local bookkeeping only (never to order records by)."""
    return clock.now_utc_iso()
