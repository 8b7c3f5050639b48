"""Scoring sheets, check scores, the red and black list, and the cleaners' routine assessment."""

from __future__ import annotations

import copy
import itertools
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ROOT
from xuncha_core.assessment import (
    CleanerAssessmentRules,
    CleanerRating,
    assess_cleaner,
    parse_cleaner_rules,
    performance_pay,
)
from xuncha_core.errors import ValidationError
from xuncha_core.points import as_points, points_json
from xuncha_core.scoring import (
    Deduction,
    RankingPolicy,
    ScoringSheet,
    parse_sheet,
    rank_villages,
    score_check,
)

SAMPLE_PATH = ROOT / "assets" / "config" / "scoring_sheet.sample.json"
SAMPLE_JSON = json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))
SAMPLE = parse_sheet(SAMPLE_JSON)


def tenth_sheet() -> ScoringSheet:
    """A sheet whose rules take 0.1 and 0.05 points: sums that binary floats get wrong."""
    return parse_sheet(
        {
            "id": "tenths",
            "version": 3,
            "name": "十分位",
            "total": 100,
            "items": [
                {
                    "id": "a",
                    "name": "甲",
                    "max_points": 60,
                    "rules": [
                        {"id": "tenth", "name": "一角", "unit": "处", "points_per_unit": 0.1},
                        {"id": "twentieth", "name": "五分", "unit": "处", "points_per_unit": 0.05},
                    ],
                },
                {
                    "id": "b",
                    "name": "乙",
                    "max_points": 40,
                    "rules": [{"id": "half", "name": "半分", "unit": "处", "points_per_unit": 0.5}],
                },
            ],
        }
    )


def problem_paths(exc: ValidationError) -> set[str]:
    return {p.path for p in exc.problems}


# --- the sample sheet -------------------------------------------------------------------------


def test_sample_sheet_is_a_full_100_point_sheet_with_the_typical_items():
    assert SAMPLE.total == 100
    assert sum(i.max_points for i in SAMPLE.items) == 100
    ids = {i.id for i in SAMPLE.items}
    for expected in (
        "public_areas",
        "bins",
        "roads",
        "water_surface",
        "illegal_dumping",
        "open_burning",
        "toilets",
        "courtyards",
        "garbage_sorting",
        "cleaner_coverage",
    ):
        assert expected in ids
    burning = SAMPLE.item("open_burning")
    assert burning is not None and all(r.zeroes_item for r in burning.rules)
    for item in SAMPLE.items:
        assert item.name and item.name_en and item.rules
        for rule in item.rules:
            assert rule.name and rule.name_en and rule.unit


# --- scoring ----------------------------------------------------------------------------------


def test_a_check_with_no_deductions_scores_full_marks():
    result = score_check(SAMPLE, [])
    assert result.total == 100
    assert [s.item_id for s in result.items] == [i.id for i in SAMPLE.items]
    assert all(s.deducted == 0 and s.score == s.max_points for s in result.items)


def test_half_points_add_up_exactly():
    result = score_check(
        SAMPLE,
        [
            Deduction("public_areas", "exposed_rubbish", 3),
            Deduction("water_surface", "floating_debris", 5),
        ],
    )
    assert result.total == Decimal("96")
    item = next(s for s in result.items if s.item_id == "public_areas")
    assert item.deducted == Decimal("1.5") and item.score == Decimal("13.5")
    assert points_json(item.score) == 13.5


def test_tenths_do_not_drift_the_way_floats_do():
    sheet = tenth_sheet()
    # ten deductions of 0.1 are exactly one point, and twenty of 0.05 another
    result = score_check(
        sheet, [Deduction("a", "tenth", 1)] * 10 + [Deduction("a", "twentieth", 1)] * 20
    )
    assert result.total == Decimal(98)
    assert sum([0.1] * 10) != 1.0  # the float trap this guards against


def test_an_item_never_goes_below_zero_however_many_deductions():
    result = score_check(
        SAMPLE, [Deduction("courtyards", "messy_courtyard", 7)] * 5
    )  # 5 × 3.5 on a 5-point item
    item = next(s for s in result.items if s.item_id == "courtyards")
    assert item.deducted == 5 and item.score == 0
    assert result.total == 95


