"""Accounts and devices: enrollment by password or code, revocation, roles."""

from __future__ import annotations

import httpx

from tests.support.live_server import LiveServer


def test_enroll_by_password_gives_a_token_that_identifies_the_user(server: LiveServer) -> None:
    server.add_user("wang", "supervisor")
    enrolled = server.enroll("wang")
    with server.client(enrolled["token"]) as c:
        me = c.get("/api/v1/auth/me").json()
    assert me["username"] == "wang" and me["role"] == "supervisor"
    assert me["device_id"] == enrolled["device_id"]


def test_wrong_password_is_refused_with_a_stable_code(server: LiveServer) -> None:
    server.add_user("wang", "supervisor")
    r = httpx.post(f"{server.url}/api/v1/auth/enroll", json={"username": "wang", "password": "nope-nope"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "auth.bad_credentials"


def test_enrollment_code_works_once(server: LiveServer) -> None:
    server.add_user("boss", "admin")
    server.add_user("li", "officer")
    admin = server.enroll("boss")
    with server.client(admin["token"]) as c:
        code = c.post("/api/v1/auth/enrollment-codes", json={"username": "li"}).json()["code"]
    first = httpx.post(f"{server.url}/api/v1/auth/enroll", json={"enrollment_code": code})
    assert first.status_code == 201 and first.json()["user"]["username"] == "li"
    again = httpx.post(f"{server.url}/api/v1/auth/enroll", json={"enrollment_code": code})
    assert again.status_code == 401 and again.json()["error"]["code"] == "auth.bad_enrollment_code"


def test_revoked_device_gets_401_saying_it_was_revoked(server: LiveServer) -> None:
    server.add_user("boss", "admin")
    server.add_user("wang", "supervisor")
    admin = server.enroll("boss")
    phone = server.enroll("wang")
    with server.client(admin["token"]) as c:
        assert c.post(f"/api/v1/devices/{phone['device_id']}/revoke", json={"reason": "lost"}).status_code == 200
    with server.client(phone["token"]) as c:
        r = c.get("/api/v1/auth/me")
    assert r.status_code == 401
    body = r.json()["error"]
    assert body["code"] == "auth.device_revoked"
    assert "revoked" in body["message"] and "停用" in body["message_zh"]


def test_password_is_stored_with_argon2(server: LiveServer) -> None:
    server.add_user("wang", "supervisor", password="correct horse")
    stored = server.scalar("SELECT password_hash FROM users WHERE username='wang'")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
