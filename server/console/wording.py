"""A record's content in words: labels from the catalogue, names instead of ids.

``describe`` turns a kind's content into rows of (label, value) where a value is text or,
for a list of objects (deductions, orders, cleaner ratings), a small table. Ids become
the names the reference data gives them (villages, cleaners, inspectors, entities, the
scoring sheet's items and rules, result categories); an id with no name stays as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.console import catalogue
from server.infra.clock import BEIJING
from xuncha_core.inspection_results import RESULT_CATEGORIES

HIDDEN = frozenset({"photo_evidence", "photos", "after_photos"})  # shown as photos, not as text
ORDER = (
    "village_id", "month", "inspected_at", "rechecked_at", "assessed_at", "recorder", "task_id", "plan_id",
    "entity_id", "entity_credit_code", "inspectors", "matter_ids", "result", "findings", "order_id",
    "check_record_id", "resolved", "total_score", "sheet_id", "sheet_version", "location", "note",
    "deductions", "orders", "cleaner_ratings",
)


@dataclass
class Names:
    """Every name an id may stand for, read once per page."""

    villages: dict[str, dict[str, Any]] = field(default_factory=dict)
    cleaners: dict[str, dict[str, Any]] = field(default_factory=dict)
    inspectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    sheets: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)

    def of(self, table: Mapping[str, Mapping[str, Any]], key: Any, lang: str) -> str:
        payload = table.get(str(key)) if key is not None else None
        if not payload:
            return "" if key is None else str(key)
        name = payload.get("name_en") if lang == "en" and payload.get("name_en") else payload.get("name")
        return str(name or key)

    def village(self, key: Any, lang: str) -> str:
        return self.of(self.villages, key, lang)

    def user(self, username: str) -> str:
        name = self.users.get(username)
        return f"{name}（{username}）" if name and name != username else username

    def sheet_item(self, sheet_id: Any, item_id: Any, rule_id: Any, lang: str) -> tuple[str, str]:
        sheet = self.sheets.get(str(sheet_id)) or {}
        for item in sheet.get("items") or []:
            if item.get("id") == item_id:
                rule: dict[str, Any] = next((r for r in item.get("rules") or [] if r.get("id") == rule_id), {})
                return _named(item, lang, item_id), _named(rule, lang, rule_id)
        return str(item_id), str(rule_id)


@dataclass(frozen=True)
class Row:
    label: str
    text: str = ""
    columns: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()


def when(value: Any) -> str:
    """An ISO time as Beijing time, to the minute ("2025-03-14 09:30"), else as given."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(BEIJING).isoformat(sep=" ", timespec="minutes")[:16]


def describe(kind: str, content: Mapping[str, Any], names: Names, lang: str) -> list[Row]:
    t = _translator(lang)
    rows = []
    keys = [k for k in ORDER if k in content] + sorted(k for k in content if k not in ORDER)
    for key in keys:
        if key in HIDDEN:
            continue
        label = t(f"field.{key}") if f"field.{key}" in catalogue.CATALOGUE else key
        value = content[key]
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            columns, table = _table(key, value, content, names, lang)
            rows.append(Row(label, columns=columns, table=table))
        else:
            rows.append(Row(label, text=_value(key, value, names, lang)))
    return rows


def _table(key: str, items: list[Any], content: Mapping[str, Any], names: Names, lang: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    t = _translator(lang)
    fields: list[str] = []
    for item in items:
        fields += [f for f in item if f not in fields and f not in HIDDEN and f not in ("deduction_id", "deduction_ids")]
    columns = tuple(t(f"field.{f}") if f"field.{f}" in catalogue.CATALOGUE else f for f in fields)
    rows = []
    for item in items:
        cells = []
        for f in fields:
            if key == "deductions" and f in ("item_id", "rule_id"):
                item_name, rule_name = names.sheet_item(content.get("sheet_id"), item.get("item_id"), item.get("rule_id"), lang)
                cells.append(item_name if f == "item_id" else rule_name)
            else:
                cells.append(_value(f, item.get(f), names, lang))
        rows.append(tuple(cells))
    return columns, tuple(rows)


def _value(key: str, value: Any, names: Names, lang: str) -> str:
    t = _translator(lang)
    if value is None:
        return t("common.none")
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    simple: dict[str, Callable[[Any], str]] = {
        "village_id": lambda v: names.village(v, lang),
        "cleaner_id": lambda v: names.of(names.cleaners, v, lang),
        "entity_id": lambda v: names.of(names.entities, v, lang),
        "sheet_id": lambda v: names.of(names.sheets, v, lang),
        "result": lambda v: RESULT_CATEGORIES.get(v, (v, v))[1 if lang == "en" else 0],
    }
    if key in simple:
        return simple[key](value)
    if key == "inspectors" and isinstance(value, list):
        return "、".join(names.of(names.inspectors, v, lang) for v in value)
    if key.endswith("_at") or key == "device_time":
        return when(value)
    if key == "location" and isinstance(value, Mapping):
        accuracy = value.get("accuracy_m")
        text = f"{value.get('lat')}, {value.get('lon')}"
        return text + (f" (±{accuracy} m)" if accuracy is not None else "")
    if isinstance(value, list):
        return "、".join(str(v) for v in value) if value else t("common.none")
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _named(payload: Mapping[str, Any], lang: str, fallback: Any) -> str:
    name = payload.get("name_en") if lang == "en" and payload.get("name_en") else payload.get("name")
    return str(name or fallback)


def _translator(lang: str) -> Callable[[str], str]:
    return lambda key: catalogue.text(key, lang)
