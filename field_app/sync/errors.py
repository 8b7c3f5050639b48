"""What can go wrong while syncing.

    SyncError                   base: ``code`` is stable, ``message`` says what to do
    ├── Offline                 no connection, a cut, a timeout or a 5xx: try again later
    ├── DeviceRevoked           401: the office signed this phone out; stop until sign-in
    ├── Refused                 the server answered a 4xx with a stable ``code``
    └── ProofFailed             a checkpoint signature or an inclusion proof did not verify

Only ``Offline`` is worth retrying by itself; the others need a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SyncError(Exception):
    code: str
    message: str
    message_zh: str = ""
    status: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class Offline(SyncError):
    pass


@dataclass
class DeviceRevoked(SyncError):
    pass


@dataclass
class Refused(SyncError):
    pass


@dataclass
class ProofFailed(SyncError):
    pass
