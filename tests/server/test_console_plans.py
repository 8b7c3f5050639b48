"""Random-inspection plans, draws and directories in the office console, over HTTP (issue 11).

The demo town on a real uvicorn in this process (so the test can move the server's clock
past the day the named lottery publishes its numbers), SQLite and PostgreSQL both. The
console's forms go to the same draw service as the API: what the pages show is checked
against the API's own answers and the public draw file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape

import httpx
import pytest
from openpyxl import load_workbook

from server.demo.town import DEMO_PASSWORD
from tests.support.app_server import AppServer
from tests.support.console import post_form, signed_in
from tests.support.databases import backends
from tests.support.inspections import VALUES, client, demo_town

PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert(1)>\"'&"
RAW = ("<script>alert", "<img src=x")


@pytest.fixture(scope="module", params=backends())
def town(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with demo_town(request.param, tmp_path_factory.mktemp("town")) as srv:
        yield srv


def console(town: AppServer, username: str = "zhou.hb") -> httpx.Client:
    return signed_in(town.url, username, DEMO_PASSWORD)


def plan_form(title: str, **changes: str) -> dict[str, str]:
    form = {
        "title": title, "matters": "m-env-01", "inspectors_per_entity": "2", "deadline": "2026-06-30",
        "s1_name": "高风险", "s1_risks": "high", "s1_percent": "100",
        "s2_name": "个体工商户", "s2_types": "个体工商户", "s2_count": "2",
    }
    form.update(changes)
    return form


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    found = re.fullmatch(r"/console/plans/([0-9A-Za-z-]+)\?done=created", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def lottery(town: AppServer, days_ahead: int = 2) -> dict[str, str]:
    day = (town.clock.now + timedelta(days=days_ahead)).date().isoformat()
    return {"description": f"中国福利彩票双色球 {day} 开奖号码 {PAYLOAD}", "published_on": day, "value_sets": "2"}


def test_a_plan_is_made_committed_and_drawn_in_the_console_exactly_as_the_api_does_it(town: AppServer) -> None:
    office = console(town)
    draw_id = created_id(post_form(office, "/console/plans", plan_form("二季度抽查" + PAYLOAD)))
    page = office.get(f"/console/plans/{draw_id}").text
    assert "草稿" in page and "提交承诺" in page

    r = post_form(office, f"/console/plans/{draw_id}/commitment", lottery(town))
    assert r.status_code == 303 and r.headers["location"] == f"/console/plans/{draw_id}?done=committed"
    api = client(town, "zhou.hb")
    commitment = api.get(f"/api/v1/inspections/draws/{draw_id}").json()["commitment"]
    page = office.get(f"/console/plans/{draw_id}").text
    for pool in commitment["pools"]:  # each stratum's candidate-list hash, the algorithm, the ledger index
        assert pool["candidates_sha256"] in page
    assert commitment["algorithm"]["version"] in page and f"<dd>{commitment['ledger_index']}</dd>" in page
    assert "公布的随机数" in page

    town.clock.now += timedelta(days=3)  # the lottery has drawn; the idle session has ended meanwhile
    assert office.get("/console/plans").status_code == 303
    office = console(town)
    values = "\n".join(" ".join(str(v) for v in s) for s in VALUES)
    r = post_form(office, f"/console/plans/{draw_id}/draw", {"random_values": values})
    assert r.status_code == 303 and r.headers["location"] == f"/console/plans/{draw_id}?done=drawn"

    file = httpx.get(f"{town.url}/api/v1/public/draws/{draw_id}").json()
    assert file["random_values"] == VALUES
    page = office.get(f"/console/plans/{draw_id}").text
    text = unescape(page)
    for pool in file["rfc3797"]["pools"]:  # each stratum's selection, in selection order
        shown = [code for code in re.findall(r"<code>([0-9A-Z]{18})</code>", page) if code in pool["selected"]]
        assert shown[: len(pool["selected"])] == pool["selected"]
    for assigned in file["assignments"]["entities"]:
        for cert in assigned["inspectors"]:
            assert cert in text
    assert file["rfc3797"]["key"] in text
    assert f'href="/api/v1/public/draws/{draw_id}"' in page and 'href="/public/"' in page
    assert "xuncha-server draw verify" in text
    assert draw_id in [d["id"] for d in httpx.get(f"{town.url}/api/v1/public/draws").json()["draws"]]
    for raw in RAW:
        assert raw not in page

    listing = office.get("/console/plans").text
    assert "已抽取并公示" in listing and draw_id in listing
    r = post_form(office, f"/console/plans/{draw_id}/draw", {"random_values": "1 2 3\n4"})
    assert r.status_code == 409 and "不能重新抽取" in r.text  # never drawn again


def test_a_plan_with_problems_comes_back_with_each_problem_in_the_readers_language_and_nothing_saved(town: AppServer) -> None:
    office = console(town)
    before = client(town, "zhou.hb").get("/api/v1/inspections/draws").json()["draws"]
    bad = plan_form("", matters="", inspectors_per_entity="1", deadline="2026-02-30", s2_count="2", s2_percent="5")
    r = post_form(office, "/console/plans", bad)
    assert r.status_code == 422
    text = unescape(r.text)
    assert "请至少选择一项抽查事项" in text and "法律要求至少两名" in text and "截止日期应为 YYYY-MM-DD" in text
    assert "第 2 组" in text and "二者只填其一" in text
    assert 'value="个体工商户" selected' in r.text  # what was typed is kept
    office.cookies.set("xuncha_lang", "en")
    r = post_form(office, "/console/plans", bad)
    assert r.status_code == 422 and "choose at least one inspection matter" in r.text and "Stratum 2" in r.text
    assert client(town, "zhou.hb").get("/api/v1/inspections/draws").json()["draws"] == before


def test_a_commitment_to_numbers_already_known_and_values_before_they_are_published_are_refused(town: AppServer) -> None:
    office = console(town)
    draw_id = created_id(post_form(office, "/console/plans", plan_form("三季度抽查")))
    r = post_form(office, f"/console/plans/{draw_id}/commitment", lottery(town, days_ahead=0))
    assert r.status_code == 422 and "随机数来源的公布日期须晚于今天" in r.text
    assert post_form(office, f"/console/plans/{draw_id}/commitment", lottery(town)).status_code == 303
    r = post_form(office, f"/console/plans/{draw_id}/draw", {"random_values": "1 2 3\n4"})
    assert r.status_code == 409 and "公布后录入" in r.text
    r = post_form(office, f"/console/plans/{draw_id}/draw", {"random_values": "1 2 x"})
    assert r.status_code == 422 and "第 1 行" in r.text
    assert client(town, "zhou.hb").get(f"/api/v1/inspections/draws/{draw_id}").json()["state"] == "committed"


def test_every_console_form_for_draws_and_directories_refuses_a_post_without_its_token(town: AppServer) -> None:
    office = console(town)
    draw_id = created_id(post_form(office, "/console/plans", plan_form("四季度抽查")))
    api = client(town, "zhou.hb")  # (enrolling its device is a ledger entry)
    before = api.get("/api/v1/inspections/draws").json()["draws"]
    size = httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"]
    for path, data in (("/console/plans", plan_form("伪造的计划")),
                       (f"/console/plans/{draw_id}/commitment", lottery(town)),
                       (f"/console/plans/{draw_id}/draw", {"random_values": "1 2 3\n4"}),
                       ("/console/directories/matters/import", {})):
        for token in ({}, {"csrf_token": "forged"}):
            r = office.post(path, data={**data, **token})
            assert r.status_code == 403 and "表单已过期" in r.text, path
    assert api.get("/api/v1/inspections/draws").json()["draws"] == before
    assert httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"] == size


def test_a_directory_file_with_bad_rows_lists_each_line_and_reason_and_imports_nothing(town: AppServer) -> None:
    office = console(town)
    size = httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"]
    broken = ("名称,统一社会信用代码,类型,地址,所在村,风险等级\n"
              "邻鄂镇新开张面馆,91110108551385082Q,个体工商户,场镇街9号,邻鄂社区,中风险\n"
              "错码的店,914403001922038217,个体工商户,石门村一组,石门村,低风险\n"
              "不存在村的店,914403001922038216,企业,某地,火星村,低风险\n")
    token = re.search(r'name="csrf_token" value="([^"]*)"', office.get("/console/directories").text)
    assert token
    r = office.post("/console/directories/entities/import", data={"csrf_token": token.group(1)},
                    files={"file": ("entities.csv", broken.encode(), "text/csv")})
    assert r.status_code == 422
    text = unescape(r.text)
    assert "第 3 行" in text and "第 4 行" in text and "第 2 行" not in text
    assert httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"] == size  # nothing imported
    assert "邻鄂镇新开张面馆" not in office.get("/console/directories").text

    good = "\n".join(broken.splitlines()[:2]) + "\n"
    r = office.post("/console/directories/entities/import", data={"csrf_token": token.group(1)},
                    files={"file": ("entities.csv", good.encode(), "text/csv")})
    assert r.status_code == 303, r.text[:300]
    page = office.get(r.headers["location"]).text
    assert "已导入：1 行有更改" in page and "邻鄂镇新开张面馆" in page
    assert httpx.get(f"{town.url}/api/v1/ledger/checkpoint").json()["size"] == size + 1

    exported = office.get("/console/directories", params={"kind": "entities", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    assert ["邻鄂镇新开张面馆", "91110108551385082Q"] in [[c.value for c in row][:2] for row in sheet.iter_rows()]
    for kind in ("inspectors", "conflicts", "matters"):
        assert office.get("/console/directories", params={"kind": kind}).status_code == 200
    assert console(town, "audit.qj").get("/console/directories?kind=conflicts").status_code == 403


def test_the_plans_list_exports_every_plan_to_csv_and_xlsx_with_chinese_intact(town: AppServer) -> None:
    office = console(town)
    plans = client(town, "zhou.hb").get("/api/v1/inspections/draws").json()["draws"]
    csv_text = office.get("/console/plans?format=csv").content.decode("utf-8-sig")
    assert len(csv_text.strip().splitlines()) == len(plans) + 1
    assert all(p["title"].split("<")[0] in csv_text for p in plans)
    book = load_workbook(io.BytesIO(office.get("/console/plans?format=xlsx").content)).active
    assert book is not None
    rows = [[c.value for c in row] for row in book.iter_rows()]
    assert sorted(r[0] for r in rows[1:]) == sorted(p["id"] for p in plans)
    assert rows[0][1] == "计划名称"
