"""``xuncha-server demo``: fill a fresh data folder with a realistic town, for trying Xuncha out.

The town (``assets/config/demo_town.json``) is a Chongqing mountain township with
six villages and communities, its cleaners, an entity directory (valid unified
social credit codes), an inspector directory, and users of every role. Months of
records are written through the same code as real ones (intake, photo store,
reviews, reference data), so every one is in the ledger: monthly remediation
checks with photo evidence and rectification orders, re-checks that close them,
and random-inspection results; most are reviewed, some sent back and corrected.

Demo accounts share one password, printed at the end. They are for trying the
software only: a real deployment starts with no users, and this command refuses
to run on a database that has any.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from server.accounts import accounts
from server.accounts.accounts import Actor
from server.demo.photos import scene_jpeg
from server.infra import clock
from server.infra import tables as t
from server.infra.settings import Settings
from server.infra.writer import write
from server.inspections import demo_draw
from server.photos import store as photo_store
from server.records import intake, reviews
from server.reference import feed as changes
from xuncha_core import review_flow
from xuncha_core.assessment import CleanerRating, assess_cleaner
from xuncha_core.content import validate_content
from xuncha_core.credit_code import is_credit_code
from xuncha_core.errors import ConflictError
from xuncha_core.inspection_results import NOTHING_FOUND, RESULT_CATEGORIES
from xuncha_core.points import points_json
from xuncha_core.scoring import Deduction, deduction_points, score_check
from xuncha_core.sheet import ScoringSheet, parse_sheet

CONFIG = Path(__file__).resolve().parents[2] / "assets" / "config"
TOWN = CONFIG / "demo_town.json"
SHEET = CONFIG / "scoring_sheet.sample.json"
DEMO_PASSWORD = "xuncha-demo-2025"
BASE_LOCATION = (29.47, 108.80)  # Qianjiang district, Chongqing
SEND_BACK_REASONS = (
    "扣分照片看不清垃圾桶满溢的位置，请补拍一张全景照片。",
    "整改期限写错了，请按评分表重新填写。",
    "保洁员考核缺少一名保洁员，请补充。",
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    password: str


def fill(engine: Engine, settings: Settings, *, records: int = 60, today: date | None = None) -> list[DemoAccount]:
    """Write the demo town and ``records`` records in one transaction; answer the demo accounts."""
    town = json.loads(TOWN.read_text(encoding="utf-8"))
    sheet_json = json.loads(SHEET.read_text(encoding="utf-8"))
    sheet = parse_sheet(sheet_json)
    bad = [e["credit_code"] for e in town["entities"] if not is_credit_code(e["credit_code"])]
    if bad:
        raise ValueError(f"demo_town.json has invalid credit codes: {bad}")
    day = today or clock.utc_now().date()

    def fill_town(conn: Connection) -> list[DemoAccount]:
        if conn.execute(select(func.count()).select_from(t.users)).scalar_one():
            raise not_fresh()
        made = _accounts(conn, town)
        _reference_data(conn, town, sheet_json)
        demo_draw.fill(conn, today=day)
        actors = {
            u["username"]: _enroll(conn, u["username"])
            for u in town["users"]
            if u["role"] in (*accounts.FIELD_ROLES, "office_reviewer", "legal_reviewer")
        }
        Town(conn, settings, town, sheet, actors, random.Random(2025)).write_records(records, day)
        return made

    return write(engine, fill_town)


def not_fresh() -> ConflictError:
    """The database already has users: demo data is only for a fresh installation."""
    return ConflictError(
        "demo.not_fresh",
        "This database already has users; demo data is only for a fresh installation. "
        "Point XUNCHA_DATA_DIR (and XUNCHA_DATABASE_URL) at an empty folder.",
        "数据库中已有用户，演示数据只能写入全新安装。",
    )


def accounts_table(made: list[DemoAccount]) -> str:
    lines = [
        "DEMO ACCOUNTS, FOR TRYING XUNCHA ONLY / 演示账号，仅供试用 (never use them in a real deployment):",
        f"  {'username':<12} {'role':<16} {'name':<10} password",
    ]
    lines += [f"  {a.username:<12} {a.role:<16} {a.display_name:<10} {a.password}" for a in made]
    return "\n".join(lines)


def _accounts(conn: Connection, town: dict[str, Any]) -> list[DemoAccount]:
    made = []
    for u in town["users"]:
        accounts.create_user(
            conn,
            username=u["username"],
            role=u["role"],
            password=DEMO_PASSWORD,
            display_name=u["display_name"],
            cert_no=u.get("cert_no"),
            unit=u.get("unit"),
            created_by="demo",
        )
        made.append(DemoAccount(u["username"], u["display_name"], u["role"], DEMO_PASSWORD))
    return made


def _reference_data(conn: Connection, town: dict[str, Any], sheet_json: dict[str, Any]) -> None:
    def put(topic: str, key: str, payload: dict[str, Any]) -> None:
        changes.set_reference(conn, topic=topic, key=key, payload=payload, by=None)

    put("setting", "town", town["town"])
    put("setting", "inspection_matters", {"matters": town["matters"]})
    put("scoring_sheet", sheet_json["id"], sheet_json)
    for v in town["villages"]:
        put("village", v["id"], {**{k: v[k] for k in v if k != "id"}, "sheet_id": sheet_json["id"]})
    for c in town["cleaners"]:
        put("cleaner", c["id"], {k: c[k] for k in c if k != "id"})
    for e in town["entities"]:
        put("entity", e["id"], {k: e[k] for k in e if k != "id"})
    for i in town["inspectors"]:
        put("inspector", i["id"], {k: i[k] for k in i if k != "id"})


def _enroll(conn: Connection, username: str) -> Actor:
    got = accounts.enroll_with_password(
        conn, username=username, password=DEMO_PASSWORD, device_name="演示手机 demo phone", kind="phone"
    )
    user = got["user"]
    return Actor(user["user_id"], user["username"], user["display_name"], user["role"], got["device_id"])


class Town:
    """Writes months of field work for the demo town, in time order."""

    def __init__(self, conn: Connection, settings: Settings, town: dict[str, Any], sheet: ScoringSheet,
                 actors: dict[str, Actor], rng: random.Random) -> None:
        self.conn, self.settings, self.town, self.sheet, self.actors, self.rng = conn, settings, town, sheet, actors, rng
        self.events: list[tuple[datetime, int, Any]] = []
        self.supervisor_of = {v: u["username"] for u in town["users"] for v in u.get("villages", [])}
        self.villages = {v["id"]: v for v in town["villages"]}
        self.officers = [u["username"] for u in town["users"] if u["role"] == "officer"]
        self.inspector_of = {i.get("username"): i["id"] for i in town["inspectors"]}

    # -- planning --------------------------------------------------------------------------
    def write_records(self, count: int, today: date) -> None:
        months = max(3, -(-count // 9))
        first = date(today.year, today.month, 1)
        for back in range(months, 0, -1):
            start = _add_months(first, -back)
            self._plan_month(start, latest=back == 1)
        plans = sorted(self.events, key=lambda e: (e[0], e[1]))[-count:]  # the latest months are whole
        steps: list[tuple[datetime, int, Any]] = []
        for when, order, plan in plans:
            steps.append((when, order, plan))
            steps += plan.get("after", [])
        pending_photo = next((p for _, _, p in reversed(plans) if p["photos"]), None)
        for when, _, step in sorted(steps, key=lambda e: (e[0], e[1])):
            if "review" in step:
                self._review(step, when)
            else:
                self._submit(step, when, skip_photo=step is pending_photo)

    def _plan_month(self, start: date, *, latest: bool) -> None:
        month = start.strftime("%Y-%m")
        for n, village_id in enumerate(self.villages):
            day = start + timedelta(days=7 + 2 * n + self.rng.randint(0, 2))
            when = datetime(day.year, day.month, day.day, self.rng.randint(1, 7), self.rng.randint(0, 59), tzinfo=UTC)
            plan = self._check(village_id, month, when)
            self._decide(plan, when, latest)
            self.events.append((when, len(self.events), plan))
            for order in plan["content"]["orders"]:
                if self.rng.random() < 0.6:
                    later = when + timedelta(days=self.rng.randint(3, 6), hours=2)
                    recheck = self._recheck(plan, order, later)
                    self._decide(recheck, later, latest)
                    self.events.append((later, len(self.events), recheck))
        for k in range(self.rng.randint(1, 2)):
            day = start + timedelta(days=12 + 5 * k)
            when = datetime(day.year, day.month, day.day, 2 + k, 30, tzinfo=UTC)
            plan = self._inspection(month, k, when)
            self._decide(plan, when, latest)
            self.events.append((when, len(self.events), plan))

    def _decide(self, plan: dict[str, Any], when: datetime, latest: bool) -> None:
        """Plan the office's decision: the latest month waits for review; older ones mostly pass."""
        if latest:
            return
        roll = self.rng.random()
        reviewer = "zhou.hb"  # the office decides first; a major decision then waits for tan.lj (法制审核)
        at = when + timedelta(days=2, hours=1)
        if roll < 0.15 and plan["kind"] == "remediation_check":
            reason = self.rng.choice(SEND_BACK_REASONS)
            fix_at = at + timedelta(days=1)
            plan["after"] = [(at, 0, {"review": plan, "revision": 1, "action": "send_back", "reason": reason, "by": reviewer})]
            if self.rng.random() < 0.6:  # corrected and approved; the others still wait for their author
                plan["after"] += [
                    (fix_at, 0, {**plan, "revision": 2, "fix": True, "after": []}),
                    (fix_at + timedelta(days=1), 0, {"review": plan, "revision": 2, "action": "approve", "by": reviewer}),
                ]
        elif roll < 0.19:
            plan["after"] = [(at, 0, {"review": plan, "revision": 1, "action": "reject",
                                      "reason": "该记录与本月另一条检查记录重复。", "by": reviewer})]
        else:
            plan["after"] = [(at, 0, {"review": plan, "revision": 1, "action": "approve", "by": reviewer})]
            # most major decisions are signed off a day later; a few still wait (no draw: the rest stays as it was)
            if review_flow.is_major(plan["kind"], plan["content"]) and int(plan["record_id"][:2], 16) % 10 < 7:
                plan["after"].append((at + timedelta(days=1), 0, {"review": plan, "revision": 1, "action": "approve",
                                                                   "by": "tan.lj"}))

    # -- record contents -------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _location(self) -> dict[str, Any]:
        lat, lon = BASE_LOCATION
        return {"lat": round(lat + self.rng.uniform(-0.05, 0.05), 6), "lon": round(lon + self.rng.uniform(-0.05, 0.05), 6),
                "accuracy_m": self.rng.choice([5, 8, 12, 20]), "source": "gps"}

    def _photo(self, seed: str, caption: str, *, tidy: bool = False) -> tuple[str, bytes]:
        data = scene_jpeg(seed, caption, tidy=tidy)
        return hashlib.sha256(data).hexdigest(), data

    def _check(self, village_id: str, month: str, when: datetime) -> dict[str, Any]:
        village = self.villages[village_id]
        author = self.supervisor_of[village_id]
        photos: dict[str, bytes] = {}
        deductions: list[dict[str, Any]] = []
        scored: list[Deduction] = []
        for _ in range(self.rng.choice([0, 1, 1, 2, 2, 3, 4])):
            item = self.rng.choice([i for i in self.sheet.items if i.id != "open_burning"])
            rule = self.rng.choice(item.rules)
            count = self.rng.randint(1, 3) if rule.max_units is None else 1
            if any(d["rule_id"] == rule.id for d in deductions):
                continue
            sha, data = self._photo(f"{village_id}-{month}-{rule.id}", f"{village['name']} {rule.name} ×{count}  {when:%Y-%m-%d}")
            photos[sha] = data
            deductions.append({
                "deduction_id": self._uuid(), "item_id": item.id, "rule_id": rule.id, "count": count,
                "points": points_json(deduction_points(item, rule, count)),
                "note": f"{village['name']}{self.rng.choice(['村口', '学校旁', '河边', '集市', '公路边'])}",
                "photos": [sha], "location": self._location(),
            })
            scored.append(Deduction(item.id, rule.id, count))
        ratings = []
        for c in (c for c in self.town["cleaners"] if c["village_id"] == village_id):
            rating = CleanerRating(c["id"], absent_days=self.rng.choice([0, 0, 0, 1]), late_minutes=self.rng.choice([0, 0, 12, 25]),
                                   left_post_times=self.rng.choice([0, 0, 0, 1]), dirty_spots=self.rng.randint(0, 4))
            score = assess_cleaner(rating, self.sheet.cleaner_assessment).score
            ratings.append({"cleaner_id": c["id"], "absent_days": rating.absent_days, "late_minutes": rating.late_minutes,
                            "left_post_times": rating.left_post_times, "dirty_spots": rating.dirty_spots,
                            "score": points_json(score)})
        orders = []
        if deductions:
            orders.append({
                "order_id": self._uuid(), "title": f"{village['name']}{month}环境整治整改通知",
                "description": "请在期限内完成整改，并拍摄整改后照片。",
                "deduction_ids": [d["deduction_id"] for d in deductions],
                "deadline": (when.date() + timedelta(days=7)).isoformat(), "responsible": f"{village['name']}村（居）委会",
            })
        content = {
            "village_id": village_id, "month": month, "sheet_id": self.sheet.id, "sheet_version": self.sheet.version,
            "inspected_at": _local(when), "recorder": self.actors[author].display_name, "location": self._location(),
            "deductions": deductions, "cleaner_ratings": ratings,
            "total_score": points_json(score_check(self.sheet, scored).total), "orders": orders,
        }
        return self._plan("remediation_check", author, content, photos, when)

    def _recheck(self, check: dict[str, Any], order: dict[str, Any], when: datetime) -> dict[str, Any]:
        content = check["content"]
        village = self.villages[content["village_id"]]
        sha, data = self._photo(f"after-{order['order_id']}", f"{village['name']} 整改后  {when:%Y-%m-%d}", tidy=True)
        recheck = {
            "order_id": order["order_id"], "check_record_id": check["record_id"], "village_id": content["village_id"],
            "month": content["month"], "after_photos": [sha], "note": "已清理完毕。", "resolved": True,
            "rechecked_at": _local(when), "recorder": content["recorder"], "location": self._location(),
        }
        return self._plan("recheck", check["author"], recheck, {sha: data}, when)

    def _inspection(self, month: str, k: int, when: datetime) -> dict[str, Any]:
        entity = self.rng.choice(self.town["entities"])
        author = self.rng.choice(self.officers)
        partner = self.rng.choice([i["id"] for i in self.town["inspectors"] if i["id"] != self.inspector_of[author]])
        result = self.rng.choice(["no_problem", "no_problem", "problem_corrected", "problem_pending", "info_not_published"])
        sha, data = self._photo(f"insp-{entity['id']}-{month}", f"{entity['name'][:14]} 现场检查  {when:%Y-%m-%d}")
        content = {
            "task_id": f"task-{month}-{k + 1}", "plan_id": f"plan-{month[:4]}", "entity_id": entity["id"],
            "entity_credit_code": entity["credit_code"], "inspectors": [self.inspector_of[author], partner],
            "matter_ids": ["m-env-01"], "result": result,
            "findings": "" if result in NOTHING_FOUND else f"{RESULT_CATEGORIES[result][0]}：经营场所周边垃圾未及时清运。",
            "photos": [sha], "inspected_at": _local(when), "recorder": self.actors[author].display_name,
            "location": self._location(),
        }
        return self._plan("inspection_result", author, content, {sha: data}, when)

    def _plan(self, kind: str, author: str, content: dict[str, Any], photos: dict[str, bytes], when: datetime) -> dict[str, Any]:
        problems = validate_content(kind, content, sheet=self.sheet)
        if problems:
            raise ValueError(f"demo {kind} is invalid: {problems}")
        return {"kind": kind, "author": author, "content": content, "photos": photos, "record_id": self._uuid(),
                "revision": 1, "when": when}

    # -- writing ---------------------------------------------------------------------------
    def _submit(self, plan: dict[str, Any], when: datetime, *, skip_photo: bool) -> None:
        actor = self.actors[plan["author"]]
        content = dict(plan["content"])
        if plan.get("fix"):
            content["note"] = "已按退回意见补充更正。"
        shas = list(plan["photos"])
        for n, sha in enumerate(shas):
            if skip_photo and n == len(shas) - 1:
                continue  # this record shows "photos pending" in the office
            photo_store.store_photo(self.conn, settings=self.settings, source=plan["photos"][sha],
                                    expected_sha256=sha, uploaded_by=actor.username)
        envelope = {
            "record_id": plan["record_id"], "kind": plan["kind"], "revision": plan["revision"],
            "base_revision": None if plan["revision"] == 1 else plan["revision"] - 1,
            "author": actor.username, "device_id": actor.device_id,
            "device_time": _local(when - timedelta(minutes=self.rng.randint(1, 50))),
            "gps_time": (when - timedelta(minutes=1)).isoformat(timespec="seconds"),
            "content": content, "photos": shas,
        }
        if plan["revision"] > 1:  # built on the revision the server holds, named by its digest
            rv = t.record_revisions
            envelope["base_digest"] = self.conn.execute(
                select(rv.c.digest).where(rv.c.record_id == plan["record_id"], rv.c.revision == plan["revision"] - 1)
            ).scalar_one()
        intake.submit(self.conn, actor=actor, data=envelope, received_at=when.isoformat(timespec="microseconds"))

    def _review(self, step: dict[str, Any], when: datetime) -> None:
        reviews.record_review(self.conn, record_id=step["review"]["record_id"], revision=step["revision"],
                              action=step["action"], reason=step.get("reason"), reviewer=self.actors[step["by"]],
                              at=when.isoformat(timespec="microseconds"))


def _local(when: datetime) -> str:
    """A device time as phones in Chongqing write it (UTC+8)."""
    return (when + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S+08:00")


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)
