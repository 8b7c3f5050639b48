"""The one error tree of the whole product: the core, the server and the phone raise these.

    XunchaError                 base: a stable ``code``, ``message`` (English), ``message_zh``
    │                           (Chinese), ``detail`` (JSON data: what a client may act on)
    ├── BadRequestError         the request cannot be answered as asked (a size past the end)
    ├── ValidationError         input is malformed or incomplete; ``problems`` lists each one
    ├── ConflictError           input contradicts what is already recorded
    ├── IntegrityError          data fails a hash, proof, signature or image-integrity check
    ├── NotFoundError           what was asked for does not exist (or may not be named)
    ├── AuthError               the caller is not signed in, or their device was cut off
    ├── ForbiddenError          signed in, but this role or person may not do this
    ├── TooLargeError           more bytes, pixels or items than the limit
    ├── RateLimitedError        too many attempts or too much open work
    └── UnavailableError        a service or link is down or busy: nothing was done, try later

Each side adds its own leaves under these (the phone's ``Offline`` is an UnavailableError,
its ``StoreError`` a NotFoundError...), and the server maps the branches to HTTP statuses in
one place (``server.infra.http_errors``). A message names what is wrong and says what to do;
``code`` never changes once published, so clients may branch on it. ``retry_after`` (seconds),
where set, says when trying again may succeed.

Every error travels in one body (``ErrorEnvelope``, made by ``XunchaError.to_body``)::

    {"error": {"code": "record.base_missing", "message": "...", "message_zh": "...",
               "detail": {...}}}

The body never grows with the input: messages are cut to ``MAX_MESSAGE_CHARS`` and a
``detail.problems`` list to ``MAX_PROBLEMS`` (``detail.problems_omitted`` counts the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

MAX_MESSAGE_CHARS = 2000
MAX_PROBLEMS = 50
_MAX_PATH_CHARS = 120


def shown(text: str, limit: int = _MAX_PATH_CHARS) -> str:
    """``text`` made safe to echo in an error: lone surrogates as ``\\udXXX``, cut to ``limit``."""
    if not is_unicode(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_unicode(text: str) -> bool:
    """True if ``text`` is a sequence of Unicode scalar values (UTF-8 can encode it)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ProblemBody(TypedDict):
    path: str
    code: str
    message: str
    message_zh: str


class ErrorBody(TypedDict):
    """One error as every answer carries it: a stable code, both languages, data to act on."""

    code: str
    message: str
    message_zh: str
    detail: dict[str, Any]


class ErrorEnvelope(TypedDict):
    """The whole body of an error answer."""

    error: ErrorBody


def error_body(code: str, message: str, message_zh: str, detail: dict[str, Any] | None = None) -> ErrorBody:
    """One error's fields, bounded: long messages are cut, at most ``MAX_PROBLEMS`` problems kept."""
    detail = dict(detail or {})
    problems = detail.get("problems")
    if isinstance(problems, list) and len(problems) > MAX_PROBLEMS:
        detail["problems"] = problems[:MAX_PROBLEMS]
        detail["problems_omitted"] = len(problems) - MAX_PROBLEMS
    return {
        "code": code,
        "message": shown(message, MAX_MESSAGE_CHARS),
        "message_zh": shown(message_zh, MAX_MESSAGE_CHARS),
        "detail": detail,
    }


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a dotted path), a stable code, and a sentence.

    ``message_zh`` is the same sentence in Chinese for the field app and the
    office; it is empty where a rule has no Chinese wording yet.
    """

    path: str
    code: str
    message: str
    message_zh: str = ""

    def as_dict(self) -> ProblemBody:
        return {
            "path": self.path,
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
        }


@dataclass
class XunchaError(Exception):
    code: str
    message: str
    message_zh: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if not self.message_zh:
            self.message_zh = self.message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> ErrorBody:
        """The error body's inner object, bounded: ``{code, message, message_zh, detail}``."""
        return error_body(self.code, self.message, self.message_zh, self.detail)

    def to_body(self) -> ErrorEnvelope:
        """The whole answer's body: ``{"error": {code, message, message_zh, detail}}``."""
        return {"error": self.as_dict()}


@dataclass
class ValidationError(XunchaError):
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def of(cls, problems: list[Problem], *, code: str = "validation.failed") -> ValidationError:
        summary = "; ".join(f"{p.path}: {p.message}" for p in problems) or "invalid input"
        summary_zh = "；".join(f"{p.path}：{p.message_zh or p.message}" for p in problems) or "输入不正确"
        return cls(
            code=code,
            message=summary,
            message_zh=summary_zh,
            detail={"problems": [p.as_dict() for p in problems]},
            problems=list(problems),
        )


@dataclass
class BadRequestError(XunchaError):
    pass


@dataclass
class ConflictError(XunchaError):
    pass


@dataclass
class IntegrityError(XunchaError):
    pass


@dataclass
class NotFoundError(XunchaError):
    pass


@dataclass
class AuthError(XunchaError):
    pass


@dataclass
class ForbiddenError(XunchaError):
    pass


@dataclass
class TooLargeError(XunchaError):
    pass


@dataclass
class RateLimitedError(XunchaError):
    pass


@dataclass
class UnavailableError(XunchaError):
    pass
