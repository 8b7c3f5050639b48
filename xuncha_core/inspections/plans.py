"""A random-inspection plan: the matters, the strata of entities, how many to draw, the deadline.

Each stratum filters the entity directory by type, village and risk level (an
empty filter lets everything through) and says how many to draw: a fixed count
or a percentage, rounded up ("at least 3%"), never more than the stratum holds.
An entity that passes several strata's filters belongs to the first of them, so
the strata never overlap. Candidates are numbered in ascending order of their
credit codes: the order RFC 3797 numbers a pool, fixed before any random value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from xuncha_core.errors import Problem, ValidationError
from xuncha_core.inspections.directories import RISK_LEVELS, Entity
from xuncha_core.inspections.rfc3797 import MAX_POOL

MIN_INSPECTORS = 2  # 行政处罚法 art. 42: at least two enforcement officers
MAX_INSPECTORS = 10
_STRATUM_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class Stratum:
    id: str
    name: str
    types: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    count: int | None = None
    percent: str | None = None  # a decimal string: "3", "2.5"

    def matches(self, entity: Entity) -> bool:
        return (
            (not self.types or entity.type in self.types)
            and (not self.villages or entity.village in self.villages)
            and (not self.risks or entity.risk in self.risks)
        )

    def selection_count(self, pool_size: int) -> int:
        """How many of ``pool_size`` candidates this stratum draws."""
        if self.count is not None:
            return min(self.count, pool_size)
        share = Fraction(Decimal(self.percent or "0")) * pool_size / 100
        return min(math.ceil(share), pool_size)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "filter": {
                "types": list(self.types),
                "villages": list(self.villages),
                "risks": list(self.risks),
            },
            "count": self.count,
            "percent": self.percent,
        }


@dataclass(frozen=True)
class Plan:
    title: str
    matters: tuple[str, ...]
    strata: tuple[Stratum, ...]
    inspectors_per_entity: int
    deadline: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "matters": list(self.matters),
            "strata": [s.as_dict() for s in self.strata],
            "inspectors_per_entity": self.inspectors_per_entity,
            "deadline": self.deadline.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, matters: Collection[str] | None = None) -> Plan:
        """A plan from its JSON form; every problem at once. ``matters`` are the codes on the list."""
        problems: list[Problem] = []
        title = _text(data, "title", problems)
        codes = _texts(data.get("matters"), "matters", problems)
        if not codes:
            problems.append(
                _p(
                    "matters",
                    "plan.no_matters",
                    "choose at least one inspection matter",
                    "请至少选择一项抽查事项",
                )
            )
        for code in codes:
            if matters is not None and code not in matters:
                problems.append(
                    _p(
                        "matters",
                        "plan.unknown_matter",
                        f"{code!r} is not on the list of inspection matters; add it to the list first",
                        f"{code!r} 不在随机抽查事项清单中，请先加入清单",
                    )
                )
        strata = _strata(data.get("strata"), problems)
        per_entity = data.get("inspectors_per_entity")
        if type(per_entity) is not int or not MIN_INSPECTORS <= per_entity <= MAX_INSPECTORS:
            problems.append(
                _p(
                    "inspectors_per_entity",
                    "plan.too_few_inspectors",
                    f"inspectors per entity must be a whole number from {MIN_INSPECTORS} to "
                    f"{MAX_INSPECTORS} (the law needs at least two); got {per_entity!r}",
                    f"每户执法人员数应为 {MIN_INSPECTORS} 至 {MAX_INSPECTORS} 的整数（法律要求至少两名）；"
                    f"收到 {per_entity!r}",
                )
            )
        deadline = _date(data.get("deadline"), problems)
        if problems:
            raise ValidationError.of(problems, code="plan.invalid")
        assert isinstance(per_entity, int) and deadline is not None
        return cls(title, tuple(codes), tuple(strata), per_entity, deadline)


def candidate_pools(plan: Plan, entities: Iterable[Entity]) -> list[tuple[Stratum, list[str]]]:
    """Each stratum with its candidates' credit codes, ascending (the RFC 3797 numbering 1..N)."""
    pools: dict[str, list[str]] = {s.id: [] for s in plan.strata}
    for entity in entities:
        for stratum in plan.strata:
            if stratum.matches(entity):
                pools[stratum.id].append(entity.credit_code)
                break
    return [(s, sorted(pools[s.id])) for s in plan.strata]


