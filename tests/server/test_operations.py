"""A district's operations (issue 12): ``backup`` during writes and ``restore`` into an empty
database and store, after which ``audit verify`` passes and the phones' receipts prove; several
workers on one port; ``/metrics`` for the scraper only; one JSON log line per request; one
signing key for every process."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PHOTOS, ROOT
from tests.support.console import signed_in
from tests.support.databases import backends, fresh_database
from tests.support.live_server import LiveServer, free_port
from tests.support.object_store import SeaweedS3, s3_server  # noqa: F401 - fixture
from tests.support.records import Member, member
from xuncha_core import checkpoint, merkle

PHOTO = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()
METRICS_TOKEN = "scrape-token-for-tests-only"


# One town (SQLite, a photo folder) and a district (PostgreSQL, an S3 store).
SETUPS = [("sqlite", "folder"), ("postgres", "s3")]


@pytest.fixture(params=[s for s in SETUPS if s[0] in backends()], ids=lambda s: f"{s[0]}-{s[1]}")
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    backend, store = request.param
    env: dict[str, str] = {}
    if store == "s3":
        s3: SeaweedS3 = request.getfixturevalue("s3_server")
        env = s3.env(prefix=f"ops-{tmp_path.name}")
    (tmp_path / "first").mkdir()
    with fresh_database(backend, tmp_path / "first") as url:
        yield url, env


@pytest.fixture
def store_env(setup: tuple[str, dict[str, str]]) -> dict[str, str]:
    return setup[1]


@pytest.fixture
def office(tmp_path: Path, setup: tuple[str, dict[str, str]]) -> Iterator[LiveServer]:
    url, store_env = setup
    env = {**store_env, "XUNCHA_METRICS_TOKEN": METRICS_TOKEN, "XUNCHA_LOG_FORMAT": "json"}
    srv = LiveServer(tmp_path / "data", url, env=env).start()
    yield srv
    srv.stop()


@pytest.fixture
def town_office(tmp_path: Path) -> Iterator[LiveServer]:
    """One town's server (SQLite, photo folder) with metrics on and JSON logs."""
    env = {"XUNCHA_METRICS_TOKEN": METRICS_TOKEN, "XUNCHA_LOG_FORMAT": "json"}
    srv = LiveServer(
        tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'xuncha.sqlite3'}", env=env
    ).start()
    yield srv
    srv.stop()


def _prove(server: LiveServer, receipts: list[dict[str, Any]]) -> None:
    with server.client() as public:
        cp = checkpoint.Checkpoint.from_dict(public.get("/api/v1/ledger/checkpoint").json())
        checkpoint.verify(cp)
        for receipt in receipts:
            proof = public.get(
                "/api/v1/ledger/proof/inclusion",
                params={"index": receipt["ledger_index"], "size": cp.size},
            )
            merkle.verify_inclusion(
                bytes.fromhex(receipt["leaf_hash"]),
                receipt["ledger_index"],
                cp.size,
                [bytes.fromhex(h) for h in proof.json()["hashes"]],
                cp.root,
            )


def _keep_writing(author: Member, stop: threading.Event, receipts: list[dict[str, Any]]) -> None:
    with author.client() as c:
        while not stop.is_set():
            r = c.post("/api/v1/records", json=author.envelope())
            assert r.status_code == 201, r.text
            receipts.append(r.json())


