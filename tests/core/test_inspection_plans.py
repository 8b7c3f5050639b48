"""Plans: strata that never overlap, counts rounded up, the law's two inspectors, every problem at once."""

from __future__ import annotations

import pytest

from tests.support import draws
from xuncha_core.errors import ValidationError
from xuncha_core.inspections.plans import Plan, candidate_pools


def test_a_percentage_is_rounded_up_and_never_exceeds_the_stratum():
    plan = draws.plan()
    high, ordinary = plan.strata
    assert high.selection_count(20) == 2 and high.selection_count(21) == 3  # 10%, "at least"
    assert high.selection_count(0) == 0
    assert ordinary.selection_count(2) == 2


def test_an_entity_in_several_strata_belongs_to_the_first_and_candidates_are_sorted():
    entities = draws.entities(30)
    (high, high_codes), (_, ordinary_codes) = candidate_pools(draws.plan(), entities)
    assert high_codes == sorted(e.credit_code for e in entities if high.matches(e))
    assert not set(high_codes) & set(ordinary_codes)
    assert len(high_codes) + len(ordinary_codes) == 30
    assert high_codes == sorted(high_codes) and ordinary_codes == sorted(ordinary_codes)


def test_a_plan_with_one_inspector_per_entity_and_other_faults_lists_them_all():
    with pytest.raises(ValidationError) as caught:
        Plan.from_dict(
            {
                "title": "",
                "matters": [],
                "strata": [{"id": "A B", "name": "x", "count": 3, "percent": "5"}],
                "inspectors_per_entity": 1,
                "deadline": "2025-02-30",
            }
        )
    codes = {p.code for p in caught.value.problems}
    assert codes == {
        "plan.missing_text",
        "plan.no_matters",
        "plan.bad_stratum_id",
        "plan.bad_amount",
        "plan.too_few_inspectors",
        "plan.bad_deadline",
    }


def test_a_plan_may_only_use_matters_on_the_list():
    with pytest.raises(ValidationError) as caught:
        Plan.from_dict(draws.plan().as_dict(), matters={"SC-02"})
    assert [p.code for p in caught.value.problems] == ["plan.unknown_matter"]


def test_a_plan_reads_back_from_its_own_json():
    plan = draws.plan()
    assert Plan.from_dict(plan.as_dict()) == plan
