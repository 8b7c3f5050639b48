"""The commitment fixes every input before the random values exist; any change shows."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date
from typing import Any

import pytest

from tests.support import draws
from xuncha_core.errors import ConflictError, ValidationError
from xuncha_core.inspections.commitment import randomness_source
from xuncha_core.inspections.directories import Conflict, Inspector
from xuncha_core.inspections.draw import Prepared, prepare, run_draw

COMMITTED_AT = "2025-10-10T08:00:00Z"


def digest_of(prepared, source=draws.SOURCE, at=COMMITTED_AT) -> str:
    return prepared.commit(source, at)["digest"]


def test_the_same_inputs_always_give_the_same_commitment_and_the_same_draw():
    assert digest_of(draws.prepared()) == digest_of(draws.prepared())
    assert draws.draw_file() == draws.draw_file()


def test_any_changed_input_changes_the_commitment():
    ents, ins = draws.entities(60), draws.inspectors(6)
    conflicts = [Conflict(ins[0].certificate, ents[2].credit_code, "relative")]
    original = digest_of(prepare(draws.plan(), ents, ins, conflicts))
    variants = {
        "one more entity": prepare(draws.plan(), draws.entities(61), ins, conflicts),
        "an entity's risk": prepare(
            draws.plan(), [dataclasses.replace(ents[0], risk="high"), *ents[1:]], ins, conflicts
        ),
        "one more inspector": prepare(draws.plan(), ents, draws.inspectors(7), conflicts),
        "an inspector stood down": prepare(
            draws.plan(),
            ents,
            [*ins[:-1], Inspector(ins[-1].certificate, ins[-1].name, ins[-1].unit, False)],
            conflicts,
        ),
        "one more recusal": prepare(
            draws.plan(),
            ents,
            ins,
            [*conflicts, Conflict(ins[1].certificate, ents[3].credit_code, "same_village")],
        ),
        "the count": prepare(
            draws.plan(
                strata=[
                    {
                        "id": "high",
                        "name": "高风险",
                        "filter": {"risks": ["high"]},
                        "percent": "11",
                    },
                    {"id": "ordinary", "name": "一般", "count": 3},
                ]
            ),
            ents,
            ins,
            conflicts,
        ),
        "inspectors per entity": prepare(draws.plan(inspectors_per_entity=3), ents, ins, conflicts),
        "the deadline": prepare(draws.plan(deadline="2026-01-31"), ents, ins, conflicts),
        "the matters": prepare(draws.plan(matters=["SC-01", "SC-02"]), ents, ins, conflicts),
    }
    digests = {name: digest_of(p) for name, p in variants.items()}
    assert [name for name, d in digests.items() if d == original] == []
    p = prepare(draws.plan(), ents, ins, conflicts)
    assert digest_of(p, source=randomness_source("另一来源", date(2025, 10, 12), 2)) != original
    assert (
        digest_of(p, source=randomness_source(draws.SOURCE["description"], date(2025, 10, 13), 2))
        != original
    )
    assert digest_of(p, at="2025-10-10T08:00:01Z") != original


def test_a_source_that_has_already_published_cannot_be_committed_to():
    with pytest.raises(ValidationError) as caught:
        draws.prepared().commit(draws.SOURCE, "2025-10-12T08:00:00Z")
    assert caught.value.problems[0].code == "draw.source_not_future"


def _draw(commitment: dict[str, Any], prepared: Prepared, value_sets: list[list[int]] = draws.VALUES) -> dict[str, Any]:
    """The draw from ``commitment`` with these inputs and random values (no names needed)."""
    return run_draw(
        commitment=commitment,
        prepared=prepared,
        value_sets=value_sets,
        draw_id="x",
        drawn_at="2025-10-13T00:00:00Z",
        entity_names={},
    )


def test_a_draw_refuses_inputs_other_than_the_committed_ones():
    committed = draws.prepared()
    commitment = committed.commit(draws.SOURCE, COMMITTED_AT)
    commitment["ledger_index"] = 3
    moved = prepare(draws.plan(), draws.entities(61), draws.inspectors(6), [])
    with pytest.raises(ConflictError):
        _draw(commitment, moved)


def test_a_draw_needs_its_commitment_in_the_ledger_and_every_named_value_set():
    p = draws.prepared()
    commitment = p.commit(draws.SOURCE, COMMITTED_AT)
    with pytest.raises(ConflictError):
        _draw(commitment, p)
    commitment["ledger_index"] = 3
    with pytest.raises(ValidationError):
        _draw(commitment, p, draws.VALUES[:1])


def test_the_kept_inputs_read_back_to_the_same_commitment():
    p = draws.prepared()
    assert digest_of(Prepared.from_dict(copy.deepcopy(p.as_dict()))) == digest_of(p)
