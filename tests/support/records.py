"""Building record envelopes and signed-in users against a live server, for the record tests."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.live_server import LiveServer
from xuncha_core.canonical import canonical_bytes


def digest(envelope: dict[str, Any]) -> str:
    """The SHA-256 of an envelope's canonical JSON: what receipts carry and ``base_digest`` names."""
    return hashlib.sha256(canonical_bytes(envelope)).hexdigest()


@dataclass
class Member:
    """A signed-in user on one enrolled device."""

    username: str
    role: str
    device_id: str
    token: str
    server: LiveServer

    def client(self) -> httpx.Client:
        return self.server.client(self.token)

    def envelope(
        self,
        *,
        record_id: str | None = None,
        revision: int = 1,
        content: dict[str, Any] | None = None,
        photos: list[str] | None = None,
        kind: str = "remediation_check",
        device_time: str = "2025-05-14T09:30:00+08:00",
        base: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Revision 1 of a new record, or, with ``base``, the next revision built on that one."""
        if base is not None:
            record_id, revision, kind = base["record_id"], base["revision"] + 1, base["kind"]
        envelope = {
            "record_id": record_id or str(uuid.uuid4()),
            "kind": kind,
            "revision": revision,
            "base_revision": None if revision == 1 else revision - 1,
            "author": self.username,
            "device_id": self.device_id,
            "device_time": device_time,
            "gps_time": None,
            "content": content if content is not None else remediation_content(),
            "photos": photos or [],
        }
        if base is not None:
            envelope["base_digest"] = digest(base)
        return envelope

    def pushed(self, **envelope: Any) -> dict[str, Any]:
        """An envelope (``envelope``'s arguments) sent and accepted: the server holds it."""
        env = self.envelope(**envelope)
        with self.client() as c:
            r = c.post("/api/v1/records", json=env)
        assert r.status_code == 201, r.text
        return env


def remediation_content(village_id: str = "v-lianhe", month: str = "2025-05", **more: Any) -> dict[str, Any]:
    """A complete monthly check with nothing deducted (``more`` adds or replaces fields)."""
    return {
        "village_id": village_id,
        "month": month,
        "sheet_id": "sample",
        "sheet_version": 1,
        "inspected_at": f"{month}-14T09:30:00+08:00",
        "recorder": "王队长",
        "location": None,
        "deductions": [],
        "cleaner_ratings": [],
        "total_score": 100,
        "orders": [],
        **more,
    }


def recheck_content(after_photos: list[str], village_id: str = "v-lianhe", month: str = "2025-05") -> dict[str, Any]:
    """A re-check that closes an order with these "after" photos."""
    return {
        "order_id": str(uuid.uuid4()),
        "check_record_id": str(uuid.uuid4()),
        "village_id": village_id,
        "month": month,
        "rechecked_at": f"{month}-20T10:00:00+08:00",
        "recorder": "复查人",
        "location": None,
        "after_photos": after_photos,
        "resolved": bool(after_photos),
        "note": "" if after_photos else "仍未整改",
    }


def member(server: LiveServer, username: str, role: str, *, admin: Member | None = None) -> Member:
    """Create the user (password "password-123") and enroll one device for them.

    With ``admin`` the user is created through the API (quick); otherwise with the CLI.
    """
    if admin is None:
        server.add_user(username, role)
    else:
        with admin.client() as c:
            r = c.post("/api/v1/users", json={"username": username, "role": role, "password": "password-123"})
            r.raise_for_status()
    enrolled = server.enroll(username)
    return Member(username, role, enrolled["device_id"], enrolled["token"], server)


def reviewed_record(
    server: LiveServer, boss: Member, reason: str, *, author: str = "wang", reviewer: str = "zhou"
) -> Member:
    """A supervisor ``author`` sends a record that the office's ``reviewer`` sends back for ``reason``
    (both users created by ``boss``); answers the author."""
    wang = member(server, author, "supervisor", admin=boss)
    zhou = member(server, reviewer, "office_reviewer", admin=boss)
    env = wang.envelope()
    with wang.client() as c:
        assert c.post("/api/v1/records", json=env).status_code == 201
    with zhou.client() as c:
        r = c.post(
            f"/api/v1/records/{env['record_id']}/reviews",
            json={"revision": 1, "action": "send_back", "reason": reason},
        )
        assert r.status_code == 201, r.text[:300]
    return wang


ROLES = ("supervisor", "officer", "office_reviewer", "legal_reviewer", "admin", "auditor")


def one_of_each_role(server: LiveServer) -> dict[str, Member]:
    """A user of every role (named ``u_<role>``), each signed in on one device."""
    boss = member(server, "u_admin", "admin")
    return {role: boss if role == "admin" else member(server, f"u_{role}", role, admin=boss) for role in ROLES}
