"""The one error tree of the whole product: the core, the server and the phone raise these.

    XunchaError                 base: a stable ``code``, ``message`` (English), ``message_zh``
    │                           (Chinese), ``detail`` (JSON data: what a client may act on)
    ├── ValidationError         input is malformed or incomplete; ``problems`` lists each one
    ├── ConflictError           input contradicts what is already recorded
    ├── IntegrityError          data fails a hash, proof, signature or image-integrity check
    ├── NotFoundError           what was asked for does not exist (or may not be named)
    ├── AuthError               the caller is not signed in, or their device was cut off
    ├── ForbiddenError          signed in, but this role or person may not do this
    ├── TooLargeError           more bytes, pixels or items than the limit
    ├── RateLimitedError        too many attempts or too much open work; ``retry_after`` seconds
    └── UnavailableError        a service or link is down or busy: nothing was done, try later

Each side adds its own leaves under these (the phone's ``Offline`` is an UnavailableError,
its ``StoreError`` a NotFoundError...), and the server maps the branches to HTTP statuses in
one place (``server.errors``). A message names what is wrong and says what to do;
``code`` never changes once published, so clients may branch on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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

    def as_dict(self) -> dict[str, str]:
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

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if not self.message_zh:
            # Older call sites carried the Chinese sentence in the detail.
            zh = self.detail.get("message_zh") if isinstance(self.detail, dict) else None
            self.message_zh = zh if isinstance(zh, str) and zh else self.message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def message_in(self, language: str) -> str:
        """The message in ``language`` ("zh" or "en")."""
        return self.message_zh if language == "zh" else self.message

    def as_dict(self) -> dict[str, Any]:
        """The error body's inner object: ``{code, message, message_zh, detail}``."""
        return {"code": self.code, "message": self.message, "message_zh": self.message_zh, "detail": self.detail}


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
    retry_after: int | None = None


@dataclass
class UnavailableError(XunchaError):
    retry_after: int | None = None
