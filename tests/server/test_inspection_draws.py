"""Random inspections end to end on a real server: plan, commit, values, publication, verify (issue 11).

The server runs on a real uvicorn in this process so the test can move its clock
past the day the named lottery publishes its numbers; SQLite and PostgreSQL both.
One demo town per backend serves the whole module: the clock only moves forward
and each test makes its own draw, so no test depends on another's.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.app_server import AppServer, ManualClock
from tests.support.databases import backends
from tests.support.inspections import PLAN, VALUES, client, demo_town
from xuncha_core.inspections.verify import verify

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=backends())
def town(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with demo_town(request.param, tmp_path_factory.mktemp("town")) as srv:
        yield srv


@pytest.fixture
def clock(town: AppServer) -> ManualClock:
    return town.clock


def source(clock: ManualClock, days_ahead: int = 2) -> dict:
    """A lottery draw ``days_ahead`` days after the server's today."""
    day = (clock.now + timedelta(days=days_ahead)).date().isoformat()
    return {"description": f"中国福利彩票双色球 {day} 开奖号码：红球一组、蓝球一组", "published_on": day, "value_sets": 2}




def test_a_draw_is_planned_committed_drawn_published_and_verifiable(town: AppServer, clock: ManualClock, tmp_path: Path):
    office = client(town, "zhou.hb")
    planned = office.post("/api/v1/inspections/draws", json=PLAN)
    assert planned.status_code == 201, planned.text
    draw_id = planned.json()["id"]

    committed = office.post(f"/api/v1/inspections/draws/{draw_id}/commitment", json={"randomness": source(clock)})
    assert committed.status_code == 200, committed.text
    commitment = committed.json()["commitment"]
    entry = httpx.get(f"{town.url}/api/v1/ledger/entries/{commitment['ledger_index']}").json()
    assert json.dumps(entry).count(commitment["digest"]) == 1  # the public ledger holds the commitment's digest

    early = office.post(f"/api/v1/inspections/draws/{draw_id}/random-values", json={"random_values": VALUES})
    assert early.status_code == 409 and early.json()["error"]["code"] == "draw.values_not_published_yet"

    clock.now += timedelta(days=2, hours=12)  # the lottery has published
    drawn = office.post(f"/api/v1/inspections/draws/{draw_id}/random-values", json={"random_values": VALUES})
    assert drawn.status_code == 200 and drawn.json()["state"] == "published", drawn.text
    again = office.post(f"/api/v1/inspections/draws/{draw_id}/random-values", json={"random_values": VALUES})
    assert again.json() == drawn.json()  # a retry answers the same draw
    other = office.post(f"/api/v1/inspections/draws/{draw_id}/random-values", json={"random_values": [[1], [2]]})
    assert other.status_code == 409 and other.json()["error"]["code"] == "draw.already_drawn"

    anyone = httpx.Client(base_url=town.url, timeout=30)
    listed = anyone.get("/api/v1/public/draws").json()["draws"]
    assert {"id": draw_id, "title": PLAN["title"], "drawn_at": drawn.json()["drawn_at"]} in listed
    assert all(set(d) == {"id", "title", "drawn_at"} for d in listed)
    file = anyone.get(f"/api/v1/public/draws/{draw_id}").json()
    assert verify(file).ok and file["commitment"]["ledger_index"] == commitment["ledger_index"]
    assert all(len(a["inspectors"]) == 2 for a in file["assignments"]["entities"])

    path = tmp_path / "draw.json"
    path.write_text(json.dumps(file, ensure_ascii=False), encoding="utf-8")
    confirmed = cli("draw", "verify", str(path))
    assert confirmed.returncode == 0 and "已确认" in confirmed.stdout and "Confirmed" in confirmed.stdout
    tampered = copy.deepcopy(file)
    tampered["assignments"]["entities"][0]["inspectors"].reverse()
    tampered["assignments"]["entities"][0]["inspectors"][0] = "50011420170025x"
    path.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    refuted = cli("draw", "verify", str(path))
    assert refuted.returncode == 1 and "assignments.entities.0.inspectors" in refuted.stdout


def test_both_assigned_officers_receive_the_inspection_on_their_phones(town: AppServer, clock: ManualClock):
    office = client(town, "zhou.hb")
    draw_id = office.post("/api/v1/inspections/draws", json=PLAN).json()["id"]
    office.post(f"/api/v1/inspections/draws/{draw_id}/commitment", json={"randomness": source(clock)}).raise_for_status()
    clock.now += timedelta(days=3)
    file = office.post(f"/api/v1/inspections/draws/{draw_id}/random-values", json={"random_values": VALUES})
    file.raise_for_status()
    published = httpx.get(f"{town.url}/api/v1/public/draws/{draw_id}").json()
    xiang = "50011420190031"
    theirs = {a["entity"] for a in published["assignments"]["entities"] if xiang in a["inspectors"]}
    assert theirs  # 12 entities, 2 inspectors each, 6 inspectors: everyone has some
    feed = client(town, "xiang.j").get("/api/v1/sync/changes", params={"after": 0}).json()["changes"]
    tasks = [c["payload"] for c in feed if c["topic"] == "task" and c["payload"]["draw_id"] == draw_id]
    assert {t["entity"]["credit_code"] for t in tasks} == theirs
    for task in tasks:
        assert xiang in {i["cert_no"] for i in task["inspectors"]} and len(task["inspectors"]) == 2
        assert task["deadline"] == "2026-03-31" and {m["id"] for m in task["matters"]} == {"m-env-01", "m-fire-01"}
    others = client(town, "wang.cy").get("/api/v1/sync/changes", params={"after": 0}).json()["changes"]
    assert not [c for c in others if c["topic"] == "task"]  # a supervisor gets nobody's inspections


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("xiang.j", 403), ("wang.cy", 403), ("audit.qj", 403)])
def test_only_office_staff_plan_draws(town: AppServer, who: str | None, status: int):
    assert client(town, who).post("/api/v1/inspections/draws", json=PLAN).status_code == status


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("xiang.j", 403), ("audit.qj", 200), ("tan.lj", 200)])
def test_office_readers_see_draws_and_field_staff_do_not(town: AppServer, who: str | None, status: int):
    assert client(town, who).get("/api/v1/inspections/draws").status_code == status


