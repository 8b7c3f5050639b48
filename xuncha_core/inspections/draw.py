"""The draw: from the committed inputs and the published random values to the published file.

``prepare`` fixes the inputs from the directories (each stratum's sorted candidates,
the active inspectors, the recusals among them); ``Prepared.commit`` makes the
commitment; once the source has published its numbers ``run_draw`` selects each
stratum's entities by RFC 3797 and assigns inspectors. The inputs are kept as they
were at commitment (the server stores them with it), so later directory edits
cannot move a draw. The published file is the public contract::

    {"format": "xuncha-draw/1", "id", "title", "drawn_at",
     "commitment": {..., "digest", "ledger_index"},
     "random_values": [[...], ...],
     "rfc3797": {"key": K, "pools": [{"stratum", "key", "candidates", "count", "selected"}]},
     "inspectors": [{"certificate", "name"}], "recusals": [{"entity", "inspector"}],
     "assignments": {"rule", "inspectors_per_entity", "entities": [{"entity", "stratum",
                     "inspectors", "short_by"}]},
     "entity_names": {credit code: name}}            (selected entities; for reading only)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xuncha_core.errors import ConflictError, Problem, ValidationError
from xuncha_core.inspections import rfc3797
from xuncha_core.inspections.assignment import RULE, assign
from xuncha_core.inspections.commitment import build_commitment
from xuncha_core.inspections.directories import Conflict, Entity, Inspector
from xuncha_core.inspections.plans import Plan, Stratum, candidate_pools

FORMAT = "xuncha-draw/1"


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    pools: list[tuple[Stratum, list[str]]]
    inspectors: list[dict[str, str]]  # [{"certificate", "name"}], ascending certificate
    recusals: list[dict[str, str]]  # [{"entity", "inspector"}], ascending

    def commit(self, randomness: Mapping[str, Any], committed_at: str) -> dict[str, Any]:
        return build_commitment(
            plan=self.plan,
            pools=self.pools,
            inspectors=[i["certificate"] for i in self.inspectors],
            recusals=[(r["entity"], r["inspector"]) for r in self.recusals],
            randomness=randomness,
            committed_at=committed_at,
        )

    def as_dict(self) -> dict[str, Any]:
        """The inputs to keep with the commitment until the draw runs."""
        return {
            "plan": self.plan.as_dict(),
            "pools": [{"stratum": s.id, "candidates": c} for s, c in self.pools],
            "inspectors": self.inspectors,
            "recusals": self.recusals,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prepared:
        plan = Plan.from_dict(data["plan"])
        by_id = {p["stratum"]: list(p["candidates"]) for p in data["pools"]}
        return cls(
            plan,
            [(s, by_id[s.id]) for s in plan.strata],
            list(data["inspectors"]),
            list(data["recusals"]),
        )


def prepare(
    plan: Plan,
    entities: Iterable[Entity],
    inspectors: Iterable[Inspector],
    conflicts: Iterable[Conflict],
) -> Prepared:
    pools = candidate_pools(plan, entities)
    too_big = [(s, c) for s, c in pools if len(c) > rfc3797.MAX_POOL]
    if too_big:
        raise ValidationError.of(
            [
                Problem(
                    f"strata.{s.id}",
                    "draw.pool_too_large",
                    f"stratum {s.id} has {len(c)} candidates, more than {rfc3797.MAX_POOL}; split it",
                    f"分组 {s.id} 有 {len(c)} 个对象，超过 {rfc3797.MAX_POOL}，请拆分",
                )
                for s, c in too_big
            ],
            code="draw.pool_too_large",
        )
    active = sorted((i for i in inspectors if i.active), key=lambda i: i.certificate)
    active_ids = {i.certificate for i in active}
    in_pools = {code for _, c in pools for code in c}
    pairs = sorted(
        {
            (c.entity, c.inspector)
            for c in conflicts
            if c.inspector in active_ids and c.entity in in_pools
        }
    )
    return Prepared(
        plan,
        pools,
        [{"certificate": i.certificate, "name": i.name} for i in active],
        [{"entity": e, "inspector": i} for e, i in pairs],
    )


def outcome(
    prepared: Prepared, value_sets: Sequence[Sequence[int]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``rfc3797`` and ``assignments`` parts of a draw file: the same computation for the office and a verifier."""
    key = rfc3797.format_key(value_sets)
    pools = []
    selected: list[tuple[str, str]] = []
    for stratum, candidates in prepared.pools:
        own_key = rfc3797.pool_key(key, stratum.id)
        count = stratum.selection_count(len(candidates))
        chosen = [candidates[i - 1] for i in rfc3797.select(own_key, len(candidates), count)]
        pools.append(
            {
                "stratum": stratum.id,
                "key": own_key,
                "candidates": candidates,
                "count": count,
                "selected": chosen,
            }
        )
        selected.extend((code, stratum.id) for code in chosen)
    per_entity = prepared.plan.inspectors_per_entity
    result = assign(
        selected,
        [i["certificate"] for i in prepared.inspectors],
        [(r["entity"], r["inspector"]) for r in prepared.recusals],
        per_entity,
        key,
    )
    entities = [
        {
            "entity": a.entity,
            "stratum": a.stratum,
            "inspectors": list(a.inspectors),
            "short_by": a.short_by,
        }
        for a in result
    ]
    return (
        {"key": key, "pools": pools},
        {"rule": RULE, "inspectors_per_entity": per_entity, "entities": entities},
    )


def run_draw(
    *,
    commitment: Mapping[str, Any],
    prepared: Prepared,
    value_sets: Sequence[Sequence[int]],
    draw_id: str,
    drawn_at: str,
    entity_names: Mapping[str, str],
) -> dict[str, Any]:
    """The published draw file. ``commitment`` must carry its ``ledger_index`` and match ``prepared``."""
    _check_inputs(commitment, prepared, value_sets)
    picks, assignments = outcome(prepared, value_sets)
    chosen = [code for pool in picks["pools"] for code in pool["selected"]]
    return {
        "format": FORMAT,
        "id": draw_id,
        "title": prepared.plan.title,
        "drawn_at": drawn_at,
        "commitment": dict(commitment),
        "random_values": [list(v) for v in value_sets],
        "rfc3797": picks,
        "inspectors": prepared.inspectors,
        "recusals": prepared.recusals,
        "assignments": assignments,
        "entity_names": {code: entity_names.get(code, "") for code in chosen},
    }


def _check_inputs(
    commitment: Mapping[str, Any], prepared: Prepared, value_sets: Sequence[Sequence[int]]
) -> None:
    expected = prepared.commit(commitment["randomness"], commitment["committed_at"])
    if expected["digest"] != commitment.get("digest") or not isinstance(
        commitment.get("ledger_index"), int
    ):
        raise ConflictError(
            "draw.inputs_changed",
            "the draw's inputs are not the ones committed (or the commitment is not in the ledger yet); "
            "run the draw from the inputs kept with its commitment",
            "抽取的输入与承诺时不一致（或承诺尚未记入台账）；请使用承诺时保存的输入进行抽取",
        )
    wanted = commitment["randomness"]["value_sets"]
    if len(value_sets) != wanted:
        raise ValidationError.of(
            [
                Problem(
                    "random_values",
                    "draw.wrong_value_sets",
                    f"the commitment names {wanted} sets of random values; {len(value_sets)} were entered",
                    f"承诺约定 {wanted} 组随机数，实际录入 {len(value_sets)} 组",
                )
            ],
            code="draw.wrong_value_sets",
        )
    rfc3797.format_key(value_sets)  # refuses values that are not whole numbers >= 0
