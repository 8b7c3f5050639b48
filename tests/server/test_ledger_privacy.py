"""The public ledger proves without publishing (issue 7, hole 5; 个人信息保护法).

Anyone may fetch the checkpoint, every entry and every proof without signing in; none of it
may carry a person's name, username, certificate number, device, note or review reason.
The content each entry commits to is read by signing in: the read-all roles read any, a
record's author the entries of her own records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from server.infra.settings import Settings
from tests.support.live_server import LiveServer
from tests.support.records import Member, member, remediation_content, reviewed_record
from xuncha_core import ledger_entries
from xuncha_core.merkle import leaf_hash

TOWN = Path(__file__).resolve().parents[2] / "assets" / "config" / "demo_town.json"


# -- the demo town, scanned --------------------------------------------------------------


@pytest.fixture
def demo_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path / "data", database_url)
    done = srv.cli("demo")
    assert done.returncode == 0, done.stderr
    srv.start()
    yield srv
    srv.stop()


def _rows(server: LiveServer, query: str) -> list[Any]:
    return server.rows(query)

def _demo_personal_data(server: LiveServer) -> set[str]:
    """Every name, username, certificate number, device name, note and reason the demo wrote."""
    town = json.loads(TOWN.read_text(encoding="utf-8"))
    found: set[str] = set()
    for u in town["users"]:
        found |= {u["display_name"], u.get("cert_no") or ""}
        if u["username"] != "admin":  # a role's name, not a person's
            found.add(u["username"])
    found |= {c["name"] for c in town["cleaners"]}
    found |= {i["name"] for i in town["inspectors"]} | {i["cert_no"] for i in town["inspectors"]}
    found |= {r.name for r in _rows(server, "SELECT name FROM devices")}
    found |= {r.reason for r in _rows(server, "SELECT reason FROM reviews") if r.reason}
    for (text,) in _rows(server, "SELECT envelope FROM record_revisions"):
        found |= set(_texts_under(json.loads(text)["content"], ("note", "findings", "recorder")))
    found.discard("")
    return found


def _texts_under(value: Any, keys: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in keys and isinstance(v, str):
                yield v
            else:
                yield from _texts_under(v, keys)
    elif isinstance(value, list):
        for v in value:
            yield from _texts_under(v, keys)


def _public_get_paths(tmp_path: Path, values: dict[str, str]) -> list[str]:
    """Every GET route the application has, its path parameters filled with real demo values."""
    from server.app import create_app

    data = tmp_path / "routes"
    app = create_app(Settings(data_dir=data, database_url=f"sqlite:///{data / 'x.sqlite3'}"))
    paths = sorted({r.path for r in iter_route_contexts(app.routes) if "GET" in (r.methods or ())})
    app.state.engine.dispose()
    return [re.sub(r"\{([^}:]+)[^}]*\}", lambda m: values.get(m.group(1), "x"), p) for p in paths]


def _haystack(r: httpx.Response) -> str:
    """The answer as sent, and decoded once more (JSON escapes, entry texts inside strings)."""
    text = r.text
    try:
        return text + json.dumps(r.json(), ensure_ascii=False)
    except ValueError:
        return text


def test_the_unauthenticated_ledger_shows_no_personal_data(demo_server: LiveServer, tmp_path: Path) -> None:
    personal = _demo_personal_data(demo_server)
    assert len(personal) > 40  # names, usernames, certificates, notes, reasons, the device name
    record_id = _rows(demo_server, "SELECT record_id FROM records LIMIT 1")[0].record_id
    sha = _rows(demo_server, "SELECT sha256 FROM photos LIMIT 1")[0].sha256
    device = _rows(demo_server, "SELECT id FROM devices LIMIT 1")[0].id
    values = {"index": "0", "record_id": record_id, "sha256": sha, "topic": "cleaner", "key": "c-lin-e-01",
              "device_id": device}
    answers: dict[str, httpx.Response] = {}
    with httpx.Client(base_url=demo_server.url, timeout=30) as c:
        size = c.get("/api/v1/ledger/checkpoint").json()["size"]
        assert size > 200
        urls = [*_public_get_paths(tmp_path, values), "/openapi.json", "/docs", "/redoc"]
        urls += [f"/api/v1/ledger/entries/{i}" for i in range(size)]
        urls += [f"/api/v1/ledger/proof/inclusion?index={i}&size={size}" for i in (0, size // 2, size - 1)]
        urls += [f"/api/v1/ledger/proof/consistency?first={m}&second={size}" for m in (1, size // 3, size - 1)]
        for url in urls:
            answers[url] = c.get(url)
    assert all(answers[f"/api/v1/ledger/entries/{i}"].status_code == 200 for i in range(size))
    assert answers["/api/v1/health"].status_code == 200 and answers["/openapi.json"].status_code == 200
    leaks = sorted(
        f"{url} ({r.status_code}) shows {needle!r}"
        for url, r in answers.items()
        for needle in personal
        if needle in _haystack(r)
    )
    assert leaks == []
    # Every entry is still provable: its text hashes to its leaf.
    for i in range(size):
        body = answers[f"/api/v1/ledger/entries/{i}"].json()
        assert leaf_hash(body["entry"].encode("utf-8")).hex() == body["leaf_hash"]


# -- one entry of each kind, on a small town ---------------------------------------------


def _public_entries(server: LiveServer) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        size = c.get("/api/v1/ledger/checkpoint").json()["size"]
        return [c.get(f"/api/v1/ledger/entries/{i}").json() for i in range(size)]


def test_a_records_public_entry_holds_its_envelope_digest_and_not_its_content(server: LiveServer) -> None:
    wang = member(server, "wang.cy", "supervisor")
    env = wang.envelope(content=remediation_content(recorder="王春燕", orders=[]))
    with wang.client() as c:
        receipt = c.post("/api/v1/records", json=env).json()
    with httpx.Client(base_url=server.url) as c:
        body = c.get(f"/api/v1/ledger/entries/{receipt['ledger_index']}").json()
    text = body["entry"]
    assert leaf_hash(text.encode()).hex() == body["leaf_hash"] == receipt["leaf_hash"]
    entry = json.loads(text)
    assert entry == {
        "type": "record.accepted",
        "record": {"record_id": env["record_id"], "revision": 1},
        "digest": receipt["digest"],
        "received_at": receipt["received_at"],
    }
    for secret in ("wang.cy", "王春燕", wang.device_id, "v-lianhe", "total_score"):
        assert secret not in text


def test_accounts_devices_reviews_and_reference_data_publish_no_names_or_reasons(server: LiveServer) -> None:
    server.add_user("xiang.j", "officer", display_name="向军", cert_no="50011420190031")
    boss = member(server, "boss.admin", "admin")
    wang = reviewed_record(server, boss, "照片看不清，请补拍垃圾桶", author="wang.cy", reviewer="zhou.hb")
    with boss.client() as c:
        assert c.post("/api/v1/auth/enrollment-codes", json={"username": "xiang.j"}).status_code == 201
        assert c.put("/api/v1/reference/cleaner/c-01", json={"name": "向秀英", "village_id": "lin-e"}).status_code == 201
        assert c.post(f"/api/v1/devices/{wang.device_id}/revoke", json={"reason": "王春燕的手机丢失"}).status_code == 200
    entries = _public_entries(server)
    types = {json.loads(e["entry"])["type"] for e in entries}
    assert types == {"user.created", "device.enrolled", "record.accepted", "review.recorded",
                     "enrollment_code.issued", "reference.changed", "device.revoked"}
    shown = "\n".join(e["entry"] for e in entries)
    for secret in ("xiang.j", "向军", "50011420190031", "zhou.hb", "wang.cy", "boss.admin", "test phone",
                   "照片看不清", "向秀英", "c-01", "手机丢失", wang.device_id, "send_back"):
        assert secret not in shown, secret


def _content(member_: Member | None, server: LiveServer, index: int) -> httpx.Response:
    client = member_.client() if member_ else httpx.Client(base_url=server.url)
    with client as c:
        return c.get(f"/api/v1/ledger/entries/{index}/content")


def test_contents_are_read_by_the_read_all_roles_and_by_a_records_author_only(server: LiveServer) -> None:
    boss = member(server, "boss", "admin")
    auditor = member(server, "audit.qj", "auditor", admin=boss)
    zhou = member(server, "zhou", "office_reviewer", admin=boss)
    wang = member(server, "wang", "supervisor", admin=boss)
    ran = member(server, "ran", "supervisor", admin=boss)
    env = wang.envelope()
    with wang.client() as c:
        accepted = c.post("/api/v1/records", json=env).json()["ledger_index"]
    with zhou.client() as c:
        reviewed = c.post(f"/api/v1/records/{env['record_id']}/reviews",
                          json={"revision": 1, "action": "send_back", "reason": "请补拍"}).json()["ledger_index"]

    for reader in (auditor, zhou, boss, wang):
        r = _content(reader, server, accepted)
        assert r.status_code == 200, (reader.username, r.text)
        body = r.json()
        assert body["content"] == env and body["salt"] is None and body["legacy"] is False
        ledger_entries.check_content(body["entry"], body["content"], body["salt"])
    review = _content(wang, server, reviewed).json()
    assert review["content"]["reason"] == "请补拍" and review["content"]["reviewer"] == "zhou"
    ledger_entries.check_content(review["entry"], review["content"], review["salt"])
    user_created = _content(auditor, server, 0).json()
    assert user_created["content"]["username"] == "boss"

    assert _content(None, server, accepted).status_code == 401
    refused = _content(ran, server, accepted)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "record.forbidden")
    assert refused.json()["error"]["message_zh"] and env["author"] not in refused.text
    assert _content(ran, server, reviewed).status_code == 403
    assert _content(wang, server, 0).json()["error"]["code"] == "auth.forbidden"  # not a record's entry
    missing = _content(auditor, server, 10_000)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ledger.entry_not_found")