def test_one_large_deduction_is_capped_at_its_items_maximum():
    result = score_check(SAMPLE, [Deduction("illegal_dumping", "construction_waste", 40)])
    assert result.total == 90


def test_max_units_limits_how_many_units_count():
    # "no bins" is −6 once per village, however the count is entered
    once = score_check(SAMPLE, [Deduction("bins", "no_bins", 1)])
    thrice = score_check(SAMPLE, [Deduction("bins", "no_bins", 3)])
    assert once.total == thrice.total == 94


def test_open_burning_zeroes_its_item_and_only_its_item():
    result = score_check(
        SAMPLE,
        [Deduction("open_burning", "burning_found", 1), Deduction("roads", "roadside_litter", 1)],
    )
    burning = next(s for s in result.items if s.item_id == "open_burning")
    assert burning.zeroed and burning.score == 0
    assert result.total == Decimal("89.5")


def test_a_zeroing_rule_takes_the_whole_item_even_after_other_deductions():
    sheet_json = copy.deepcopy(SAMPLE_JSON)
    burning = next(i for i in sheet_json["items"] if i["id"] == "open_burning")
    burning["rules"].append({"id": "ash", "name": "焚烧痕迹", "unit": "处", "points_per_unit": 1})
    sheet = parse_sheet(sheet_json)
    result = score_check(
        sheet, [Deduction("open_burning", "ash", 2), Deduction("open_burning", "burning_found", 1)]
    )
    assert result.total == 90


def test_scoring_a_deduction_not_on_the_sheet_names_it():
    with pytest.raises(ValidationError) as err:
        score_check(
            SAMPLE,
            [
                Deduction("roads", "unswept_section"),
                Deduction("roads", "potholes"),
                Deduction("airport", "x"),
            ],
        )
    assert problem_paths(err.value) == {"deductions.1.rule_id", "deductions.2.item_id"}


deduction_strategy = st.sampled_from([(i.id, r.id) for i in SAMPLE.items for r in i.rules]).flatmap(
    lambda ir: st.builds(Deduction, st.just(ir[0]), st.just(ir[1]), st.integers(0, 40))
)


@given(st.lists(deduction_strategy, max_size=60))
def test_any_check_scores_within_0_and_100_and_the_breakdown_adds_up(deductions):
    result = score_check(SAMPLE, deductions)
    assert 0 <= result.total <= 100
    assert result.total == 100 - sum(s.deducted for s in result.items)
    for s in result.items:
        assert 0 <= s.score <= s.max_points
    # the JSON number round-trips to the exact same points
    assert as_points(json.loads(json.dumps(points_json(result.total)))) == result.total


@given(st.lists(deduction_strategy, max_size=60))
def test_scores_match_an_integer_half_point_count(deductions):
    # every figure on the sample sheet is a multiple of 0.5: count in whole halves instead
    halves = {i.id: 0 for i in SAMPLE.items}
    zeroed = set()
    for d in deductions:
        item, rule = SAMPLE.item(d.item_id), SAMPLE.rule(d.item_id, d.rule_id)
        if d.count == 0:
            continue
        if rule.zeroes_item:
            zeroed.add(item.id)
        units = d.count if rule.max_units is None else min(d.count, rule.max_units)
        halves[item.id] += min(int(rule.points_per_unit * 2) * units, int(item.max_points * 2))
    total_halves = 200 - sum(
        int(i.max_points * 2) if i.id in zeroed else min(halves[i.id], int(i.max_points * 2))
        for i in SAMPLE.items
    )
    assert score_check(SAMPLE, deductions).total * 2 == total_halves


