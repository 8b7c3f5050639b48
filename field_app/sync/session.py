"""Signing in and out on a shared phone, with the server: what the sign-in and sign-out screens call.

    sign_in(store, server_url, username=, password= | enrollment_code=, device_name=) -> user
        enrolls this phone with the server, then ``store.sign_in``: her partition (and what
        she left in it) becomes the store's
    sign_out(store) -> {username, drafts, outbox, photos_pending}
        ``store.sign_out`` first (it always succeeds, offline too: nothing of hers is deleted),
        then, best effort, tells the server to revoke the token it no longer holds

Her unsent records name the device she had when she made them; the server accepts them
from her next sign-in on this phone (a device she enrolled before). Both block on the
network: call them with ``asyncio.to_thread``.
"""

from __future__ import annotations

from typing import Any, Unpack

import httpx

from field_app.sync.errors import DeviceRevoked, Offline, Refused
from field_app.sync.transport import Enrollment, ServerApi, build_client, enroll


def sign_in(
    store: Any, server_url: str, *, transport: httpx.BaseTransport | None = None, **how: Unpack[Enrollment]
) -> dict[str, Any]:
    """Enroll and sign in; answers the server's user object. Raises what ``enroll`` raises."""
    result = enroll(server_url, transport=transport, **how)
    store.sign_in(server_url=server_url, user=result["user"], device_id=result["device_id"], device_token=result["token"])
    return dict(result["user"])


def sign_out(store: Any, *, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """Sign out here (keeping all of hers), then revoke the token on the server if it can be reached."""
    server_url, token = store.get_setting("server_url"), store.get_setting("device_token")
    left: dict[str, Any] = store.sign_out()
    if server_url and token:
        left["server_signed_out"] = revoke(server_url, token, transport=transport)
    return left


def revoke(server_url: str, token: str, *, transport: httpx.BaseTransport | None = None) -> bool:
    """Tell the server to revoke a token the phone no longer holds; False if it cannot be reached."""
    api = ServerApi(build_client(server_url, token, transport=transport, timeout=10.0))
    try:
        api.sign_out()
        return True
    except (Offline, Refused, DeviceRevoked):
        return False  # the token is gone from the phone either way
    finally:
        api.close()
