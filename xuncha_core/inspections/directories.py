"""The rows an office keeps for random inspections (检查对象名录库, 执法检查人员名录库, ...).

An entity is known by its unified social credit code (public on the national
enterprise credit system, so it may appear in a published draw); an inspector by
their enforcement certificate number (published with their name, as the rule
requires and nothing more). A conflict of interest names an inspector and an
entity; its kind and note are private to the office.
"""

from __future__ import annotations

from dataclasses import dataclass

# code: (Chinese, English)
RISK_LEVELS: dict[str, tuple[str, str]] = {
    "low": ("低风险", "low risk"),
    "medium": ("中风险", "medium risk"),
    "high": ("高风险", "high risk"),
}

CONFLICT_KINDS: dict[str, tuple[str, str]] = {
    "relative": ("近亲属关系", "a relative"),
    "same_village": ("同村居住", "lives in the same village"),
    "earlier_involvement": ("曾参与处理", "earlier involvement in a case"),
    "business_interest": ("利益关系", "a business or financial interest"),
    "other": ("其他", "other"),
}


@dataclass(frozen=True)
class Entity:
    credit_code: str
    name: str
    type: str
    address: str
    village: str
    risk: str
    tags: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.credit_code


@dataclass(frozen=True)
class Inspector:
    certificate: str
    name: str
    unit: str
    active: bool = True

    @property
    def id(self) -> str:
        return self.certificate


@dataclass(frozen=True)
class Conflict:
    inspector: str  # certificate number
    entity: str  # credit code
    kind: str
    note: str = ""


@dataclass(frozen=True)
class Matter:
    """One line of the list of inspection matters (随机抽查事项清单)."""

    code: str
    name: str
    legal_basis: str
    authority: str = ""
