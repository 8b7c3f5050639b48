"""Small random-inspection directories and a finished draw, for the core's draw tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from xuncha_core.credit_code import check_character
from xuncha_core.inspections.commitment import randomness_source
from xuncha_core.inspections.directories import Conflict, Entity, Inspector
from xuncha_core.inspections.draw import Prepared, prepare, run_draw
from xuncha_core.inspections.plans import Plan

RISKS = ("low", "medium", "high")


def credit_code(n: int, prefix: str = "92350102MA") -> str:
    """A valid credit code (an individual business in Fuzhou's Gulou district) numbered ``n``."""
    body = f"{prefix}{n:0{17 - len(prefix)}d}"
    return body + check_character(body)


def entities(count: int) -> list[Entity]:
    return [
        Entity(
            credit_code(n),
            f"第{n}号商户",
            "餐饮" if n % 2 else "食品销售",
            f"大路{n}号",
            f"村{n % 4}",
            RISKS[n % 3],
        )
        for n in range(count)
    ]


def inspectors(count: int) -> list[Inspector]:
    return [Inspector(f"3501{n:05d}", f"执法员{n}", "城关市场监管所") for n in range(count)]


def plan(**changes: Any) -> Plan:
    data: dict[str, Any] = {
        "title": "2025年第四季度食品经营随机抽查",
        "matters": ["SC-01"],
        "strata": [
            {"id": "high", "name": "高风险", "filter": {"risks": ["high"]}, "percent": "10"},
            {"id": "ordinary", "name": "一般", "count": 3},
        ],
        "inspectors_per_entity": 2,
        "deadline": "2025-12-31",
    }
    data.update(changes)
    return Plan.from_dict(data)


SOURCE = randomness_source(
    "中国福利彩票双色球 2025年10月12日开奖号码（红球、蓝球各为一组）", date(2025, 10, 12), 2
)
VALUES = [[3, 9, 12, 20, 25, 31], [7]]


def prepared(entity_count: int = 60, inspector_count: int = 6) -> Prepared:
    ents, ins = entities(entity_count), inspectors(inspector_count)
    conflicts = [Conflict(ins[0].certificate, ents[2].credit_code, "relative")]
    return prepare(plan(), ents, ins, conflicts)


def draw_file(values: list[list[int]] | None = None) -> dict[str, Any]:
    p = prepared()
    commitment = p.commit(SOURCE, "2025-10-10T08:00:00Z")
    commitment["ledger_index"] = 41
    names = {e.credit_code: e.name for e in entities(60)}
    return run_draw(
        commitment=commitment,
        prepared=p,
        value_sets=values or VALUES,
        draw_id="draw-1",
        drawn_at="2025-10-13T09:00:00Z",
        entity_names=names,
    )
