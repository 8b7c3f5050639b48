"""Using the office console as a browser would, over plain HTTP: sign in, read pages, post forms."""

from __future__ import annotations

import re
from typing import Any

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def sign_in_form(client: httpx.Client) -> str:
    """Open the sign-in page (which sets its form cookie); answer the form's token."""
    page = client.get("/console/sign-in")
    page.raise_for_status()
    return token_in(page.text)


def token_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def signed_in(base_url: str, username: str, password: str = "password-123", **kw: Any) -> httpx.Client:
    """A client holding a console session for ``username`` (fails the test if sign-in fails)."""
    client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30, **kw)
    r = post_sign_in(client, username, password)
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text[:500]
    return client


def post_sign_in(client: httpx.Client, username: str, password: str, **headers: str) -> httpx.Response:
    token = sign_in_form(client)
    return client.post(
        "/console/sign-in",
        data={"username": username, "password": password, "csrf_token": token, "next": "/console/"},
        headers=headers,
    )


def session_token(client: httpx.Client) -> str:
    """The session's CSRF token, as every page's sign-out form carries it."""
    return token_in(client.get("/console/records").text)


def post_form(client: httpx.Client, path: str, data: dict[str, str], *, csrf: bool = True) -> httpx.Response:
    body = dict(data)
    if csrf:
        body["csrf_token"] = session_token(client)
    return client.post(path, data=body)