@given(st.permutations(list(range(12))))
def test_the_order_deductions_are_entered_does_not_change_the_score(order):
    base = [
        Deduction("public_areas", "exposed_rubbish", 3),
        Deduction("public_areas", "rubbish_heap", 20),
        Deduction("bins", "overflowing_bin", 2),
        Deduction("roads", "roadside_litter", 1),
        Deduction("water_surface", "floating_debris", 7),
        Deduction("open_burning", "burning_found", 1),
        Deduction("toilets", "dirty_toilet", 1),
        Deduction("courtyards", "messy_courtyard", 3),
        Deduction("garbage_sorting", "unsorted", 9),
        Deduction("garbage_sorting", "no_signage", 1),
        Deduction("cleaner_coverage", "understaffed", 9),
        Deduction("bins", "no_bins", 1),
    ]
    assert score_check(SAMPLE, [base[i] for i in order]).total == score_check(SAMPLE, base).total


# --- parsing sheets ---------------------------------------------------------------------------


def test_a_sheet_whose_items_do_not_add_up_to_the_total_is_refused_with_both_figures():
    data = copy.deepcopy(SAMPLE_JSON)
    data["items"][0]["max_points"] = 14.5
    with pytest.raises(ValidationError) as err:
        parse_sheet(data)
    [problem] = err.value.problems
    assert problem.path == "items" and problem.code == "sheet.items_total"
    assert "99.5" in problem.message and "100" in problem.message and problem.message_zh


def test_sheet_problems_are_all_reported_with_their_paths():
    data = copy.deepcopy(SAMPLE_JSON)
    data["items"][1]["rules"][0]["points_per_unit"] = 0.333
    data["items"][2]["rules"][1]["photo_required"] = "yes"
    data["items"][3]["id"] = data["items"][4]["id"]
    del data["items"][5]["name"]
    data["ranking"]["red_top"] = -1
    data["items"][6]["rules"][1]["deadline_basis"] = "lunar"
    with pytest.raises(ValidationError) as err:
        parse_sheet(data)
    assert err.value.code == "sheet.invalid"
    assert problem_paths(err.value) == {
        "items.1.rules.0.points_per_unit",
        "items.2.rules.1.photo_required",
        "items.4.id",
        "items.5.name",
        "ranking.red_top",
        "items.6.rules.1.deadline_basis",
    }
    assert all(p.message and p.message_zh for p in err.value.problems)


@pytest.mark.parametrize("bad", [True, "1", -1, float("nan"), 1001, None])
def test_points_that_are_not_plain_numbers_are_refused(bad):
    data = copy.deepcopy(SAMPLE_JSON)
    data["items"][0]["rules"][0]["points_per_unit"] = bad
    with pytest.raises(ValidationError) as err:
        parse_sheet(data)
    assert "items.0.rules.0.points_per_unit" in problem_paths(err.value)


def test_a_sheet_that_is_not_an_object_is_refused():
    with pytest.raises(ValidationError) as err:
        parse_sheet([1, 2])
    assert err.value.problems[0].code == "sheet.not_object"


def test_deadlines_fall_back_from_rule_to_item_to_sheet():
    assert SAMPLE.deadline_for("bins", "overflowing_bin").days == 2
    assert SAMPLE.deadline_for("bins", "no_bins").basis == "working"
    assert SAMPLE.deadline_for("roads", "unswept_section") == SAMPLE.rectification
    data = copy.deepcopy(SAMPLE_JSON)
    data["items"][2]["deadline_days"] = 4
    sheet = parse_sheet(data)
    assert sheet.deadline_for("roads", "unswept_section").days == 4


# --- ranking ----------------------------------------------------------------------------------


def test_villages_rank_by_score_with_ties_in_village_id_order():
    ranked = rank_villages(
        {"v-c": 91, "v-a": 88.5, "v-b": 91, "v-d": 70, "v-e": 95},
        RankingPolicy(red_top=2, black_bottom=1),
    )
    assert [(r.position, r.village_id, r.standing) for r in ranked] == [
        (1, "v-e", "red"),
        (2, "v-b", "red"),
        (3, "v-c", ""),
        (4, "v-a", ""),
        (5, "v-d", "black"),
    ]


def test_every_village_below_the_black_threshold_is_black_listed():
    ranked = rank_villages(
        {"a": 79.5, "b": 99, "c": 60, "d": 85},
        RankingPolicy(red_top=1, black_bottom=0, black_below=Decimal(80)),
    )
    assert {r.village_id: r.standing for r in ranked} == {
        "b": "red",
        "d": "",
        "a": "black",
        "c": "black",
    }


