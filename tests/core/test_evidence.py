"""Evidence doubts: a photo far from its village, or taken long before the check, is flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xuncha_core.evidence import FAR_FROM_VILLAGE, TAKEN_BEFORE_CHECK, distance_m, doubts

VILLAGE = {"lat": 29.5630, "lon": 106.5516}  # a village centre in Chongqing
CHECKED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def test_distance_matches_a_known_great_circle() -> None:
    # Chongqing to Chengdu is about 266 km as the crow flies.
    assert distance_m(29.5630, 106.5516, 30.5728, 104.0668) == pytest.approx(266_000, rel=0.02)
    assert distance_m(29.5, 106.5, 29.5, 106.5) == 0.0


def test_a_photo_in_the_village_on_the_day_raises_no_doubt() -> None:
    meta = {"location": {"lat": 29.5640, "lon": 106.5520}, "taken_at": "2026-11-20T09:00:00+08:00"}
    found = doubts(meta, village_location=VILLAGE, checked_at=CHECKED)
    assert found.flags == () and found.distance_m is not None and found.distance_m < 200


def test_a_gallery_photo_from_italy_taken_years_ago_is_flagged_twice() -> None:
    meta = {"location": {"lat": 43.4674, "lon": 11.8851}, "taken_at": "2008-10-22T16:29:49+02:00"}
    found = doubts(meta, village_location=VILLAGE, checked_at=CHECKED)
    assert found.flags == (FAR_FROM_VILLAGE, TAKEN_BEFORE_CHECK)
    assert found.distance_m is not None and found.distance_m > 8_000_000
    assert found.age is not None and found.age > timedelta(days=6000)


def test_the_limits_are_settings_and_missing_facts_raise_no_flag() -> None:
    meta = {"location": {"lat": 29.62, "lon": 106.5516}, "taken_at": "2026-11-18T09:00:00+00:00"}
    assert doubts(meta, village_location=VILLAGE, checked_at=CHECKED).flags == (FAR_FROM_VILLAGE, TAKEN_BEFORE_CHECK)
    relaxed = doubts(meta, village_location=VILLAGE, checked_at=CHECKED, max_distance_m=10_000, max_age=timedelta(days=3))
    assert relaxed.flags == ()
    assert doubts(meta, village_location=None, checked_at=None).flags == ()
    assert doubts({"taken_at": "not a time"}, village_location=VILLAGE, checked_at=CHECKED).flags == ()