def test_a_plan_with_problems_is_refused_with_every_problem_and_nothing_saved(town: AppServer):
    office = client(town, "zhou.hb")
    before = office.get("/api/v1/inspections/draws").json()["draws"]
    bad = office.post("/api/v1/inspections/draws", json={**PLAN, "inspectors_per_entity": 1, "matters": ["m-nope"]})
    assert bad.status_code == 422
    assert {p["code"] for p in bad.json()["error"]["detail"]["problems"]} == {
        "plan.too_few_inspectors", "plan.unknown_matter"}
    assert office.get("/api/v1/inspections/draws").json()["draws"] == before


def test_a_source_that_has_already_published_cannot_be_committed_to(town: AppServer, clock: ManualClock):
    office = client(town, "zhou.hb")
    draw_id = office.post("/api/v1/inspections/draws", json=PLAN).json()["id"]
    late = office.post(f"/api/v1/inspections/draws/{draw_id}/commitment",
                       json={"randomness": source(clock, days_ahead=0)})
    assert late.status_code == 422 and "draw.source_not_future" in late.text
    assert httpx.get(f"{town.url}/api/v1/public/draws/{draw_id}").status_code == 404


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_the_demo_town_has_a_completed_published_draw_that_verifies(town: AppServer):
    anyone = httpx.Client(base_url=town.url, timeout=30)
    listed = anyone.get("/api/v1/public/draws").json()["draws"]
    demo_draws = [d for d in listed if "第一批" in d["title"]]
    assert len(demo_draws) == 1
    file = anyone.get(f"/api/v1/public/draws/{demo_draws[0]['id']}").json()
    assert verify(file).ok
    assert sum(len(p["candidates"]) for p in file["rfc3797"]["pools"]) == 48  # the whole demo directory
    recused = {(r["entity"], r["inspector"]) for r in file["recusals"]}
    assert all((a["entity"], i) not in recused for a in file["assignments"]["entities"] for i in a["inspectors"])


def test_a_directory_file_with_broken_rows_is_refused_whole_and_a_valid_workbook_is_imported(town: AppServer):
    from server.inspections.spreadsheets import write_xlsx

    office = client(town, "zhou.hb")
    size = httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"]
    broken = ("名称,统一社会信用代码,类型,地址,所在村,风险等级\n"
              "邻鄂镇新开张小吃店,91110108551385082Q,个体工商户,场镇街9号,邻鄂社区,中风险\n"
              "错码的店,914403001922038217,个体工商户,石门村一组,石门村,低风险\n"
              "不存在村的店,914403001922038216,企业,某地,火星村,低风险\n")
    refused = office.post("/api/v1/inspections/directories/entities", content=broken.encode(),
                          headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422
    assert [p["path"] for p in refused.json()["error"]["detail"]["problems"]] == ["rows.3.credit_code",
                                                                                  "rows.4.village"]
    assert httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"] == size  # nothing written

    rows = [["邻鄂镇新开张小吃店", "914403001922038216", "个体工商户", "场镇街9号", "邻鄂社区", "中风险"],
            ["石门村河边农家乐", "91440300708461136T", "个体工商户", "石门村河坝组", "shimen", "高风险"]]
    workbook = write_xlsx(["名称", "统一社会信用代码", "类型", "地址", "所在村", "风险等级"], rows)
    imported = office.post("/api/v1/inspections/directories/entities?format=xlsx", content=workbook,
                           headers={"Content-Type": "application/octet-stream"})
    assert imported.json() == {"kind": "entities", "rows": 2, "changed": 2, "unchanged": 0}, imported.text
    assert httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"] == size + 2  # a ledger entry each
    again = office.post("/api/v1/inspections/directories/entities?format=xlsx", content=workbook,
                        headers={"Content-Type": "application/octet-stream"})
    assert again.json()["changed"] == 0

    exported = office.get("/api/v1/inspections/directories/entities", params={"format": "csv"})
    assert exported.status_code == 200 and "914403001922038216,个体工商户,场镇街9号,邻鄂社区,中风险" in exported.text
    assert client(town, "xiang.j").post("/api/v1/inspections/directories/entities", content=b"x").status_code == 403
    assert client(town, "audit.qj").get("/api/v1/inspections/directories/conflicts").status_code == 403
