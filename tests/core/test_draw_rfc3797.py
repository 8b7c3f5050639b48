"""RFC 3797 selection reproduces the RFC's own worked example, and refuses what it cannot key."""

from __future__ import annotations

import pytest

from xuncha_core.errors import ValidationError
from xuncha_core.inspections import rfc3797

# RFC 3797 section 6: three lottery results, a pool of 25 volunteers; the RFC prints
# index, MD5 (hex), divisor and the volunteer chosen.
RFC_VALUES = [[9319], [2, 5, 12, 8, 10], [9, 18, 26, 34, 41, 45]]
RFC_KEY = "9319./2.5.8.10.12./9.18.26.34.41.45./"
RFC_TABLE = [
    (1, "990DD0A5692A029A98B5E01AA28F3459", 25, 17),
    (2, "3691E55CB63FCC37914430B2F70B5EC6", 24, 7),
    (3, "FE814EDF564C190AC1D25753979990FA", 23, 2),
    (4, "1863CCACEB568C31D7DDBDF1D4E91387", 22, 16),
    (5, "F4AB33DF4889F0AF29C513905BE1D758", 21, 25),
    (6, "13EAEB529F61ACFB9A29D0BA3A60DE4A", 20, 23),
    (7, "992DB77C382CA2BDB9727001F3CDCCD9", 19, 8),
    (8, "63AB4258ECA922976811C7F55C383CE7", 18, 24),
    (9, "DFBC5AC97CED01B3A6E348E3CC63F40D", 17, 19),
    (10, "31CB111C4A4EBE9287CEAE16FE51B909", 16, 13),
    (11, "07FA46C122F164C215BBC72793B189A3", 15, 22),
    (12, "AC52F8D75CCBE2E61AFEB3387637D501", 14, 5),
    (13, "53306F73E14FC0B2FBF434218D25948E", 13, 18),
    (14, "B5D1403501A81F9A47318BE7893B347C", 12, 9),
    (15, "85B10B356AA06663EF1B1B407765100A", 11, 1),
    (16, "3269E6CE559ABD57E2BA6AAB495EB9BD", 10, 4),
]


def test_the_key_sorts_each_source_and_ends_values_with_a_period_and_sources_with_a_slash():
    assert rfc3797.format_key(RFC_VALUES) == RFC_KEY


def test_the_rfc_worked_example_is_reproduced_digit_for_digit():
    steps = rfc3797.steps(RFC_KEY, 25, 16)
    assert [(s.index, s.md5_hex, s.remaining, s.chosen) for s in steps] == RFC_TABLE


def test_asking_for_fewer_gives_the_same_first_choices():
    assert rfc3797.select(RFC_KEY, 25, 10) == [row[3] for row in RFC_TABLE[:10]]


def test_a_whole_pool_is_a_permutation_of_it():
    assert sorted(rfc3797.select(RFC_KEY, 25, 25)) == list(range(1, 26))


def test_a_pool_key_appends_its_own_material_like_the_reference_code():
    assert rfc3797.pool_key(RFC_KEY, "high") == RFC_KEY + "high./"


@pytest.mark.parametrize("values", [[], [[]], [[1, -2]], [[1.5]], [["7"]], [[True]]])
def test_values_that_are_not_whole_numbers_of_zero_or_more_are_refused(values):
    with pytest.raises(ValidationError) as caught:
        rfc3797.format_key(values)
    assert caught.value.problems and all(p.message_zh for p in caught.value.problems)


def test_pools_beyond_the_rfc_counters_are_refused():
    with pytest.raises(ValueError):
        rfc3797.select(RFC_KEY, rfc3797.MAX_POOL + 1, 1)
    with pytest.raises(ValueError):
        rfc3797.select(RFC_KEY, 3, 4)