def test_a_lone_village_is_never_both_red_and_black():
    [only] = rank_villages({"solo": 100}, RankingPolicy(red_top=1, black_bottom=1))
    assert only.standing == "black"


def test_a_score_that_is_not_points_is_refused():
    with pytest.raises(ValidationError):
        rank_villages({"a": "ninety"})


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=5), st.integers(0, 200).map(lambda h: h / 2), max_size=15
    ),
    st.randoms(),
)
def test_ranking_is_the_same_whatever_order_the_villages_arrive_in(scores, rnd):
    items = list(scores.items())
    rnd.shuffle(items)
    policy = RankingPolicy(red_top=2, black_bottom=2, black_below=Decimal(60))
    first, second = rank_villages(scores, policy), rank_villages(dict(items), policy)
    assert first == second
    assert [r.position for r in first] == list(range(1, len(scores) + 1))
    assert all(a.score >= b.score for a, b in itertools.pairwise(first))


# --- cleaners' routine assessment -----------------------------------------------------------


def test_a_perfect_month_scores_100():
    assert assess_cleaner(CleanerRating("c1")).score == 100


def test_the_townships_usual_deductions():
    s = assess_cleaner(
        CleanerRating("c1", absent_days=1, late_minutes=25, left_post_times=1, dirty_spots=3)
    )
    assert (s.attendance, s.on_post, s.cleanliness, s.score) == (15, 15, 57, 87)


@pytest.mark.parametrize(
    ("minutes", "deducted"), [(0, 0), (9, 0), (10, 1), (19, 1), (20, 2), (95, 9)]
)
def test_lateness_costs_one_point_per_full_ten_minutes(minutes, deducted):
    assert assess_cleaner(CleanerRating("c", late_minutes=minutes)).on_post == 20 - deducted


def test_each_part_is_floored_at_zero():
    s = assess_cleaner(
        CleanerRating("c", absent_days=9, late_minutes=600, left_post_times=20, dirty_spots=500)
    )
    assert (s.attendance, s.on_post, s.cleanliness, s.score) == (0, 0, 0, 0)


def test_assessment_figures_come_from_the_sheet():
    rules, problems = parse_cleaner_rules(
        {
            "attendance": {"max_points": 30, "per_absent_day": 2.5},
            "cleanliness": {"max_points": 50},
            "on_post": {"late_block_minutes": 15},
        }
    )
    assert problems == []
    s = assess_cleaner(CleanerRating("c", absent_days=3, late_minutes=29, dirty_spots=2), rules)
    assert (s.attendance, s.on_post, s.cleanliness) == (Decimal("22.5"), 19, 48)
    assert SAMPLE.cleaner_assessment == CleanerAssessmentRules()


def test_assessment_maxima_that_do_not_make_100_are_refused():
    _, problems = parse_cleaner_rules({"attendance": {"max_points": 25}})
    assert [p.code for p in problems] == ["sheet.cleaner_total"]
    _, problems = parse_cleaner_rules({"on_post": {"late_block_minutes": 0}, "base_pay_share": 1.5})
    assert {p.path for p in problems} == {
        "cleaner_assessment.on_post.late_block_minutes",
        "cleaner_assessment.base_pay_share",
    }


def test_performance_pay_is_80_percent_base_and_20_percent_by_score():
    split = performance_pay(2000, 85)
    assert (split.base, split.performance, split.total) == (
        Decimal("1600.00"),
        Decimal("340.00"),
        Decimal("1940.00"),
    )
    assert performance_pay("1850.50", 100).total == Decimal("1850.50")
    assert performance_pay(1850, 0).total == Decimal("1480.00")


@given(
    st.integers(0, 10_000_00).map(lambda f: Decimal(f) / 100),
    st.integers(0, 200).map(lambda h: Decimal(h) / 2),
)
def test_performance_pay_never_exceeds_the_monthly_pay(pay, score):
    split = performance_pay(pay, score)
    assert split.base + split.performance_possible == pay
    assert 0 <= split.performance <= split.performance_possible
    assert split.total <= pay
