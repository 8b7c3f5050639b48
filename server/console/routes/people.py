"""Users and roles, one-time enrollment codes (shown as QR codes), devices and their revocation.

The same account services as the API (``server.accounts``): an office reviewer issues codes
for field staff, an administrator adds users and revokes devices; each change is a ledger entry.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from server.accounts import accounts
from server.console import exports, qr, queries, web, wording
from server.infra.db import read
from server.infra.writer import write

router = APIRouter(prefix="/console", include_in_schema=False)
Format = Annotated[str | None, Query(max_length=8)]


@router.get("/users")
def users_page(request: Request, session: web.Reader, format: Format = None, done: str = "") -> Response:
    t = web.translator(web.lang_of(request))
    with read(request.app.state.engine) as conn:
        users = accounts.list_users(conn)
    if fmt := exports.wanted(format):
        headers = [t("users.username"), t("users.display_name"), t("users.role"), t("users.cert_no"), t("users.unit"), t("users.active")]
        rows = [[u["username"], u["display_name"], t(f"role.{u['role']}"), u["cert_no"], u["unit"], u["active"]] for u in users]
        return exports.response(fmt, name="users", headers=headers, rows=rows)
    return web.render(request, "users.html", users=users, roles=list(accounts.ROLES),
                      notice=t("users.added", username=done) if done else "")


@router.post("/users")
def add_user(request: Request, session: web.Admin, form: web.FormDep) -> Response:
    username = web.field(form, "username", 64)
    write(request.app.state.engine, lambda conn: accounts.create_user(
            conn, username=username, role=web.field(form, "role", 32), password=web.field(form, "password", 256) or None,
            display_name=web.field(form, "display_name", 100) or None, cert_no=web.field(form, "cert_no", 64) or None,
            unit=web.field(form, "unit", 100) or None, created_by=session.actor.username,
    ))
    return web.redirect(f"/console/users?done={username}")


@router.post("/users/{username}/code")
def issue_code(request: Request, session: web.Issuer, username: Annotated[str, Path(max_length=64)], form: web.FormDep) -> Response:
    lang = web.lang_of(request)
    t = web.translator(lang)
    issued = write(request.app.state.engine,
                   lambda conn: accounts.issue_enrollment_code(conn, username=username, issued_by=session.actor))
    server = str(request.base_url).rstrip("/")
    payload = f"xuncha://enroll?server={server}&code={issued['code']}"
    return web.render(request, "code.html", username=username, code=issued["code"],
                      expires=wording.when(issued["expires_at"]), qr=qr.svg(payload, title=t("code.title", username=username)))


@router.get("/devices")
def devices_page(request: Request, session: web.DeviceReader, format: Format = None, done: int = 0) -> Response:
    t = web.translator(web.lang_of(request))
    with read(request.app.state.engine) as conn:
        rows = [_device(d) for d in queries.devices(conn)]
        names = queries.user_names(conn)
    for r in rows:
        r["user"] = f"{names.get(r['username'], r['username'])}（{r['username']}）"
    if fmt := exports.wanted(format):
        headers = [t("devices.name"), t("devices.user"), t("devices.kind"), t("devices.created"), t("devices.last_seen"),
                   t("devices.revoked"), t("devices.revoke_reason")]
        cells = [[r["name"], r["user"], t(f"devkind.{r['kind']}"), r["created"], r["last_seen"], r["revoked"], r["reason"]] for r in rows]
        return exports.response(fmt, name="devices", headers=headers, rows=cells)
    return web.render(request, "devices.html", devices=rows, notice=t("devices.revoked_done") if done else "")


def _device(d: Any) -> dict[str, Any]:
    return {"device_id": d.id, "name": d.name, "username": d.username, "kind": d.kind, "created": wording.when(d.created_at),
            "last_seen": wording.when(d.heard_at) if d.heard_at else "", "revoked": wording.when(d.revoked_at) if d.revoked_at else "",
            "reason": d.revoked_reason or ""}


@router.post("/devices/{device_id}/revoke")
def revoke(request: Request, session: web.Admin, device_id: Annotated[str, Path(max_length=64)], form: web.FormDep) -> Response:
    reason = web.field(form, "reason", 200) or "revoked"
    write(request.app.state.engine,
          lambda conn: accounts.revoke_device(conn, device_id=device_id, reason=reason, by=session.actor))
    return web.redirect("/console/devices?done=1")
