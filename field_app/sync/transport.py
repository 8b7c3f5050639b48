"""The one place that builds the HTTP client, and the calls sync makes through it.

``build_client`` is the seam: tests hand it an ``httpx.BaseTransport`` (a wrapper that
sends every request twice, say) and everything else runs unchanged. ``ServerApi`` turns
each endpoint of the HTTP contract into one method and every failure into the error tree
of ``field_app.sync.errors``: a cut or a 5xx is ``Offline``, a 401 is ``DeviceRevoked``,
any other 4xx is ``Refused`` carrying the server's stable code.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, TypedDict, Unpack

import httpx

from field_app import VERSION
from field_app.messages import fail
from field_app.sync import faults
from field_app.sync.errors import DeviceRevoked, Offline, Refused

ByteCounter = Callable[[int], None]
# Bodies are fed to the socket in slices this big, so progress moves smoothly on 2G; a
# caller that has measured a fast link passes bigger slices (less work per byte).
SLICE = 16 * 1024


def build_client(
    server_url: str,
    token: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> httpx.Client:
    """An HTTP client for ``server_url`` that authenticates as the enrolled device."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers["X-Xuncha-App-Version"] = VERSION
    return httpx.Client(
        base_url=server_url.rstrip("/"),
        headers=headers,
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=False,
    )


