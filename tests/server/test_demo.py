"""``xuncha-server demo``: a fresh installation filled with a town one can sign in to and browse."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.support.live_server import LiveServer
from xuncha_core.credit_code import is_credit_code


def test_demo_fills_a_fresh_town_whose_accounts_work_and_refuses_a_second_run(tmp_path: Path, database_url: str) -> None:
    srv = LiveServer(tmp_path / "data", database_url)
    done = srv.cli("demo")
    assert done.returncode == 0, done.stderr
    assert "DEMO ACCOUNTS" in done.stdout and "仅供试用" in done.stdout
    again = srv.cli("demo")
    assert again.returncode == 1 and "already has users" in again.stderr
    srv.start()
    try:
        clerk = srv.enroll("zhou.hb", password="xuncha-demo-2025", kind="browser")
        with srv.client(clerk["token"]) as c:
            users = c.get("/api/v1/users").json()
            heads, after = [], None
            while True:
                page = c.get("/api/v1/records", params={"limit": 200, **({"after": after} if after else {})}).json()
                heads += page["records"]
                after = page["next"]
                if after is None:
                    break
            villages = c.get("/api/v1/reference/village").json()["items"]
            entities = c.get("/api/v1/reference/entity").json()["items"]
            sheets = c.get("/api/v1/reference/scoring_sheet").json()["items"]
            detail = c.get(f"/api/v1/records/{heads[0]['record_id']}").json()
            photo_hashes = {h for x in heads for h in x["envelope"]["photos"]}
            some = sorted(photo_hashes)[:5]
            blobs = {h: c.get(f"/api/v1/photos/{h}") for h in some}
    finally:
        srv.stop()
    assert {u["role"] for u in users} == {"supervisor", "officer", "office_reviewer", "legal_reviewer", "admin", "auditor"}
    assert len(heads) >= 50 and len(villages) == 6 and len(sheets) == 1
    assert {x["kind"] for x in heads} >= {"remediation_check", "recheck", "inspection_result"}
    assert {x["review_state"] for x in heads} >= {"approved", "submitted", "sent_back"}
    assert len({x["month"] for x in heads if x["month"]}) >= 3
    assert all(is_credit_code(e["payload"]["credit_code"]) for e in entities) and len(entities) >= 10
    assert sum(1 for x in heads if x["photos_missing"]) == 1  # one record shows "photos pending"
    assert detail["revisions"][0]["receipt"]["ledger_index"] >= 0
    assert len(photo_hashes) >= 50
    for sha, r in blobs.items():
        if r.status_code == 200:
            assert hashlib.sha256(r.content).hexdigest() == sha and r.content[:3] == b"\xff\xd8\xff"
    assert sum(r.status_code == 200 for r in blobs.values()) >= 4
