"""From a photo's bytes (camera or gallery) to an evidence photo on the phone.

    bytes -> checks (size, format, pixels) -> decode at reduced size (JPEG draft mode)
          -> exact resize (long side <= 1600) -> upright (EXIF orientation) -> RGB
          -> evidence stamp -> JPEG progressive, q80 or lower to stay within 400 KiB
          -> 320 px thumbnail
          -> files named by hash, written atomically -> EvidencePhoto

Nothing is written until every check has passed and both JPEGs are encoded, so a refused
photo leaves nothing behind. Processing a 12-megapixel photo takes a few hundred
milliseconds: UI code should run ``process_photo`` off the event loop
(``await asyncio.to_thread(process_photo, ...)``).
"""

from __future__ import annotations

import errno
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from field_app.messages import fail
from field_app.photos.decode import (
    Decoder,
    Limits,
    check_size_kept,
    heif_unsupported,
    not_an_image,
)
from field_app.photos.errors import PhotoNotSaved, PhotoTooLarge
from field_app.photos.exif import UPRIGHT_STEPS, ExifFacts, GpsFix, read_exif
from field_app.photos.files import (
    evidence_name,
    sha256_hex,
    thumbnail_name,
    write_atomically,
)
from field_app.photos.stamp import StampConfig, StampFacts, burn_stamp, stamp_lines
from xuncha_core.durable import fsync_folder

MIME = "image/jpeg"


@dataclass(frozen=True)
class Location:
    """A position in decimal degrees (WGS-84 as the phone reports it), with the altitude
    and horizontal accuracy in metres when known."""

    latitude: float
    longitude: float
    altitude: float | None = None
    accuracy: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "altitude": self.altitude,
            "accuracy": self.accuracy,
        }


@dataclass(frozen=True)
class Capture:
    """What the app knows at the moment the photo was taken or picked: the device's clock
    (an aware datetime, the phone's own zone), its location fix if any, and who and where."""

    device_time: datetime
    device_location: Location | None = None
    village: str = ""
    recorder: str = ""
    place: str = ""
    # The bytes come from the app's own camera (flet-camera), not from the gallery or a
    # file: see ``field_app.photos.decode.check_jpeg`` for what that spares.
    from_camera: bool = False


@dataclass(frozen=True)
class PhotoSettings:
    """Per-deployment photo settings with the defaults the issue asks for."""

    max_long_side: int = 1600
    quality: int = 80
    # The evidence budget: quality is lowered in steps (never below the last step) and
    # then the photo scaled down until the JPEG fits; the quality used is recorded.
    max_evidence_bytes: int = 400 * 1024
    quality_steps: tuple[int, ...] = (72, 64, 56, 48)
    thumbnail_long_side: int = 320
    thumbnail_quality: int = 70
    limits: Limits = field(default_factory=Limits)
    stamp: StampConfig = field(default_factory=StampConfig)