class ServerApi:
    """The server's sync endpoints, one method each; raises ``Offline``, ``DeviceRevoked`` or ``Refused``."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        # The server's clock as of its last answer (HTTP Date): "last synced" never trusts the phone's.
        self.server_time: str | None = None

    def close(self) -> None:
        self.client.close()

    # accounts ------------------------------------------------------------------------
    def enroll(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/api/v1/auth/enroll", json=body)

    def sign_out(self) -> dict[str, Any]:
        """Revoke this device's own token on the server."""
        return self._json("POST", "/api/v1/auth/sign-out")

    # records -------------------------------------------------------------------------
    def push_batch(self, envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Results in the order sent: ``{"status", "receipt"}`` or ``{"status", "error"}``."""
        body = self._json("POST", "/api/v1/records/batch", json={"records": envelopes})
        return list(body["results"])

    # photos --------------------------------------------------------------------------
    def photos_missing(self, hashes: list[str]) -> list[str]:
        missing: list[str] = []
        for i in range(0, len(hashes), 1000):
            body = self._json("POST", "/api/v1/photos/missing", json={"hashes": hashes[i : i + 1000]})
            missing.extend(body["missing"])
        return missing

    def put_photo(self, sha256: str, data: bytes, on_bytes: ByteCounter, slice_size: int = SLICE) -> dict[str, Any]:
        """Send a whole photo in one request."""
        if slice_size >= len(data):  # one slice: hand httpx the bytes, count them once sent
            answer = self._json(
                "PUT",
                f"/api/v1/photos/{sha256}",
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            )
            on_bytes(len(data))
            return answer
        return self._json(
            "PUT",
            f"/api/v1/photos/{sha256}",
            content=_sliced(data, on_bytes, slice_size=slice_size),
            headers={"Content-Length": str(len(data)), "Content-Type": "application/octet-stream"},
        )

    def start_upload(self, sha256: str, length: int) -> dict[str, Any]:
        """Open (or find) a resumable upload; ``complete`` is true if the server has the photo."""
        return self._json("POST", "/api/v1/uploads", json={"sha256": sha256, "length": length})

    def upload_offset(self, sha256: str) -> int:
        """How many bytes of this upload the server holds."""
        response = self._send("HEAD", f"/api/v1/uploads/{sha256}")
        return int(response.headers["Upload-Offset"])

    def patch_upload(
        self, sha256: str, offset: int, chunk: bytes, on_bytes: ByteCounter, slice_size: int = SLICE
    ) -> dict[str, Any]:
        """Append ``chunk`` at ``offset``; ``complete`` is true after the last one."""
        return self._json(
            "PATCH",
            f"/api/v1/uploads/{sha256}",
            content=_sliced(chunk, on_bytes, kill_midway=True, slice_size=slice_size),
            headers={
                "Upload-Offset": str(offset),
                "Content-Length": str(len(chunk)),
                "Content-Type": "application/offset+octet-stream",
            },
        )

    # pull ----------------------------------------------------------------------------
    def changes(self, after: int, limit: int = 500, *, outbox: int | None = None) -> dict[str, Any]:
        """The next page of the feed; ``outbox`` (records still to send) tells the office how this phone is doing."""
        headers = {"X-Xuncha-Outbox": str(outbox)} if outbox is not None else None
        return self._json("GET", "/api/v1/sync/changes", params={"after": after, "limit": limit}, headers=headers)

    def own_records(self, after: int, limit: int = 50, *, mine_since: int | None = None) -> dict[str, Any]:
        """Her own records as the server holds them: ``{records, next, more}`` (see own_records);
        ``mine_since``: leave out this device's own revisions from that ledger index on."""
        params = {"after": after, "limit": limit}
        if mine_since is not None:
            params["mine_since"] = mine_since
        return self._json("GET", "/api/v1/sync/own-records", params=params)

    def photo_bytes(self, sha256: str, *, thumbnail: bool = False) -> bytes:
        """A photo the caller may read, full size or as the server's thumbnail."""
        suffix = "/thumbnail" if thumbnail else ""
        return self._send("GET", f"/api/v1/photos/{sha256}{suffix}").content

    # ledger (public) -----------------------------------------------------------------
    def set_inspection_pin(self, pin_hash: dict[str, Any]) -> dict[str, Any]:
        """Send this officer's PIN hash (made on the phone; never the PIN)."""
        return self._json("PUT", "/api/v1/inspections/pin", json={"pin_hash": pin_hash})

    def checkpoint(self) -> dict[str, Any]:
        return self._json("GET", "/api/v1/ledger/checkpoint")

    def ledger_entry(self, index: int) -> dict[str, Any]:
        return self._json("GET", f"/api/v1/ledger/entries/{index}")

    def inclusion_proof(self, index: int, size: int) -> dict[str, Any]:
        return self._json("GET", "/api/v1/ledger/proof/inclusion", params={"index": index, "size": size})

    # plumbing ------------------------------------------------------------------------
    def _json(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        response = self._send(method, url, **kw)
        try:
            return response.json()
        except ValueError as exc:
            raise fail(Offline, "sync.bad_response", method=method, url=url) from exc

    def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            response = self.client.request(method, url, **kw)
        except httpx.TransportError as exc:
            raise fail(Offline, "sync.offline", detail={"reason": type(exc).__name__}) from exc
        date = response.headers.get("Date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self.server_time = parsedate_to_datetime(date).astimezone(UTC).isoformat().replace("+00:00", "Z")
        if response.status_code < 400:
            return response
        error = _error_body(response)
        code = error.get("code") or f"http.{response.status_code}"
        message = error.get("message") or response.reason_phrase
        zh = error.get("message_zh") or message
        detail = error.get("detail") or {}
        if response.status_code == 401:
            raise DeviceRevoked(code, message, zh, detail, status=401)
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise Offline(code, message, zh, detail, status=response.status_code)
        raise Refused(code, message, zh, detail, status=response.status_code)


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _sliced(
    data: bytes, on_bytes: ByteCounter, *, kill_midway: bool = False, slice_size: int = SLICE
) -> Iterator[bytes]:
    """Yield ``data`` in slices, counting each as it goes to the socket (with ``kill_midway``,
    a slice ends at the half, where the crash tests' ``mid_photo`` kill point sits)."""
    half = len(data) // 2
    starts = set(range(0, len(data), slice_size))
    if kill_midway and half > 0:
        starts.add(half)
    bounds = [*sorted(starts), len(data)]
    for start, end in itertools.pairwise(bounds):
        if kill_midway and start >= half > 0:
            faults.point("mid_photo")
            kill_midway = False
        piece = data[start:end]
        yield piece
        on_bytes(len(piece))


class Enrollment(TypedDict, total=False):
    """How a phone enrolls: ``username`` and ``password``, or an office ``enrollment_code``."""

    username: str | None
    password: str | None
    enrollment_code: str | None
    device_name: str


def enroll(
    server_url: str, *, transport: httpx.BaseTransport | None = None, **how: Unpack[Enrollment]
) -> dict[str, Any]:
    """Enroll this phone with a password or an office enrollment code: ``{device_id, token, user}``.

    Raises ``Refused`` (wrong password, used code: ``.code``, ``.message``, ``.message_zh``),
    ``DeviceRevoked`` on 401, ``Offline`` when the server cannot be reached."""
    body: dict[str, Any] = {"device_name": how.get("device_name", "phone"), "kind": "phone"}
    if enrollment_code := how.get("enrollment_code"):
        body["enrollment_code"] = enrollment_code.strip()
    else:
        body.update(username=how.get("username"), password=how.get("password"))
    api = ServerApi(build_client(server_url, None, transport=transport))
    try:
        return api.enroll(body)
    finally:
        api.close()
