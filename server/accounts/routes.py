"""Sign-in and device enrollment, enrollment codes, device revocation, users."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from server.accounts import accounts, shapes, sign_in
from server.infra.db import read
from server.infra.deps import (
    ActorDep,
    AdminActor,
    ClockDep,
    EngineDep,
    OfficeActor,
    ReaderActor,
    require_roles,
)
from server.infra.schemas import error_responses, list_of, model_of
from server.infra.writer import write
from xuncha_core.errors import ValidationError

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=error_responses(401, 403, 422, 429))
# PostgreSQL text cannot hold NUL bytes: refuse them as bad input, not a server failure.
NO_NUL = r"^[^\x00]*$"


class EnrollRequest(BaseModel):
    """Either username and password, or an enrollment code from the office."""

    username: str | None = Field(default=None, max_length=64, pattern=NO_NUL)
    password: str | None = Field(default=None, max_length=256)
    enrollment_code: str | None = Field(default=None, max_length=32, pattern=NO_NUL)
    device_name: str = Field(default="phone", max_length=100, pattern=NO_NUL)
    kind: Literal["phone", "browser", "cli"] = "phone"


class CodeRequest(BaseModel):
    username: str = Field(max_length=64, pattern=NO_NUL)


class RevokeRequest(BaseModel):
    reason: str = Field(default="", max_length=200, pattern=NO_NUL)


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    role: Literal["supervisor", "officer", "office_reviewer", "legal_reviewer", "admin", "auditor"]
    password: str | None = Field(default=None, min_length=8, max_length=256)
    display_name: str | None = Field(default=None, max_length=100, pattern=NO_NUL)
    cert_no: str | None = Field(default=None, max_length=64, pattern=NO_NUL)
    unit: str | None = Field(default=None, max_length=100, pattern=NO_NUL)


@router.post("/auth/enroll", status_code=201, response_model=model_of(shapes.Enrolled))
def enroll(req: EnrollRequest, request: Request, engine: EngineDep, clock: ClockDep) -> shapes.Enrolled:
    """Enroll this device; answers a device token to send as ``Authorization: Bearer``.

    Repeated failures back off per account and per address: 429 ``auth.throttled``
    with ``Retry-After`` (see ``server.accounts.throttle``).
    """
    address = request.client.host if request.client else None
    if req.enrollment_code:
        return sign_in.with_code(
            engine, code=req.enrollment_code, device_name=req.device_name, kind=req.kind, address=address, now=clock()
        )
    if req.username and req.password:
        return sign_in.with_password(
            engine,
            username=req.username,
            password=req.password,
            device_name=req.device_name,
            kind=req.kind,
            address=address,
            now=clock(),
        )
    raise ValidationError(
        "auth.enroll_incomplete",
        "Give a username and password, or an enrollment code.",
        "请输入用户名和密码，或输入注册码。",
    )


@router.get("/auth/me", response_model=model_of(shapes.Caller))
def me(actor: ActorDep) -> shapes.Caller:
    return actor.public()


@router.post("/auth/enrollment-codes", status_code=201, response_model=model_of(shapes.EnrollmentCode))
def new_enrollment_code(req: CodeRequest, actor: OfficeActor, engine: EngineDep) -> shapes.EnrollmentCode:
    """A one-time code for ``username``. The route lets office reviewers and admins through;
    for whom each may issue is decided by the row (``access.code_target``): an office reviewer
    for supervisors and officers, an admin for anyone, nobody for their own account
    (403 ``enrollment_code.forbidden``, before anything is written)."""
    return write(engine, lambda conn: accounts.issue_enrollment_code(conn, username=req.username, issued_by=actor))


@router.post("/devices/{device_id}/revoke", response_model=model_of(shapes.DeviceRevoked))
def revoke(
    device_id: Annotated[str, Path(max_length=64, pattern=NO_NUL)], req: RevokeRequest, actor: AdminActor, engine: EngineDep
) -> shapes.DeviceRevoked:
    write(engine, lambda conn: accounts.revoke_device(conn, device_id=device_id, reason=req.reason or "revoked", by=actor))
    return {"device_id": device_id, "revoked": True}


@router.post("/auth/sign-out", response_model=model_of(shapes.DeviceRevoked))
def sign_out(actor: ActorDep, engine: EngineDep) -> shapes.DeviceRevoked:
    """Revoke the calling device's own token."""
    write(engine, lambda conn: accounts.revoke_device(conn, device_id=actor.device_id, reason="signed out", by=actor))
    return {"device_id": actor.device_id, "revoked": True}


@router.get("/devices", response_model=list_of(shapes.Device))
def devices(
    _actor: Annotated[accounts.Actor, Depends(require_roles("admin", "auditor"))], engine: EngineDep
) -> list[shapes.Device]:
    with read(engine) as conn:
        return accounts.list_devices(conn)


@router.get("/users", response_model=list_of(shapes.User))
def users(_actor: ReaderActor, engine: EngineDep) -> list[shapes.User]:
    with read(engine) as conn:
        return accounts.list_users(conn)


@router.post("/users", status_code=201, response_model=model_of(shapes.UserCreated))
def create_user(req: UserCreate, actor: AdminActor, engine: EngineDep) -> shapes.UserCreated:
    user_id = write(
        engine,
        lambda conn: accounts.create_user(
            conn,
            username=req.username,
            role=req.role,
            password=req.password,
            display_name=req.display_name,
            cert_no=req.cert_no,
            unit=req.unit,
            created_by=actor.username,
        ),
    )
    return {"user_id": user_id, "username": req.username, "role": req.role}
