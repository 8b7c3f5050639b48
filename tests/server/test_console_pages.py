"""The office console over HTTP, as a browser uses it (issue 10): what is escaped, what is refused,
who sees what, and what the exports hold.

One server per backend serves the whole module: the town is set up once (a user of every
role, a village, a cleaner, records whose every free-text field holds an injection payload)
and each test reads or adds to it without undoing another's.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from tests.support.console import post_form, post_sign_in, session_token, signed_in
from tests.support.databases import backends, fresh_database
from tests.support.draws import credit_code
from tests.support.live_server import LiveServer
from tests.support.records import Member, member, remediation_content
from xuncha_core.inspections.directory_files import write_csv

PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert(1)>\"'&"
RAW = ("<script>alert", "<img src=x")
MONTH = "2026-11"
ROLES = ("supervisor", "officer", "office_reviewer", "legal_reviewer", "admin", "auditor")


class Town:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.admin = member(server, "u_admin", "admin")
        self.members = {r: self.admin if r == "admin" else member(server, f"u_{r}", r, admin=self.admin) for r in ROLES}
        with self.admin.client() as c:
            c.post("/api/v1/users", json={"username": "u_named", "role": "supervisor", "password": "password-123",
                                          "display_name": PAYLOAD, "unit": PAYLOAD}).raise_for_status()
            c.put("/api/v1/reference/village/v1", json={"name": "石门村" + PAYLOAD, "name_en": PAYLOAD}).raise_for_status()
            c.put("/api/v1/reference/village/v2", json={"name": "蒲花村"}).raise_for_status()
            c.put("/api/v1/reference/cleaner/c1", json={"name": PAYLOAD, "village_id": "v1", "active": True}).raise_for_status()
            self.draw_id = self.plan(c)
        self.records = [self.check("v1", 99.5), self.check("v2", 80), self.check("v2", 70, month="2026-10")]

    def plan(self, c: httpx.Client) -> str:
        """A random-inspection plan, committed, whose matter, entity and texts hold the payload."""
        for kind, header, row in (("matters", ["事项编号", "事项名称", "法律依据"], ["m-1", PAYLOAD, PAYLOAD]),
                                  ("entities", ["名称", "统一社会信用代码", "类型", "地址", "所在村", "风险等级"],
                                   [PAYLOAD, credit_code(1), PAYLOAD, PAYLOAD, "v1", "high"])):
            c.post(f"/api/v1/inspections/directories/{kind}", content=write_csv(header, [row]),
                   headers={"Content-Type": "text/csv"}).raise_for_status()
        draw = c.post("/api/v1/inspections/draws", json={
            "title": PAYLOAD, "matters": ["m-1"], "inspectors_per_entity": 2, "deadline": "2099-12-31",
            "strata": [{"id": "a", "name": PAYLOAD, "filter": {"types": [PAYLOAD]}, "count": 1}]})
        draw.raise_for_status()
        draw_id: str = draw.json()["id"]
        c.post(f"/api/v1/inspections/draws/{draw_id}/commitment", json={"randomness": {
            "description": PAYLOAD, "published_on": "2099-01-01", "value_sets": 1}}).raise_for_status()
        return draw_id

    def check(self, village: str, score: float, month: str = MONTH) -> str:
        supervisor: Member = self.members["supervisor"]
        did, oid = str(uuid.uuid4()), str(uuid.uuid4())
        content = remediation_content(
            village, month, note=PAYLOAD, total_score=score,
            deductions=[{"deduction_id": did, "item_id": "public_areas", "rule_id": "exposed_rubbish", "count": 1,
                         "points": 0.5, "note": PAYLOAD, "photos": [], "location": None}],
            orders=[{"order_id": oid, "title": PAYLOAD, "description": PAYLOAD, "deduction_ids": [did],
                     "deadline": f"{month}-20", "responsible": PAYLOAD}],
            cleaner_ratings=[{"cleaner_id": "c1", "absent_days": 1, "late_minutes": 0, "left_post_times": 0,
                              "dirty_spots": 2, "score": 93}],
        )
        envelope = supervisor.envelope(content=content)
        with supervisor.client() as c:
            c.post("/api/v1/records", json=envelope).raise_for_status()
        return envelope["record_id"]

    def console(self, role: str) -> httpx.Client:
        return signed_in(self.server.url, f"u_{role}")


@pytest.fixture(scope="module", params=backends())
def town(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    tmp: Path = tmp_path_factory.mktemp("console")
    with fresh_database(request.param, tmp) as url:
        server = LiveServer(tmp / "data", url).start()
        try:
            yield Town(server)
        finally:
            server.stop()


def _approve_all(town: Town) -> None:
    office = town.console("office_reviewer")
    for rid in town.records:
        page = office.get(f"/console/records/{rid}").text
        if "待审核" in page:
            r = post_form(office, f"/console/records/{rid}/review", {"action": "approve", "revision": "1"})
            assert r.status_code == 303, r.text[:300]


def test_every_free_text_field_comes_out_escaped_on_every_page(town: Town) -> None:
    office = town.console("office_reviewer")
    post_form(office, f"/console/records/{town.records[0]}/review", {"action": "comment", "revision": "1", "reason": PAYLOAD})
    _approve_all(town)
    admin = town.console("admin")
    pages = [
        "/console/", "/console/records", f"/console/records?village=v1&month={MONTH}", f"/console/orders?month={MONTH}",
        f"/console/ranking?month={MONTH}", f"/console/assessment?month={MONTH}", f"/console/report?month={MONTH}",
        "/console/users", "/console/devices", "/console/reference", "/console/reference/village/v1",
        "/console/reference/cleaner/c1", *(f"/console/records/{rid}" for rid in town.records),
        "/console/plans", "/console/plans/new", f"/console/plans/{town.draw_id}",
        "/console/directories?kind=entities", "/console/directories?kind=matters",
    ]
    shown = 0
    for path in pages:
        r = admin.get(path)
        assert r.status_code == 200, (path, r.status_code)
        for raw in RAW:
            assert raw not in r.text, f"{path} shows {raw!r} unescaped"
        shown += r.text.count("&lt;script&gt;alert(")
    assert shown >= len(pages)  # the payload is shown (escaped), not dropped


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(town: Town) -> None:
    office = town.console("office_reviewer")
    rid = town.check("v2", 90)
    for data in ({"action": "approve", "revision": "1"}, {"action": "approve", "revision": "1", "csrf_token": "forged"}):
        r = office.post(f"/console/records/{rid}/review", data=data)
        assert r.status_code == 403 and "表单已过期" in r.text
    with town.admin.client() as c:
        assert c.get(f"/api/v1/records/{rid}").json()["review_state"] == "submitted"
    # another user's token is no better than none
    r = post_form(office, f"/console/records/{rid}/review", {"action": "approve", "revision": "1",
                                                               "csrf_token": session_token(town.console("legal_reviewer"))}, csrf=False)
    assert r.status_code == 403


def test_field_roles_are_told_to_use_the_phone_and_get_no_session(town: Town) -> None:
    for role in ("supervisor", "officer"):
        client = httpx.Client(base_url=town.server.url, timeout=30)
        r = post_sign_in(client, f"u_{role}", "password-123")
        assert r.status_code == 403 and "巡查 App" in r.text
        assert "xuncha_console" not in client.cookies
        assert client.get("/console/", follow_redirects=False).status_code == 303


# route: roles that may use it (GET pages; POST forms get a form that fails after the gate)
READERS = ("office_reviewer", "legal_reviewer", "admin", "auditor")
OFFICE = ("office_reviewer", "admin")  # who plans and draws, as the API's OfficeActor
MATRIX: list[tuple[str, str, dict[str, str], tuple[str, ...]]] = [
    ("GET", "/console/", {}, READERS),
    ("GET", "/console/records", {}, READERS),
    ("GET", "/console/records?format=csv", {}, READERS),
    ("GET", "/console/records/{rid}", {}, READERS),
    ("GET", "/console/orders", {}, READERS),
    ("GET", "/console/ranking", {}, READERS),
    ("GET", "/console/assessment?format=xlsx", {}, READERS),
    ("GET", "/console/report", {}, READERS),
    ("GET", "/console/users", {}, READERS),
    ("GET", "/console/devices", {}, ("admin", "auditor")),
    ("GET", "/console/reference", {}, READERS),
    ("GET", "/console/reference/village/v1", {}, ("admin",)),
    ("GET", "/console/reference/calendar/2027", {}, ("admin",)),
    ("POST", "/console/records/{rid}/review", {"action": "comment", "revision": "1", "reason": "看过"},
     ("office_reviewer", "legal_reviewer")),
    ("POST", "/console/users", {"username": "x", "role": "nobody"}, ("admin",)),
    ("POST", "/console/users/u_supervisor/code", {}, ("office_reviewer", "admin")),
    ("POST", "/console/devices/no-such-device/revoke", {}, ("admin",)),
    ("POST", "/console/reference/cleaner", {"key": "c-matrix", "name": "测试"}, ("admin",)),
    ("POST", "/console/reference/village/no-such/delete", {}, ("admin",)),
    ("GET", "/console/plans", {}, READERS),
    ("GET", "/console/plans?format=xlsx", {}, READERS),
    ("GET", "/console/plans/new", {}, OFFICE),
    ("GET", "/console/plans/{did}", {}, READERS),
    ("POST", "/console/plans", {"title": "测试"}, OFFICE),
    ("POST", "/console/plans/{did}/commitment", {"description": "测试"}, OFFICE),
    ("POST", "/console/plans/{did}/draw", {"random_values": "x"}, OFFICE),
    ("GET", "/console/directories", {}, OFFICE),
    ("GET", "/console/directories?kind=conflicts&format=csv", {}, OFFICE),
    ("POST", "/console/directories/matters/import", {}, OFFICE),
    ("GET", "/console/photos/" + "0" * 64, {}, READERS),
    ("POST", "/console/sign-out", {}, READERS),  # last: it ends each client's session
]
# Routes anyone may open: the sign-in page and form, the language switch, the style sheets.
OPEN = {("GET", "/console"), ("GET", "/console/sign-in"), ("POST", "/console/sign-in"), ("GET", "/console/lang/{lang}"),
        ("MOUNT", "/console/static")}


def test_the_role_matrix_lists_every_console_route(tmp_path: Path) -> None:
    from fastapi.routing import iter_route_contexts

    from server.app import create_app
    from server.infra.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    found = set()
    for route in iter_route_contexts(app.routes):
        if route.path.startswith("/console"):
            found |= {(m, route.path) for m in (route.methods or {"MOUNT"}) if m != "HEAD"}
    listed = {(m, p.split("?")[0].replace("{rid}", "{record_id}").replace("{did}", "{draw_id}")) for m, p, _, _ in MATRIX}
    listed = {(m, "/console/photos/{sha256}" if p.startswith("/console/photos/") else p) for m, p in listed}
    generic = {("GET", "/console/reference/{topic}/{key}"), ("POST", "/console/reference/{topic}"),
               ("POST", "/console/reference/{topic}/{key}/delete"), ("POST", "/console/users/{username}/code"),
               ("POST", "/console/devices/{device_id}/revoke"), ("POST", "/console/directories/{kind}/import")}
    concrete = {("GET", "/console/reference/village/v1"), ("GET", "/console/reference/calendar/2027"),
                ("POST", "/console/reference/cleaner"), ("POST", "/console/reference/village/no-such/delete"),
                ("POST", "/console/users/u_supervisor/code"), ("POST", "/console/devices/no-such-device/revoke"),
                ("POST", "/console/directories/matters/import")}
    assert found - OPEN == (listed - concrete) | generic
    app.state.engine.dispose()


def test_each_office_role_sees_and_does_only_what_it_may_on_every_console_route(town: Town) -> None:
    clients = {role: town.console(role) for role in READERS}
    anonymous = httpx.Client(base_url=town.server.url, timeout=30, follow_redirects=False)
    rid = town.records[0]
    for method, template, data, allowed in MATRIX:
        path = template.format(rid=rid, did=town.draw_id)
        for role, client in clients.items():
            r = client.get(path) if method == "GET" else post_form(client, path, data)
            if role in allowed:
                assert r.status_code != 403, (method, path, role, r.text[:300])
                assert r.status_code < 500, (method, path, role, r.text[:300])
            else:
                assert r.status_code == 403, (method, path, role, r.status_code)
        r = anonymous.get(path) if method == "GET" else anonymous.post(path, data=data)
        assert r.status_code in (303, 403), (path, r.status_code)  # to the sign-in page, or refused


def test_the_xlsx_export_holds_exactly_the_filtered_rows_with_chinese_intact(town: Town) -> None:
    # two rows pass the filter whatever ran before: the town's v2 check of the month and this one
    # (its v1 check and its v2 check of the month before must stay out)
    added = town.check("v2", 85)
    auditor = town.console("auditor")
    r = auditor.get("/console/records", params={"village": "v2", "month": MONTH, "format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content), read_only=True).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[1] == "类型" and header[2] == "村（社区）"
    with town.admin.client() as c:
        expected = {x["record_id"] for x in c.get("/api/v1/records", params={"village_id": "v2", "month": MONTH}).json()["records"]}
    assert {town.records[1], added} <= expected and not {town.records[0], town.records[2]} & expected
    assert {row[0] for row in body} == expected and len(body) == len(expected)
    assert all(row[2] == "蒲花村" and row[1] == "环境整治检查" for row in body)


def test_a_csv_export_cannot_smuggle_a_formula_into_excel(town: Town) -> None:
    with town.admin.client() as c:
        c.post("/api/v1/users", json={"username": "u_formula", "role": "officer", "password": "password-123",
                                      "display_name": "=HYPERLINK(\"http://x\")"}).raise_for_status()
    text = town.console("auditor").get("/console/users?format=csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text.replace(",=HYPERLINK", "\n=HYPERLINK")


def test_the_session_cookie_is_http_only_same_site_and_scoped_to_the_console(town: Town) -> None:
    client = httpx.Client(base_url=town.server.url, timeout=30)
    r = post_sign_in(client, "u_auditor", "password-123")
    cookie = r.headers["set-cookie"]
    assert "xuncha_console=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Path=/console" in cookie and "Secure" not in cookie
    # over HTTPS (a proxy on this machine says so), the cookie is Secure
    https = httpx.Client(base_url=town.server.url, timeout=30)
    r = post_sign_in(https, "u_auditor", "password-123", **{"X-Forwarded-Proto": "https"})
    assert "Secure" in r.headers["set-cookie"]


def test_signing_out_ends_the_session_and_revokes_its_device(town: Town) -> None:
    client = town.console("auditor")
    cookie = client.cookies["xuncha_console"]
    r = post_form(client, "/console/sign-out", {})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in")
    stale = httpx.Client(base_url=town.server.url, timeout=30, cookies={"xuncha_console": cookie})
    assert stale.get("/console/", follow_redirects=False).status_code == 303


def test_a_record_page_checks_its_ledger_receipt_and_names_things_in_words(town: Town) -> None:
    page = town.console("auditor").get(f"/console/records/{town.records[1]}").text
    assert "已核验" in page and "核验失败" not in page
    assert "蒲花村" in page and "u_supervisor" in page and "环境整治检查" in page


def test_chinese_first_with_an_english_switch_that_stays_on_the_console(town: Town) -> None:
    client = town.console("auditor")
    assert "审核队列" in client.get("/console/records").text
    r = client.get("/console/lang/en", params={"next": "/console/records?state=approved"})
    assert r.status_code == 303 and r.headers["location"] == "/console/records?state=approved"
    page = client.get("/console/records").text
    assert "Review queue" in page and '<html lang="en">' in page
    assert client.get("/console/lang/en", params={"next": "https://elsewhere.example/"}).headers["location"] == "/console/"


def test_a_major_decision_is_signed_off_by_the_legal_reviewer_in_the_console_after_the_office(town: Town) -> None:
    officer = town.members["officer"]
    content = {
        "task_id": "t-1", "plan_id": "p-2026", "entity_id": "e-01", "entity_credit_code": "92500114L3K8P2Q137",
        "inspectors": ["insp-1", "insp-2"], "matter_ids": ["m-1"], "result": "refused_inspection",
        "findings": PAYLOAD, "photos": [], "inspected_at": "2026-11-03T10:00:00+08:00", "recorder": "向军", "location": None,
    }
    envelope = officer.envelope(kind="inspection_result", content=content)
    with officer.client() as c:
        c.post("/api/v1/records", json=envelope).raise_for_status()
    path = f"/console/records/{envelope['record_id']}"
    office, legal = town.console("office_reviewer"), town.console("legal_reviewer")
    assert 'value="approve"' not in legal.get(path).text  # not the legal reviewer's step yet
    assert post_form(legal, f"{path}/review", {"action": "approve", "revision": "1"}).status_code == 403
    assert post_form(office, f"{path}/review", {"action": "approve", "revision": "1"}).status_code == 303
    page = legal.get(path).text
    assert "待法制审核" in page and "法制审核同意" in page
    assert 'value="approve"' not in office.get(path).text
    assert post_form(legal, f"{path}/review", {"action": "approve", "revision": "1"}).status_code == 303
    assert "已通过" in legal.get(path).text


def test_the_monthly_ranking_ranks_approved_checks_with_their_trend(town: Town) -> None:
    _approve_all(town)
    with town.admin.client() as c:
        approved = [x for x in c.get("/api/v1/records", params={"month": MONTH, "review_state": "approved"}).json()["records"]
                    if x["kind"] == "remediation_check"]
    scores = {x["village_id"]: x["envelope"]["content"]["total_score"] for x in approved}
    page = town.console("auditor").get(f"/console/ranking?month={MONTH}&format=csv").content.decode("utf-8-sig")
    rows = [line.split(",") for line in page.strip().splitlines()[1:]]
    assert [(r[0], r[2]) for r in rows] == [("1", f"{scores['v1']:.2f}"), ("2", f"{scores['v2']:.2f}")]
    assert rows[1][4] == f"{scores['v2'] - 70:.2f}"  # v2 scored 70 in the month before
