"""A random-inspection draw made in the office console, in headless Chromium (issue 11).

The demo office reviewer signs in, creates a plan, commits it to a lottery draw two days
ahead, and (the server's clock moved past that day) enters the published numbers: the draw
runs and is published, and the public page lists it. Screenshots of the plan form, the
commitment and the result are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.demo.town import DEMO_PASSWORD
from tests.support.app_server import AppServer
from tests.support.browser import ARTIFACTS, chromium
from tests.support.inspections import VALUES, demo_town

pytestmark = pytest.mark.browser
TITLE = "2026年二季度邻鄂镇双随机抽查（控制台）"


@pytest.fixture
def town(tmp_path: Path) -> Iterator[AppServer]:
    with demo_town("sqlite", tmp_path) as srv:
        yield srv


@pytest.fixture
def page(town: AppServer) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1024, "height": 1366}, locale="zh-CN")  # type: ignore[attr-defined]
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()


def _sign_in(page: Any) -> None:
    page.fill("input[name=username]", "zhou.hb")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console_plans_{name}.png"), full_page=True)


def test_the_office_reviewer_plans_commits_draws_and_publishes_in_the_console(page: Any, town: AppServer) -> None:
    page.goto(f"{town.url}/console/")
    _sign_in(page)
    page.wait_for_url(f"{town.url}/console/")
    page.click("header nav >> text=双随机抽查")
    page.wait_for_url(f"{town.url}/console/plans")
    page.click("text=新建抽查计划")

    page.fill("input[name=title]", TITLE)
    page.check("input[name=matters][value=m-env-01]")
    page.check("input[name=matters][value=m-fire-01]")
    page.fill("input[name=s1_name]", "高风险对象")
    page.check("input[name=s1_risks][value=high]")
    page.fill("input[name=s1_percent]", "100")
    page.fill("input[name=s2_name]", "个体工商户")
    page.select_option("select[name=s2_types]", ["个体工商户"])
    page.fill("input[name=s2_count]", "2")
    page.fill("input[name=deadline]", "2026-06-30")
    _shot(page, "new")
    page.click("button:has-text('保存计划')")
    page.wait_for_url(re.compile(r".*/console/plans/[0-9A-Za-z-]+\?done=created$"))
    plan_url = page.url.split("?")[0]
    draw_id = plan_url.rsplit("/", 1)[1]
    assert page.locator(".badge").first.inner_text() == "草稿"

    day = (town.clock.now + timedelta(days=2)).date().isoformat()
    page.fill("textarea[name=description]", f"中国福利彩票双色球 {day} 开奖号码：红球一组、蓝球一组")
    page.fill("input[name=published_on]", day)
    page.fill("input[name=value_sets]", "2")
    page.click("button:has-text('提交承诺')")
    page.wait_for_url(f"{plan_url}?done=committed")
    pools = page.locator("table.pools tbody tr")
    assert pools.count() == 2
    assert all(re.search(r"\b[0-9a-f]{64}\b", pools.nth(i).inner_text()) for i in range(2))  # each stratum's SHA-256
    assert "RFC 3797" in page.locator("dl.facts").nth(1).inner_text()
    _shot(page, "committed")

    town.clock.now += timedelta(days=3)  # the lottery has drawn; the office comes back to the plan
    page.goto(plan_url)
    page.wait_for_url(re.compile(r".*/console/sign-in.*"))
    _sign_in(page)
    page.wait_for_url(plan_url)
    page.fill("textarea[name=random_values]", "\n".join(" ".join(str(v) for v in s) for s in VALUES))
    page.click("button:has-text('抽取并公示')")
    page.wait_for_url(f"{plan_url}?done=drawn")

    file = httpx.get(f"{town.url}/api/v1/public/draws/{draw_id}", timeout=30).json()
    lists = page.locator("ol.selected")
    assert lists.count() == len(file["rfc3797"]["pools"])
    for i, pool in enumerate(file["rfc3797"]["pools"]):
        shown = [re.search(r"[0-9A-Z]{18}", item).group(0) for item in lists.nth(i).locator("li").all_inner_texts()]
        assert shown == pool["selected"]  # in selection order
    assert page.locator("table.assignment tbody tr").count() == len(file["assignments"]["entities"])
    _shot(page, "drawn")

    page.click("a[href='/public/']")
    page.wait_for_url(f"{town.url}/public/")
    assert TITLE in page.locator("body").inner_text()
    assert page.locator(f"a[href*='{draw_id}']").count() >= 1
