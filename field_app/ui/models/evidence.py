"""What a record says about each of its photos, for the reviewer: no Flet here.

When a photo joins a record, ``photo_evidence`` writes down where its time and place come
from (the photo's own camera data, or the moment and position of the phone) and the doubts
``xuncha_core.evidence.doubts`` raises (far from the village, taken well before the check).
The entry goes into the content's ``photo_evidence`` under the photo's hash, so the record
the office reviews carries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from xuncha_core.evidence import DEFAULT_MAX_DISTANCE_M, doubts


def village_location(village: Mapping[str, Any] | None, check_location: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The village's position as the office set it (``location`` or ``lat``/``lon``), else
    the place the check itself was located at."""
    village = village or {}
    own = village.get("location")
    if isinstance(own, Mapping) and "lat" in own and "lon" in own:
        return {"lat": own["lat"], "lon": own["lon"]}
    if "lat" in village and "lon" in village:
        return {"lat": village["lat"], "lon": village["lon"]}
    if check_location and "lat" in check_location and "lon" in check_location:
        return {"lat": check_location["lat"], "lon": check_location["lon"]}
    return None


def max_distance_m(settings: Mapping[str, Any] | None) -> float:
    """The office's configured distance (reference setting ``evidence.max_distance_m``), else 5 km."""
    value = (settings or {}).get("max_distance_m")
    return float(value) if isinstance(value, (int, float)) and value > 0 else DEFAULT_MAX_DISTANCE_M


def _parse(moment: str | None) -> datetime | None:
    if not moment:
        return None
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None


def photo_evidence(meta: Mapping[str, Any], *, village: Mapping[str, Any] | None, checked_at: str | None,
                   max_distance: float = DEFAULT_MAX_DISTANCE_M) -> dict[str, Any]:
    """The ``photo_evidence`` entry of one photo (its store metadata ``meta``)."""
    gps = meta.get("gps") or None
    phone = meta.get("capture_location") or None
    if gps:
        location, source = {"lat": gps["latitude"], "lon": gps["longitude"]}, "photo"
    elif phone:
        location, source = {"lat": phone["latitude"], "lon": phone["longitude"]}, "phone"
    else:
        location, source = None, None
    exif_time = meta.get("exif_time")
    taken_at = exif_time or meta.get("captured_at")
    entry: dict[str, Any] = {
        "taken_at": taken_at, "taken_at_source": "exif" if exif_time else "import",
        "location": location, "location_source": source, "quality": meta.get("quality"),
    }
    checked = _parse(checked_at)
    taken = _parse(taken_at)
    entry_taken: str | None = taken_at
    if taken is not None and checked is not None and taken.tzinfo is None and checked.tzinfo is not None:
        # camera data without a zone: read it in the phone's zone at the check
        entry_taken = taken.replace(tzinfo=checked.tzinfo).isoformat()
    found = doubts({**entry, "taken_at": entry_taken}, village_location=village, checked_at=checked,
                   max_distance_m=max_distance)
    entry["flags"] = list(found.flags)
    entry["distance_m"] = None if found.distance_m is None else round(found.distance_m)
    entry["age_days"] = None if found.age is None else round(found.age.total_seconds() / 86400, 1)
    return entry


def photo_location(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """A content Location from the photo's own GPS data (for "use the photo's position")."""
    gps = meta.get("gps") or None
    if not gps:
        return None
    return {"lat": round(float(gps["latitude"]), 7), "lon": round(float(gps["longitude"]), 7),
            "accuracy_m": None, "source": "gps"}
