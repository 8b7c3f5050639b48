"""What a photo's EXIF says about where, when and which way up it was taken.

Pure functions over plain values (numbers, ``(numerator, denominator)`` pairs, strings):
they take what Pillow's ``Image.getexif()`` hands out but import nothing from Pillow, so
the rules can be checked on hand-made values. ``read_exif`` is the one place that walks a
Pillow ``Exif`` mapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATETIME_ORIGINAL = 0x9003
DATETIME_DIGITIZED = 0x9004
OFFSET_TIME_ORIGINAL = 0x9011

GPS_LATITUDE_REF = 1
GPS_LATITUDE = 2
GPS_LONGITUDE_REF = 3
GPS_LONGITUDE = 4
GPS_ALTITUDE_REF = 5
GPS_ALTITUDE = 6
GPS_TIMESTAMP = 7
GPS_DATESTAMP = 29

# EXIF orientation -> the transpositions that make the stored pixels upright, in order.
# Names are Pillow's ``Image.Transpose`` members, applied by the pipeline.
UPRIGHT_STEPS: dict[int, tuple[str, ...]] = {
    1: (),
    2: ("FLIP_LEFT_RIGHT",),
    3: ("ROTATE_180",),
    4: ("FLIP_TOP_BOTTOM",),
    5: ("TRANSPOSE",),
    6: ("ROTATE_270",),
    7: ("TRANSVERSE",),
    8: ("ROTATE_90",),
}


@dataclass(frozen=True)
class GpsFix:
    """A position from the photo's GPS tags: decimal degrees (south and west negative),
    metres above sea level, and the satellite time as an ISO 8601 UTC string."""

    latitude: float
    longitude: float
    altitude: float | None = None
    time_utc: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "altitude": self.altitude,
            "time_utc": self.time_utc,
        }


@dataclass(frozen=True)
class ExifFacts:
    """What the pipeline keeps from EXIF: orientation (1-8), camera time, GPS fix."""

    orientation: int = 1
    taken_at: str | None = None
    gps: GpsFix | None = None


def rational(value: Any) -> float:
    """A float from an EXIF rational: a number, or a ``(numerator, denominator)`` pair.

    Raises ``ValueError`` for a zero denominator or anything not finite.
    """
    if isinstance(value, (tuple, list)) and len(value) == 2:
        numerator, denominator = value
        if float(denominator) == 0:
            raise ValueError("EXIF rational with a zero denominator")
        result = float(numerator) / float(denominator)
    else:
        result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"EXIF rational is not a finite number: {value!r}")
    return result


def dms_to_degrees(dms: Sequence[Any], ref: str | bytes | None) -> float:
    """Decimal degrees from EXIF degrees/minutes/seconds and its N/S/E/W reference.

    South and west come out negative. Raises ``ValueError`` for a malformed triple or an
    out-of-range minute or second.
    """
    if len(dms) != 3:
        raise ValueError(f"GPS coordinate needs degrees, minutes, seconds; got {dms!r}")
    degrees, minutes, seconds = (rational(part) for part in dms)
    if not (0 <= minutes < 60 and 0 <= seconds < 60 and degrees >= 0):
        raise ValueError(f"GPS coordinate out of range: {dms!r}")
    value = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if (ref or "").strip().upper() in ("S", "W"):
        value = -value
    return value


def gps_from_tags(tags: Mapping[int, Any]) -> GpsFix | None:
    """The fix in a GPS IFD, or None when it has no usable latitude and longitude.

    A bad altitude or time is dropped, not fatal: the position alone is still evidence.
    """
    try:
        latitude = dms_to_degrees(tags[GPS_LATITUDE], tags.get(GPS_LATITUDE_REF))
        longitude = dms_to_degrees(tags[GPS_LONGITUDE], tags.get(GPS_LONGITUDE_REF))
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    # Many phones write 0/0 when they have no fix yet.
    if latitude == 0 and longitude == 0:
        return None
    return GpsFix(
        latitude=round(latitude, 7),
        longitude=round(longitude, 7),
        altitude=_altitude(tags),
        time_utc=gps_time_utc(tags.get(GPS_DATESTAMP), tags.get(GPS_TIMESTAMP)),
    )


def _altitude(tags: Mapping[int, Any]) -> float | None:
    if GPS_ALTITUDE not in tags:
        return None
    try:
        metres = rational(tags[GPS_ALTITUDE])
    except (TypeError, ValueError):
        return None
    ref = tags.get(GPS_ALTITUDE_REF, 0)
    if isinstance(ref, bytes):
        ref = ref[:1] == b"\x01"
    return round(-metres if ref in (1, True) else metres, 2)


def gps_time_utc(datestamp: Any, timestamp: Any) -> str | None:
    """ISO 8601 UTC from GPSDateStamp ("YYYY:MM:DD") and GPSTimeStamp (h, m, s rationals).

    None when either is missing or malformed.
    """
    if not datestamp or timestamp is None:
        return None
    try:
        if isinstance(datestamp, bytes):
            datestamp = datestamp.decode("ascii")
        day = datetime.strptime(str(datestamp).strip("\x00 "), "%Y:%m:%d")
        hours, minutes, seconds = (rational(part) for part in timestamp)
        if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
            return None
    except (TypeError, ValueError):
        return None
    moment = day.replace(tzinfo=UTC) + timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return _iso(moment)


def exif_datetime(value: Any, offset: Any = None) -> str | None:
    """ISO 8601 from an EXIF "YYYY:MM:DD HH:MM:SS" camera time, with its offset if known.

    Cameras write local time without a zone; the result carries one only when the photo
    has OffsetTimeOriginal ("+08:00"). None when missing or malformed.
    """
    if not value:
        return None
    try:
        if isinstance(value, bytes):
            value = value.decode("ascii")
        moment = datetime.strptime(str(value).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if offset:
        try:
            if isinstance(offset, bytes):
                offset = offset.decode("ascii")
            zone = datetime.strptime(str(offset).strip("\x00 "), "%z").tzinfo
            moment = moment.replace(tzinfo=zone)
        except ValueError:
            pass
    return moment.isoformat()


def orientation_of(value: Any) -> int:
    """The EXIF orientation 1-8; anything else (missing, 0, garbage) counts as 1."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if number in UPRIGHT_STEPS else 1


def read_exif(exif: Mapping[int, Any]) -> ExifFacts:
    """Orientation, camera time and GPS fix from a Pillow ``Exif`` (or any mapping with
    ``get_ifd``). Malformed tags are ignored, never fatal."""
    get_ifd = getattr(exif, "get_ifd", None)

    def ifd(tag: int) -> Mapping[int, Any]:
        try:
            found = get_ifd(tag) if get_ifd else exif.get(tag)
        except Exception:  # Pillow raises assorted errors on corrupt IFDs.
            return {}
        return found if isinstance(found, Mapping) else {}

    details = ifd(EXIF_IFD)
    taken_at = exif_datetime(
        details.get(DATETIME_ORIGINAL), details.get(OFFSET_TIME_ORIGINAL)
    ) or exif_datetime(details.get(DATETIME_DIGITIZED))
    return ExifFacts(
        orientation=orientation_of(exif.get(ORIENTATION)),
        taken_at=taken_at,
        gps=gps_from_tags(ifd(GPS_IFD)),
    )


def _iso(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")