def _strata(raw: Any, problems: list[Problem]) -> list[Stratum]:
    if not isinstance(raw, list) or not raw:
        problems.append(
            _p(
                "strata",
                "plan.no_strata",
                "add at least one stratum of entities to draw from",
                "请至少设置一个抽查分组",
            )
        )
        return []
    out: list[Stratum] = []
    for n, item in enumerate(raw):
        where = f"strata.{n}"
        if not isinstance(item, Mapping):
            problems.append(
                _p(where, "plan.bad_stratum", "a stratum must be an object", "分组格式不正确")
            )
            continue
        sid = item.get("id")
        if (
            not isinstance(sid, str)
            or not _STRATUM_ID.fullmatch(sid)
            or any(s.id == sid for s in out)
        ):
            problems.append(
                _p(
                    f"{where}.id",
                    "plan.bad_stratum_id",
                    f"stratum id {sid!r} must be unique, 1-32 lower-case letters, digits, - or _",
                    f"分组编号 {sid!r} 须唯一，由 1 至 32 位小写字母、数字、-、_ 组成",
                )
            )
        flt = item.get("filter") or {}
        risks = _texts(flt.get("risks"), f"{where}.filter.risks", problems)
        for risk in risks:
            if risk not in RISK_LEVELS:
                problems.append(
                    _p(
                        f"{where}.filter.risks",
                        "plan.bad_risk",
                        f"risk level {risk!r} is not one of {', '.join(RISK_LEVELS)}",
                        f"风险等级 {risk!r} 不在可选值中",
                    )
                )
        count, percent = _amount(item, where, problems)
        out.append(
            Stratum(
                sid if isinstance(sid, str) else "",
                _text(item, "name", problems, where),
                tuple(_texts(flt.get("types"), f"{where}.filter.types", problems)),
                tuple(_texts(flt.get("villages"), f"{where}.filter.villages", problems)),
                tuple(risks),
                count,
                percent,
            )
        )
    return out


def _amount(
    item: Mapping[str, Any], where: str, problems: list[Problem]
) -> tuple[int | None, str | None]:
    count, percent = item.get("count"), item.get("percent")
    ok_count = type(count) is int and 0 < count <= MAX_POOL
    ok_percent = False
    if isinstance(percent, str):
        try:
            ok_percent = (
                Decimal(0) < Decimal(percent) <= Decimal(100) and Decimal(percent).is_finite()
            )
        except InvalidOperation:
            ok_percent = False
    if (
        (count is None) == (percent is None)
        or (count is not None and not ok_count)
        or (percent is not None and not ok_percent)
    ):
        problems.append(
            _p(
                where,
                "plan.bad_amount",
                "give either a count (a whole number above 0) or a percentage as text "
                f"(above 0, at most 100) for each stratum; got count={count!r}, percent={percent!r}",
                "每个分组须填写抽取户数（正整数）或抽取比例（大于 0、不超过 100），二者只填其一",
            )
        )
        return None, None
    return (count if ok_count else None), (percent if ok_percent else None)


def _text(data: Mapping[str, Any], key: str, problems: list[Problem], where: str = "") -> str:
    value = data.get(key)
    path = f"{where}.{key}" if where else key
    if not isinstance(value, str) or not value.strip():
        problems.append(
            _p(path, "plan.missing_text", f"{path} is empty; fill it in", f"{path} 为空，请填写")
        )
        return ""
    return value.strip()


def _texts(value: Any, path: str, problems: list[Problem]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(
            _p(path, "plan.bad_list", f"{path} must be a list of texts", f"{path} 应为文本列表")
        )
        return []
    return list(value)


def _date(value: Any, problems: list[Problem]) -> date | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(
        _p(
            "deadline",
            "plan.bad_deadline",
            f"the deadline must be a date as YYYY-MM-DD; got {value!r}",
            f"截止日期应为 YYYY-MM-DD 格式的日期；收到 {value!r}",
        )
    )
    return None


def _p(path: str, code: str, en: str, zh: str) -> Problem:
    return Problem(path, code, en, zh)
