"""Anyone can re-run a published draw file offline: it is confirmed, or the first difference is named."""

from __future__ import annotations

import copy
import json

import pytest

from tests.support import draws
from xuncha_core.inspections import rfc3797
from xuncha_core.inspections.commitment import commitment_digest
from xuncha_core.inspections.verify import verify


@pytest.fixture(scope="module")
def published() -> dict:
    return json.loads(json.dumps(draws.draw_file()))  # exactly what a download holds


def changed(file: dict, edit) -> dict:
    other = copy.deepcopy(file)
    edit(other)
    return other


def refuted_at(file: dict) -> str:
    result = verify(file)
    assert not result.ok and result.difference is not None
    return result.difference.path


def test_a_published_draw_is_confirmed(published):
    result = verify(published)
    assert result.ok and result.difference is None


def test_the_file_has_the_public_contract_shape(published):
    pool = published["rfc3797"]["pools"][0]
    assert set(pool) == {"stratum", "key", "candidates", "count", "selected"}
    assert published["rfc3797"]["key"] == "3.9.12.20.25.31./7./"
    assert (
        pool["candidates"] == sorted(pool["candidates"]) and pool["count"] == 2
    )  # 10% of 20, rounded up
    assert published["commitment"]["ledger_index"] == 41
    assert all(len(a["inspectors"]) == 2 for a in published["assignments"]["entities"])


def test_one_changed_candidate_is_refuted(published):
    def swap(f):
        pool = f["rfc3797"]["pools"][0]
        pool["candidates"][0] = draws.credit_code(999)
        pool["candidates"].sort()

    assert refuted_at(changed(published, swap)) == "rfc3797.pools.0.candidates"


def test_one_changed_random_value_is_refuted(published):
    def edit(f):
        f["random_values"][1] = [8]

    assert refuted_at(changed(published, edit)) == "rfc3797.key"


def test_changed_values_with_a_matching_key_are_refuted_at_the_selection(published):
    def edit(f):
        f["random_values"][1] = [8]
        f["rfc3797"]["key"] = rfc3797.format_key(f["random_values"])
        for pool in f["rfc3797"]["pools"]:
            pool["key"] = rfc3797.pool_key(f["rfc3797"]["key"], pool["stratum"])

    assert refuted_at(changed(published, edit)).startswith("rfc3797.pools.0.selected.")


def test_one_changed_assignment_is_refuted(published):
    def edit(f):
        entity = f["assignments"]["entities"][1]
        others = [
            i["certificate"]
            for i in f["inspectors"]
            if i["certificate"] not in entity["inspectors"]
        ]
        entity["inspectors"][0] = others[0]

    assert refuted_at(changed(published, edit)) == "assignments.entities.1.inspectors"


def test_a_reordered_selection_is_refuted(published):
    def edit(f):
        sel = f["rfc3797"]["pools"][1]["selected"]
        sel[0], sel[1] = sel[1], sel[0]

    assert refuted_at(changed(published, edit)) == "rfc3797.pools.1.selected.0"


def test_a_plan_edited_after_the_commitment_is_refuted(published):
    def edit(f):
        f["commitment"]["plan"]["strata"][1]["count"] = 4

    assert refuted_at(changed(published, edit)) == "commitment.digest"


def test_a_quietly_dropped_recusal_is_refuted(published):
    def edit(f):
        f["recusals"].pop()

    assert refuted_at(changed(published, edit)) == "recusals"


def test_a_commitment_rewritten_to_name_a_source_that_had_already_published_is_refuted(published):
    def edit(f):
        f["commitment"]["randomness"]["published_on"] = "2025-10-09"
        f["commitment"]["digest"] = commitment_digest(f["commitment"])

    assert refuted_at(changed(published, edit)) == "commitment.randomness.published_on"


def test_a_commitment_without_its_ledger_index_is_refuted(published):
    assert (
        refuted_at(changed(published, lambda f: f["commitment"].pop("ledger_index")))
        == "commitment.ledger_index"
    )


def test_a_selected_entity_without_its_name_is_refuted(published):
    assert refuted_at(changed(published, lambda f: f["entity_names"].popitem())) == "entity_names"


@pytest.mark.parametrize(
    "junk", [{}, {"format": "xuncha-draw/1"}, {"format": "xuncha-draw/1", "commitment": []}]
)
def test_a_file_that_is_not_a_draw_is_refuted_not_crashed_on(junk):
    assert refuted_at(junk) in {"format", "file"}


def test_the_difference_says_what_re_running_gives_in_both_languages(published):
    f = changed(published, lambda f: f["random_values"].__setitem__(1, [8]))
    difference = verify(f).difference
    assert difference is not None
    assert "3.9.12.20.25.31./8./" in difference.message and "重新计算" in difference.message_zh