def test_a_backup_during_writes_restores_into_an_empty_database_and_store_that_verifies(
    office: LiveServer, store_env: dict[str, str], tmp_path: Path
) -> None:
    wang = member(office, "wang", "supervisor")
    digest = hashlib.sha256(PHOTO).hexdigest()
    with wang.client() as c:
        record = c.post("/api/v1/records", json=wang.envelope(photos=[digest])).json()
        photo = c.put(f"/api/v1/photos/{digest}", content=PHOTO).json()
    stop, receipts = threading.Event(), [record, photo]
    writer = threading.Thread(target=_keep_writing, args=(wang, stop, receipts))
    writer.start()
    try:
        while len(receipts) < 10:
            time.sleep(0.01)  # until writes are under way
        done = office.cli("backup", "--out", str(tmp_path / "backup"))
    finally:
        stop.set()
        writer.join()
    assert done.returncode == 0, done.stderr
    taken = json.loads((tmp_path / "backup" / "checkpoint.json").read_text())
    in_backup = [r for r in receipts if r["ledger_index"] < taken["size"]]
    assert len(in_backup) >= 3

    restored_env = (
        {**store_env, "XUNCHA_PHOTOS_URL": store_env["XUNCHA_PHOTOS_URL"] + "-restored"}
        if store_env
        else {}
    )
    backend = "postgres" if "postgres" in backends() else "sqlite"
    (tmp_path / "second").mkdir()
    with fresh_database(backend, tmp_path / "second") as url:
        restored = LiveServer(tmp_path / "restored", url, env=restored_env)
        done = restored.cli("restore", str(tmp_path / "backup"))
        assert done.returncode == 0, done.stderr
        again = restored.cli("restore", str(tmp_path / "backup"))
        assert again.returncode != 0 and "restore.not_empty" in again.stderr
        exported = restored.cli("audit", "export", "--out", str(tmp_path / "check.zip"))
        assert exported.returncode == 0, exported.stderr
        verified = restored.cli(
            "audit",
            "verify",
            str(tmp_path / "check.zip"),
            "--trusted-checkpoint",
            str(tmp_path / "backup" / "checkpoint.json"),
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        restored.start()
        try:
            with restored.client(wang.token) as c:  # the phone's token still works: same devices
                assert c.get(f"/api/v1/photos/{digest}").content == PHOTO
            _prove(restored, in_backup)
            with restored.client() as public:
                cp = public.get("/api/v1/ledger/checkpoint").json()
            assert cp["public_key"] == taken["public_key"]  # the key the phones trust
        finally:
            restored.stop()


def test_metrics_answer_only_a_scrape_with_the_token_and_name_no_one(
    town_office: LiveServer,
) -> None:
    office = town_office
    wang = member(office, "wang", "supervisor")
    with wang.client() as c:
        c.post("/api/v1/records", json=wang.envelope())
    with httpx.Client(base_url=office.url) as anyone:
        assert anyone.get("/metrics").status_code == 404
        assert anyone.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
        assert (
            anyone.get("/metrics", headers={"Authorization": f"Bearer {wang.token}"}).status_code
            == 404
        )
        scraped = anyone.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        size = anyone.get("/api/v1/ledger/checkpoint").json()["size"]
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
    text = scraped.text
    assert f"xuncha_ledger_entries {size}" in text
    assert "xuncha_record_revisions_total 1" in text
    assert (
        'xuncha_http_requests_total{method="POST",route="/api/v1/records",status="201"} 1' in text
    )
    assert f'xuncha_device_sync_lag_seconds{{device="{wang.device_id}"}}' in text
    assert "wang" not in text and wang.token not in text


def test_a_phone_that_only_signs_in_is_seen_on_the_dashboard_and_in_the_sync_lag(
    office: LiveServer,
) -> None:
    """Issue 12: every signed-in request notes when its device was last seen, not only record
    posts (the sync lag) or feed pulls (the dashboard)."""
    wang = member(office, "wang", "supervisor")
    office.add_user("zhou", "office_reviewer")
    with wang.client() as c:
        assert c.get("/api/v1/auth/me").status_code == 200
    assert office.scalar("SELECT last_seen_at FROM devices WHERE id = :d", {"d": wang.device_id})
    with httpx.Client(base_url=office.url) as scraper:
        text = scraper.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert f'xuncha_device_sync_lag_seconds{{device="{wang.device_id}"}}' in text
    console = signed_in(office.url, "zhou")
    page = console.get("/console/").text
    console.close()
    row = re.search(r"<tr><td>test phone</td><td>[^<]*</td><td>([^<]*)</td>", page)
    assert row and row.group(1) and row.group(1) != "未知", page[page.find("test phone") - 100 :][:400]


def test_each_request_is_one_json_log_line_without_secrets(town_office: LiveServer) -> None:
    office = town_office
    wang = member(office, "wang", "supervisor")
    with wang.client() as c:
        c.get("/api/v1/records", params={"author": "wang"})
    lines = [
        json.loads(line)
        for line in office.log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    requests = [line for line in lines if line.get("logger") == "xuncha.requests"]
    assert any(
        r["route"] == "/api/v1/records" and r["status"] == 200 and r["method"] == "GET"
        for r in requests
    )
    assert (
        wang.token not in office.log_path.read_text()
        and "author=wang" not in office.log_path.read_text()
    )


def test_several_workers_on_one_port_share_the_record_and_add_up_their_metrics(
    tmp_path: Path, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'data' / 'xuncha.sqlite3'}"
    port = free_port()
    env = {
        **os.environ,
        "XUNCHA_DATA_DIR": str(tmp_path / "data"),
        "XUNCHA_DATABASE_URL": database_url,
        "XUNCHA_METRICS_TOKEN": METRICS_TOKEN,
        "PYTHONPATH": str(ROOT),
    }
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = LiveServer(tmp_path / "data", database_url, port=port)
    try:
        pids: set[str] = set()
        with httpx.Client(base_url=server.url, timeout=5) as c:
            while len(pids) < 2:  # until both workers have answered (the suite's timeout bounds a hang)
                try:
                    c.get("/api/v1/health")
                except httpx.HTTPError:
                    time.sleep(0.1)
                    continue
                folder = tmp_path / "data" / "metrics"
                pids = {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()
                if len(pids) < 2:
                    # New connections spread over the workers; a worker writes its totals every few seconds.
                    with httpx.Client(base_url=server.url, timeout=5) as fresh:
                        fresh.get("/api/v1/health")
                    time.sleep(0.05)
            assert len(pids) == 2, (tmp_path / "serve.log").read_text()[-2000:]
            text = c.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
        line = next(
            x
            for x in text.splitlines()
            if x.startswith('xuncha_http_requests_total{method="GET",route="/api/v1/health"')
        )
        assert float(line.rsplit(" ", 1)[1]) >= 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_process_with_another_signing_key_refuses_to_start(
    tmp_path: Path, database_url: str
) -> None:
    first = LiveServer(tmp_path / "one", database_url).start()
    first.stop()
    second = LiveServer(tmp_path / "two", database_url)  # its own folder: it would make its own key
    with pytest.raises(RuntimeError) as refused:
        second.start(timeout=30)
    assert "ledger.other_signing_key" in str(refused.value)
    made = second.cli("key", "new", "--out", str(tmp_path / "district.pem"))
    assert made.returncode == 0
    assert (
        second.cli("key", "new", "--out", str(tmp_path / "district.pem")).returncode != 0
    )  # never replaced


def test_a_device_is_noted_as_seen_at_most_once_a_minute() -> None:
    """Issue 12: noting when a device was last seen costs one write a minute, not one a request."""
    from datetime import UTC, datetime, timedelta

    from server.accounts.health import seen_due

    now = datetime(2025, 5, 14, 1, 30, tzinfo=UTC)
    assert seen_due(None, now)
    assert not seen_due((now - timedelta(seconds=59)).isoformat(), now)
    assert seen_due((now - timedelta(seconds=60)).isoformat(), now)