@dataclass(frozen=True)
class EvidencePhoto:
    """An evidence photo as kept on the phone, ready to be referred to by a record.

    ``sha256`` names the evidence JPEG (the blob the server receives); ``original_sha256``
    is the hash of the bytes that came from the camera or gallery, which are not kept.
    """

    sha256: str
    size: int
    width: int
    height: int
    mime: str
    path: Path
    thumbnail_path: Path
    thumbnail_width: int
    thumbnail_height: int
    quality: int
    original_sha256: str
    original_size: int
    original_format: str
    original_width: int
    original_height: int
    exif_time: str | None
    gps: GpsFix | None
    captured_at: str
    capture_location: Location | None
    stamp: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description for the local store and the record envelope; files are
        given by name, relative to the photos folder."""
        return {
            "sha256": self.sha256,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "mime": self.mime,
            "file": self.path.name,
            "thumbnail": self.thumbnail_path.name,
            "quality": self.quality,
            "original_sha256": self.original_sha256,
            "original_size": self.original_size,
            "original_format": self.original_format,
            "original_width": self.original_width,
            "original_height": self.original_height,
            "exif_time": self.exif_time,
            "gps": self.gps.as_dict() if self.gps else None,
            "captured_at": self.captured_at,
            "capture_location": (
                self.capture_location.as_dict() if self.capture_location else None
            ),
            "stamp": list(self.stamp),
        }


def process_photo(
    data: bytes,
    *,
    photos_dir: Path,
    capture: Capture,
    settings: PhotoSettings | None = None,
    decoder: Decoder | None = None,
) -> EvidencePhoto:
    """Turn a photo's bytes into an upright, stamped, downscaled evidence JPEG and its
    thumbnail, saved in ``photos_dir`` under their hashes.

    Raises a ``PhotoError`` (code, English and Chinese message) for a photo that cannot be
    used; nothing is written then.
    """
    settings = settings or PhotoSettings()
    decoder = decoder or Decoder()
    image = decoder.open(data, settings.limits, from_camera=capture.from_camera)
    original_format = image.format or "unknown"
    facts = _exif_facts(image)
    original_w, original_h = upright_size(image.size, facts.orientation)
    image = _decode_upright(image, settings.max_long_side, facts.orientation)

    location = capture.device_location
    latitude = location.latitude if location else (facts.gps.latitude if facts.gps else None)
    longitude = location.longitude if location else (facts.gps.longitude if facts.gps else None)
    lines = stamp_lines(
        settings.stamp,
        StampFacts(
            time=capture.device_time,
            place=capture.place,
            latitude=latitude,
            longitude=longitude,
            village=capture.village,
            recorder=capture.recorder,
        ),
    )
    burn_stamp(image, lines, settings.stamp)

    image, evidence, quality = _evidence_jpeg(image, settings)
    thumb = image.copy()
    thumb.thumbnail((settings.thumbnail_long_side,) * 2, Image.Resampling.BILINEAR)
    thumbnail = _jpeg(thumb, settings.thumbnail_quality, progressive=False)

    sha = sha256_hex(evidence)
    try:
        path = write_atomically(photos_dir, evidence_name(sha), evidence, sync_folder=False)
        thumbnail_path = write_atomically(
            photos_dir, thumbnail_name(sha), thumbnail, sync_folder=False
        )
        fsync_folder(photos_dir)
    except OSError as error:
        raise _not_saved(error, len(evidence) + len(thumbnail)) from error
    return EvidencePhoto(
        sha256=sha,
        size=len(evidence),
        width=image.width,
        height=image.height,
        mime=MIME,
        path=path,
        thumbnail_path=thumbnail_path,
        thumbnail_width=thumb.width,
        thumbnail_height=thumb.height,
        quality=quality,
        original_sha256=sha256_hex(data),
        original_size=len(data),
        original_format=original_format,
        original_width=original_w,
        original_height=original_h,
        exif_time=facts.taken_at,
        gps=facts.gps,
        captured_at=_iso(capture.device_time),
        capture_location=location,
        stamp=tuple(lines),
    )


def target_size(size: tuple[int, int], max_long_side: int) -> tuple[int, int]:
    """``size`` scaled so its long side is at most ``max_long_side``, aspect kept; never
    enlarged."""
    width, height = size
    scale = min(1.0, max_long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _exif_facts(image: Image.Image) -> ExifFacts:
    try:
        return read_exif(image.getexif())
    except Exception:  # A corrupt EXIF block must not cost the photo itself.
        return ExifFacts()


def _decode_upright(image: Image.Image, max_long_side: int, orientation: int) -> Image.Image:
    full = image.size
    declared_format = image.format
    target = target_size(full, max_long_side)
    if image.format == "JPEG" and target != full:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale, never below the target: 12 MP becomes
        # 3 MP before Python sees a pixel. Ask with the image's own aspect (stored
        # orientation), or draft picks a scale too small for the long side.
        image.draft("RGB", target)
    try:
        image.load()
        image = _rgb(image)
    except (Image.DecompressionBombError, MemoryError) as error:
        raise fail(PhotoTooLarge, "photo.too_many_pixels_decoded", code="photo.too_many_pixels") from error
    except (AttributeError, TypeError, ImportError) as error:
        if image.format == "HEIF":  # a pillow_heif built for another Pillow
            raise heif_unsupported(f"HEIF decoder failed: {error}") from error
        raise not_an_image(error) from error
    except Exception as error:
        # Decoders are C libraries and plugins fed untrusted bytes; whatever they raise,
        # the supervisor needs "this photo cannot be read", not a crash.
        raise not_an_image(error) from error
    if declared_format != "JPEG":  # a JPEG decoded in draft mode is smaller by design
        check_size_kept(full, image.size)
    if image.size != target:
        # After draft mode the step left is under 2x, where bilinear (antialiased in Pillow)
        # looks like bicubic at half the cost; larger steps start with a box reduction.
        image = image.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
    for step in UPRIGHT_STEPS[orientation]:
        image = image.transpose(Image.Transpose[step])
    return image


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The size of stored pixels ``size`` once turned upright: orientations 5-8 swap sides."""
    width, height = size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _not_saved(error: OSError, needed: int) -> PhotoNotSaved:
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return fail(PhotoNotSaved, "photo.storage_full", needed_kb=needed // 1024 + 1,
                    detail={"needed": needed, "reason": str(error)})
    return fail(PhotoNotSaved, "photo.not_saved", reason=error.strerror, detail={"reason": str(error)})


def _evidence_jpeg(image: Image.Image, settings: PhotoSettings) -> tuple[Image.Image, bytes, int]:
    """The evidence JPEG within ``max_evidence_bytes``: the image (scaled down only if the
    lowest quality step is still too large), its bytes, and the quality they were saved at."""
    steps = [settings.quality] + [q for q in settings.quality_steps if q < settings.quality]
    for quality in steps:
        data = _jpeg(image, quality, progressive=True)
        if len(data) <= settings.max_evidence_bytes:
            return image, data, quality
    while max(image.size) > settings.limits.min_long_side:
        # JPEG size grows about with the pixel count: aim a little under the budget.
        scale = max(0.5, min(0.95, (settings.max_evidence_bytes / len(data)) ** 0.5 * 0.95))
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        data = _jpeg(image, quality, progressive=True)
        if len(data) <= settings.max_evidence_bytes:
            break
    return image, data, quality


def _jpeg(image: Image.Image, quality: int, *, progressive: bool) -> bytes:
    # Progressive lets a slow link show the whole photo early; a thumbnail is too small
    # for that to matter and costs less to encode as baseline.
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, progressive=progressive, optimize=True)
    return buffer.getvalue()


def _iso(moment: datetime) -> str:
    # The phone's own offset is kept: it is part of what the device claimed.
    return moment.isoformat(timespec="seconds")
