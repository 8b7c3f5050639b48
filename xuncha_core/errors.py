"""The errors that shared rules raise.

    XunchaError                 base: every error carries a stable ``code``
    ├── ValidationError         input is malformed or incomplete; ``problems`` lists each one
    ├── ConflictError           input contradicts what is already recorded
    └── IntegrityError          stored or received data fails a hash, proof or signature check

Messages name what is wrong and say what to do; ``code`` never changes once
published, so clients may branch on it.
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
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class ValidationError(XunchaError):
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def of(cls, problems: list[Problem], *, code: str = "validation.failed") -> ValidationError:
        summary = "; ".join(f"{p.path}: {p.message}" for p in problems) or "invalid input"
        return cls(
            code=code,
            message=summary,
            detail={"problems": [p.as_dict() for p in problems]},
            problems=list(problems),
        )


@dataclass
class ConflictError(XunchaError):
    pass


@dataclass
class IntegrityError(XunchaError):
    pass
