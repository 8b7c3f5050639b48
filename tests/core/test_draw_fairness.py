"""Fairness: over 2,000 draws with different random values every candidate is drawn at the plan's rate.

The counts of T draws of n from N without replacement have covariance
T·p(1-p)·N/(N-1)·(I - J/N), p = n/N, so Σ(O-E)²·(N-1) / (T·p(1-p)·N) follows χ² with
N-1 degrees of freedom. The test passes at a fixed significance: p > 0.001.
"""

from __future__ import annotations

import math
import random

from xuncha_core.inspections.draw import Prepared, outcome
from xuncha_core.inspections.plans import Plan

DRAWS = 2000
SIGNIFICANCE = 0.001


def chi2_sf(x: float, df: int) -> float:
    """P(χ²_df > x): 1 minus the regularized lower incomplete gamma, by its power series."""
    a, z = df / 2, x / 2
    if z <= 0:
        return 1.0
    term = total = 1 / a
    k = 0
    while term > total * 1e-17:
        k += 1
        term *= z / (a + k)
        total += term
    return 1 - math.exp(a * math.log(z) - z - math.lgamma(a)) * total


def statistic(counts: list[int], draws: int, picked: int) -> float:
    n = len(counts)
    p = picked / n
    expected = draws * p
    return sum((c - expected) ** 2 for c in counts) * (n - 1) / (draws * p * (1 - p) * n)


def lottery(seed: int) -> list[list[int]]:
    """A 双色球-like result: six red balls of 1-33 and one blue of 1-16."""
    rng = random.Random(seed)
    return [sorted(rng.sample(range(1, 34), 6)), [rng.randint(1, 16)]]


def test_the_chi_square_tail_matches_the_printed_tables():
    assert abs(chi2_sf(43.820, 19) - 0.001) < 2e-6
    assert abs(chi2_sf(30.144, 19) - 0.05) < 2e-5
    assert abs(chi2_sf(3.841, 1) - 0.05) < 2e-5


def test_a_skewed_selection_fails_the_same_test():
    counts = [300] * 20
    counts[0], counts[1] = 400, 200  # one candidate favoured by a third, another passed over
    assert chi2_sf(statistic(counts, DRAWS, 3), 19) < SIGNIFICANCE


def test_each_candidate_is_selected_at_the_plans_proportion():
    plan = Plan.from_dict(
        {
            "title": "公平性检验",
            "matters": ["SC-01"],
            "strata": [{"id": "all", "name": "全部", "percent": "15"}],
            "inspectors_per_entity": 2,
            "deadline": "2025-12-31",
        }
    )
    candidates = [f"9135010000000{n:04d}X" for n in range(20)]
    prepared = Prepared(
        plan,
        [(plan.strata[0], candidates)],
        [{"certificate": c, "name": c} for c in ("A", "B", "C")],
        [],
    )
    counts = dict.fromkeys(candidates, 0)
    for seed in range(DRAWS):
        picks, _ = outcome(prepared, lottery(seed))
        for code in picks["pools"][0]["selected"]:
            counts[code] += 1
    picked = 3  # 15% of 20
    assert sum(counts.values()) == DRAWS * picked
    p_value = chi2_sf(statistic(list(counts.values()), DRAWS, picked), len(candidates) - 1)
    assert p_value > SIGNIFICANCE, (p_value, counts)
