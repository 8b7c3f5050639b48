"""What can go wrong while syncing: the phone's leaves of ``xuncha_core.errors``.

    XunchaError (xuncha_core)
    ├── UnavailableError
    │   └── Offline             no connection, a cut, a timeout or a 5xx: try again later
    ├── AuthError
    │   └── DeviceRevoked       401: the office signed this phone out; stop until sign-in
    ├── Refused                 the server answered a 4xx with a stable ``code``
    └── IntegrityError
        └── ProofFailed         a checkpoint signature or an inclusion proof did not verify

``status`` is the HTTP status the error came with, if any. Only ``Offline`` is worth
retrying by itself; the others need a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from xuncha_core.errors import AuthError, IntegrityError, UnavailableError, XunchaError


@dataclass
class Offline(UnavailableError):
    status: int | None = None


@dataclass
class DeviceRevoked(AuthError):
    status: int | None = None


@dataclass
class Refused(XunchaError):
    status: int | None = None


@dataclass
class ProofFailed(IntegrityError):
    status: int | None = None
