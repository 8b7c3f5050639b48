"""Honest evidence: where a photo's time and place come from, and when to doubt them.

A photo's capture time comes from its own camera data (EXIF ``DateTimeOriginal``) when it
has one, else from the moment the phone imported it; its place from its own GPS data, else
from the phone's position when it was taken. Neither is trusted blindly: a photo taken far
from the village, or long before the check it is evidence for, is flagged, shown to the
reviewer and kept on the record. The phone and the office console use these same rules.

A record's content may carry, per photo, what the phone knew (all fields optional)::

    "photo_evidence": {"<sha256>": {
        "taken_at": Time | null,  "taken_at_source": "exif" | "import",
        "location": Location | null,  "location_source": "photo" | "phone" | null,
        "quality": int (JPEG quality of the evidence image)}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
DEFAULT_MAX_DISTANCE_M = 5_000.0
DEFAULT_MAX_AGE = timedelta(days=1)

FAR_FROM_VILLAGE = "far_from_village"
TAKEN_BEFORE_CHECK = "taken_before_check"
FLAGS: dict[str, tuple[str, str]] = {
    FAR_FROM_VILLAGE: ("taken far from the village", "拍摄地点距村较远"),
    TAKEN_BEFORE_CHECK: ("taken well before the check", "拍摄时间早于检查时间"),
}


@dataclass(frozen=True)
class PhotoDoubts:
    """What a reviewer should look at twice: the flags, with the figures behind them."""

    flags: tuple[str, ...]
    distance_m: float | None  # from the village centre, where both positions are known
    age: timedelta | None  # how long before the check the photo was taken, where known


def distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine)."""
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def doubts(
    meta: Mapping[str, Any],
    *,
    village_location: Mapping[str, Any] | None,
    checked_at: datetime | None,
    max_distance_m: float = DEFAULT_MAX_DISTANCE_M,
    max_age: timedelta = DEFAULT_MAX_AGE,
) -> PhotoDoubts:
    """The flags for one photo's ``meta`` (a ``photo_evidence`` entry) against its village
    (``{"lat", "lon"}``, or None when the office has not set it) and the check's time."""
    flags: list[str] = []
    distance = _distance(meta.get("location"), village_location)
    if distance is not None and distance > max_distance_m:
        flags.append(FAR_FROM_VILLAGE)
    age = _age(meta.get("taken_at"), checked_at)
    if age is not None and age > max_age:
        flags.append(TAKEN_BEFORE_CHECK)
    return PhotoDoubts(tuple(flags), distance, age)


def _distance(location: Any, village: Mapping[str, Any] | None) -> float | None:
    if not isinstance(location, Mapping) or not isinstance(village, Mapping):
        return None
    try:
        return distance_m(float(location["lat"]), float(location["lon"]), float(village["lat"]), float(village["lon"]))
    except (KeyError, TypeError, ValueError):
        return None


def _age(taken_at: Any, checked_at: datetime | None) -> timedelta | None:
    if not isinstance(taken_at, str) or checked_at is None:
        return None
    try:
        taken = datetime.fromisoformat(taken_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if taken.tzinfo is None or checked_at.tzinfo is None:
        return None
    return checked_at - taken


def evidence_problems(evidence: Any, photos: list[str]) -> list[tuple[str, str]]:
    """(English, Chinese) sentences for what is wrong with a content's ``photo_evidence``:
    it maps the content's own photo hashes to objects."""
    if not isinstance(evidence, Mapping) or not all(isinstance(v, Mapping) for v in evidence.values()):
        return [("photo_evidence must map photo hashes to objects", "photo_evidence 必须是以照片哈希为键的对象")]
    stray = sorted(set(evidence) - set(photos))
    if stray:
        names = [s[:12] for s in stray]
        return [(f"photo_evidence names photos the record does not hold: {', '.join(names)}",
                 f"photo_evidence 中有记录里没有的照片：{'、'.join(names)}")]
    return []
