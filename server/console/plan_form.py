"""The plan and draw forms, read into exactly what the API takes (``POST /api/v1/inspections/draws`` and
its ``commitment`` and ``random-values`` bodies), so the same services judge them.

The form does no checking of its own beyond turning text into numbers: a plan is
judged by ``Plan.from_dict`` and a commitment by the draw service, whose problems the
page shows beside the form. A stratum row left entirely blank is not part of the plan;
rows are numbered ``s1``, ``s2``... in the order they appear.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xuncha_core.errors import Problem, ValidationError

STRATUM_ROWS = 4
TEXT_LIMIT = 200
_NUMBER = re.compile(r"\d{1,6}")


@dataclass
class PlanForm:
    """What the office typed, kept to fill the form again when the plan is refused."""

    title: str = ""
    matters: list[str] = field(default_factory=list)
    strata: list[dict[str, Any]] = field(default_factory=list)
    inspectors_per_entity: str = "2"
    deadline: str = ""

    def as_plan(self) -> dict[str, Any]:
        """The plan's JSON as the API takes it."""
        strata = []
        for n, row in enumerate(self.strata, start=1):
            if _blank(row):
                continue
            stratum: dict[str, Any] = {
                "id": f"s{n}",
                "name": row["name"],
                "filter": {"types": row["types"], "villages": row["villages"], "risks": row["risks"]},
            }
            if row["count"]:
                stratum["count"] = int(row["count"]) if _NUMBER.fullmatch(row["count"]) else row["count"]
            if row["percent"]:
                stratum["percent"] = row["percent"]
            strata.append(stratum)
        per = self.inspectors_per_entity
        return {
            "title": self.title,
            "matters": self.matters,
            "strata": strata,
            "inspectors_per_entity": int(per) if _NUMBER.fullmatch(per) else per,
            "deadline": self.deadline,
        }


def read_plan(get: Callable[[str], str], get_all: Callable[[str], list[str]]) -> PlanForm:
    """The plan form from a form's ``get`` (one stripped value) and ``get_all`` (every value of a name)."""
    strata = []
    for n in range(1, STRATUM_ROWS + 1):
        strata.append({
            "name": get(f"s{n}_name"),
            "types": get_all(f"s{n}_types"),
            "villages": get_all(f"s{n}_villages"),
            "risks": get_all(f"s{n}_risks"),
            "count": get(f"s{n}_count"),
            "percent": get(f"s{n}_percent"),
        })
    return PlanForm(get("title"), get_all("matters"), strata, get("inspectors_per_entity") or "2", get("deadline"))


def empty_plan() -> PlanForm:
    return PlanForm(strata=[{"name": "", "types": [], "villages": [], "risks": [], "count": "", "percent": ""}
                            for _ in range(STRATUM_ROWS)])


def randomness(get: Callable[[str], str]) -> dict[str, Any]:
    """The ``randomness`` of a commitment: the source named in words, its publication day, how many sets."""
    sets = get("value_sets")
    return {
        "description": get("description"),
        "published_on": get("published_on"),
        "value_sets": int(sets) if _NUMBER.fullmatch(sets) else sets,
    }


def value_sets(text: str) -> list[list[int]]:
    """The published random values, one set a line, numbers separated by spaces, commas or 、."""
    sets: list[list[int]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = [p for p in re.split(r"[\s,，、;；]+", line) if p]
        if not parts:
            continue
        if not all(_NUMBER.fullmatch(p) for p in parts):
            raise ValidationError.of([Problem(
                "random_values", "console.bad_values",
                f"line {n}: write each set of published numbers as whole numbers separated by spaces",
                f"第 {n} 行：每组公布的号码请写成以空格分隔的整数",
            )], code="console.bad_values")
        sets.append([int(p) for p in parts])
    if not sets:
        raise ValidationError.of([Problem(
            "random_values", "console.no_values", "enter the published numbers, one set a line",
            "请录入公布的号码，每组一行",
        )], code="console.no_values")
    return sets


def problems_shown(exc: ValidationError, lang: str, label: Callable[[str], str]) -> list[str]:
    """Each problem as one sentence in ``lang``, led by the name of the field it concerns."""
    out = []
    for p in exc.problems or [Problem("", exc.code, exc.message, exc.message_zh)]:
        message = (p.message_zh or p.message) if lang == "zh" else p.message
        where = label(p.path)
        out.append(f"{where}: {message}" if where else message)
    return out


def field_label(path: str, plan: Mapping[str, Any], t: Callable[..., str]) -> str:
    """The words naming the field a problem's path points at ('' when none fits); a stratum by its form row."""
    head, _, rest = path.partition(".")
    if head == "strata" and rest:
        index = rest.split(".")[0]
        strata = plan.get("strata") or []
        if index.isdigit() and int(index) < len(strata):
            return t("plan.stratum_row", row=str(strata[int(index)]["id"])[1:])
    key = {
        "title": "plan.title_field", "matters": "plan.matters", "strata": "plan.strata",
        "inspectors_per_entity": "plan.per_entity", "deadline": "plan.deadline",
        "randomness": "plan.source", "random_values": "plan.values",
    }.get(head, "")
    return t(key) if key else ""


def _blank(row: Mapping[str, Any]) -> bool:
    return not any(row[k] for k in ("name", "types", "villages", "risks", "count", "percent"))
