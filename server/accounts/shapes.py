"""What the accounts API answers: the shapes of its JSON bodies (its routes' ``response_model``s)."""

from __future__ import annotations

from typing import TypedDict


class EnrolledUser(TypedDict):
    user_id: int
    username: str
    display_name: str
    role: str


class Enrolled(TypedDict):
    """A device enrolled: the token to send as ``Authorization: Bearer``, and whose it is."""

    device_id: str
    token: str
    user: EnrolledUser


class Caller(TypedDict):
    """Who is calling: the signed-in user and the device they use."""

    user_id: int
    username: str
    display_name: str
    role: str
    device_id: str


class EnrollmentCode(TypedDict):
    code: str  # one-time, ten digits in two groups
    username: str
    expires_at: str


class DeviceRevoked(TypedDict):
    device_id: str
    revoked: bool


class Device(TypedDict):
    device_id: str
    username: str
    name: str
    kind: str  # phone, browser or cli
    created_at: str
    revoked_at: str | None
    revoked_reason: str | None


class User(TypedDict):
    user_id: int
    username: str
    display_name: str
    role: str
    cert_no: str | None
    unit: str | None
    active: bool


class UserCreated(TypedDict):
    user_id: int
    username: str
    role: str
