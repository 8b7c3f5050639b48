"""Checking a whole imported directory table: every bad row, with its line and reason.

Nothing is imported unless the whole table is valid: ``parse_*`` either returns
every row or raises one ``ValidationError`` whose problems name each bad cell as
``rows.<line>.<column>`` with a sentence that starts "line <n>:". Headers may be
the Chinese ones offices use or the English keys; extra columns (序号...) are
ignored. ``*_table`` gives the same header and rows back for export.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TypeVar

from xuncha_core.errors import Problem, ValidationError
from xuncha_core.inspections.credit_codes import credit_code_problem
from xuncha_core.inspections.directories import (
    CONFLICT_KINDS,
    RISK_LEVELS,
    Conflict,
    Entity,
    Inspector,
    Matter,
)
from xuncha_core.inspections.directory_files import Table

T = TypeVar("T")
Cells = dict[str, str]


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    required: bool = True


COLUMNS: dict[str, tuple[Column, ...]] = {
    "entities": (
        Column("name", "名称"),
        Column("credit_code", "统一社会信用代码"),
        Column("type", "类型"),
        Column("address", "地址"),
        Column("village", "所在村"),
        Column("risk", "风险等级"),
        Column("tags", "标签", required=False),
    ),
    "inspectors": (
        Column("name", "姓名"),
        Column("certificate", "执法证号"),
        Column("unit", "单位"),
        Column("active", "在岗", required=False),
    ),
    "conflicts": (
        Column("inspector", "执法证号"),
        Column("entity", "统一社会信用代码"),
        Column("kind", "回避事由"),
        Column("note", "说明", required=False),
    ),
    "matters": (
        Column("code", "事项编号"),
        Column("name", "事项名称"),
        Column("legal_basis", "法律依据"),
        Column("authority", "实施主体", required=False),
    ),
}

_YES = {"是", "在岗", "yes", "y", "true", "1"}
_NO = {"否", "不在岗", "离岗", "no", "n", "false", "0"}


def parse_entities(table: Table, *, villages: Collection[str] | None = None) -> list[Entity]:
    """Entities; with ``villages`` (the town's village names and ids) each row must name one of them."""

    def build(line: int, c: Cells, bad: list[Problem]) -> Entity:
        if villages is not None and c["village"] and c["village"] not in villages:
            bad.append(
                _problem(
                    line,
                    "village",
                    "directory.unknown_village",
                    f"no village is called {c['village']!r}; use a village of the town or add it first",
                    f"没有名为 {c['village']!r} 的村（社区），请填写本镇的村（社区）或先添加",
                )
            )
        return _entity(line, c, bad)

    return _parse("entities", table, build, unique="credit_code")


def parse_inspectors(table: Table) -> list[Inspector]:
    return _parse("inspectors", table, _inspector, unique="certificate")


def parse_matters(table: Table) -> list[Matter]:
    return _parse("matters", table, _matter, unique="code")


def parse_conflicts(
    table: Table, *, inspectors: Collection[str], entities: Collection[str]
) -> list[Conflict]:
    """Conflicts naming only inspectors and entities the directories hold."""

    def build(line: int, c: Cells, bad: list[Problem]) -> Conflict:
        if c["inspector"] and c["inspector"] not in inspectors:
            bad.append(
                _problem(
                    line,
                    "inspector",
                    "directory.unknown_inspector",
                    f"no inspector has certificate {c['inspector']!r}; import the inspector first",
                    f"没有执法证号为 {c['inspector']!r} 的执法人员，请先导入该人员",
                )
            )
        if c["entity"] and c["entity"] not in entities:
            bad.append(
                _problem(
                    line,
                    "entity",
                    "directory.unknown_entity",
                    f"no entity has credit code {c['entity']!r}; import the entity first",
                    f"没有统一社会信用代码为 {c['entity']!r} 的检查对象，请先导入该对象",
                )
            )
        kind = _code_of(c["kind"], CONFLICT_KINDS)
        if kind is None:
            bad.append(_choice_problem(line, "kind", c["kind"], CONFLICT_KINDS))
        return Conflict(c["inspector"], c["entity"], kind or "", c["note"])

    return _parse("conflicts", table, build, unique=("inspector", "entity"))


def table_of(kind: str, items: Sequence[object]) -> tuple[list[str], list[list[str]]]:
    """Header (Chinese) and rows for export; reads back with ``parse_*``."""
    columns = COLUMNS[kind]
    rows = [[_cell(item, col.key) for col in columns] for item in items]
    return [col.zh for col in columns], rows


def _cell(item: object, key: str) -> str:
    value = getattr(item, key)
    if key == "tags":
        return "；".join(value)
    if key == "active":
        return "是" if value else "否"
    if key == "risk":
        return RISK_LEVELS[value][0]
    if key == "kind":
        return CONFLICT_KINDS[value][0]
    return str(value)


def _parse(
    kind: str,
    table: Table,
    build: Callable[[int, Cells, list[Problem]], T],
    *,
    unique: str | tuple[str, ...],
) -> list[T]:
    positions, problems = _header(kind, table.header)
    if problems:
        raise ValidationError.of(problems, code="directory.invalid_rows")
    items: list[T] = []
    seen: dict[tuple[str, ...], int] = {}
    keys = (unique,) if isinstance(unique, str) else unique
    for line, cells in table.rows:
        c = {key: (cells[i] if i < len(cells) else "") for key, i in positions.items()}
        bad = [_missing(line, col) for col in COLUMNS[kind] if col.required and not c.get(col.key)]
        item = build(line, c, bad)
        ident = tuple(c[k] for k in keys)
        if all(ident) and ident in seen:
            bad.append(
                _problem(
                    line,
                    keys[0],
                    "directory.duplicate",
                    f"{' / '.join(ident)} is already on line {seen[ident]}; keep one of the two rows",
                    f"{' / '.join(ident)} 与第 {seen[ident]} 行重复，请只保留一行",
                )
            )
        seen.setdefault(ident, line)
        problems.extend(bad)
        items.append(item)
    if problems:
        raise ValidationError.of(problems, code="directory.invalid_rows")
    return items


def _header(kind: str, header: Sequence[str]) -> tuple[dict[str, int], list[Problem]]:
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        for col in COLUMNS[kind]:
            if name in (col.zh, col.key) and col.key not in positions:
                positions[col.key] = i
    problems = [
        Problem(
            "header",
            "directory.missing_column",
            f"line 1: the header has no column {col.zh!r} ({col.key}); add it and import again",
            f"第 1 行：表头缺少 {col.zh!r} 列，请补上后重新导入",
        )
        for col in COLUMNS[kind]
        if col.required and col.key not in positions
    ]
    for col in COLUMNS[kind]:
        positions.setdefault(col.key, len(header) + 10_000)  # optional and absent: always ""
    return positions, problems


def _entity(line: int, c: Cells, bad: list[Problem]) -> Entity:
    reason = credit_code_problem(c["credit_code"]) if c["credit_code"] else None
    if reason:
        bad.append(_problem(line, "credit_code", "directory.bad_credit_code", reason[0], reason[1]))
    risk = _code_of(c["risk"], RISK_LEVELS)
    if risk is None and c["risk"]:
        bad.append(_choice_problem(line, "risk", c["risk"], RISK_LEVELS))
    tags = tuple(
        t.strip()
        for t in c["tags"].replace(";", "；").replace("，", "；").replace(",", "；").split("；")
        if t.strip()
    )
    return Entity(
        c["credit_code"], c["name"], c["type"], c["address"], c["village"], risk or "", tags
    )


def _inspector(line: int, c: Cells, bad: list[Problem]) -> Inspector:
    flag = c["active"].strip().lower()
    if flag and flag not in _YES | _NO:
        bad.append(
            _problem(
                line,
                "active",
                "directory.bad_choice",
                f"在岗 is {c['active']!r}; write 是 or 否",
                f"“在岗”为 {c['active']!r}，请填写“是”或“否”",
            )
        )
    return Inspector(c["certificate"], c["name"], c["unit"], flag not in _NO)


def _matter(line: int, c: Cells, bad: list[Problem]) -> Matter:
    return Matter(c["code"], c["name"], c["legal_basis"], c["authority"])


def _code_of(value: str, choices: dict[str, tuple[str, str]]) -> str | None:
    for code, (zh, en) in choices.items():
        if value in (code, zh, en):
            return code
    return None


def _choice_problem(
    line: int, key: str, value: str, choices: dict[str, tuple[str, str]]
) -> Problem:
    allowed_zh = "、".join(zh for zh, _ in choices.values())
    allowed_en = ", ".join(choices)
    return _problem(
        line,
        key,
        "directory.bad_choice",
        f"{value!r} is not one of {allowed_en}",
        f"{value!r} 不在可选值中（{allowed_zh}）",
    )


def _missing(line: int, col: Column) -> Problem:
    return _problem(
        line,
        col.key,
        "directory.missing_value",
        f"{col.zh} ({col.key}) is empty; fill it in",
        f"“{col.zh}”为空，请填写",
    )


def _problem(line: int, key: str, code: str, en: str, zh: str) -> Problem:
    return Problem(f"rows.{line}.{key}", code, f"line {line}: {en}", f"第 {line} 行：{zh}")
