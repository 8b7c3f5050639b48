"""Turning a photo's bytes into pixels, refusing what must not be decoded.

``Decoder`` is the seam between the pipeline and image decoders. HEIF needs the optional
``pillow_heif`` (desktop builds have it, phones may not): ``Decoder.heif_support`` says
whether it can be used, and tests swap it to see the refusal a phone without it gives.

Every check that can be made from the header (empty, too many bytes, unknown format, too
many pixels, too small, too many JPEG scans) is made before a single pixel is decoded, and
so are the rules the server applies too (``xuncha_core.image_integrity``): a JPEG whose
data ends before its last block (even with an end marker appended), or a HEIF file cut
short, is refused rather than decoded into grey or green.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from field_app.messages import fail
from field_app.photos.errors import PhotoFormatUnsupported, PhotoTooLarge, PhotoUnreadable
from xuncha_core.image_integrity import (
    JpegEngine,
    PhotoDamaged,
    check_decoded_size,
    check_whole,
    markers_only,
)

_BASE_FORMATS = ("JPEG", "PNG", "WEBP")
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# A progressive JPEG has about ten scans; thousands make libjpeg crawl (a "scan bomb"), so
# the marker is counted before decoding. Embedded EXIF thumbnails add one.
_MAX_JPEG_SCANS = 200


def load_pillow_heif() -> bool:
    """Register pillow_heif's HEIF opener with Pillow if it is installed; say whether it is.

    Imported lazily: it is large, optional, and only needed when a HEIF photo arrives.
    """
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


@dataclass(frozen=True)
class Limits:
    """How big a photo may be: ``max_bytes`` of file, ``max_pixels`` in its header (a
    decompression bomb declares far more than it stores), ``min_long_side`` for evidence."""

    max_bytes: int = 60 * 1024 * 1024
    max_pixels: int = 120_000_000
    min_long_side: int = 320


@dataclass(frozen=True)
class Decoder:
    heif_support: Callable[[], bool] = load_pillow_heif
    # What checks a JPEG's scans: None is ``default_jpeg_engine()`` (the walk on a phone);
    # benchmarks and tests name one.
    jpeg_engine: JpegEngine | None = None

    def open(self, data: bytes, limits: Limits, *, from_camera: bool = False) -> Image.Image:
        """A lazily opened image whose header passed every limit; pixels not yet decoded.

        ``from_camera``: the bytes are the app's own camera's, just encoded on this phone
        (see ``check_jpeg``). Raises a ``PhotoError`` subclass saying what is wrong and
        what to do.
        """
        if not data:
            raise fail(PhotoUnreadable, "photo.empty")
        if len(data) > limits.max_bytes:
            raise fail(PhotoTooLarge, "photo.too_large", size_mb=len(data) // 2**20,
                       max_mb=limits.max_bytes // 2**20, detail={"size": len(data), "max_bytes": limits.max_bytes})
        formats = list(_BASE_FORMATS)
        if is_heif(data):
            check_intact(data, "HEIF")  # needs no decoder: a cut file says so even here
            if not self.heif_support():
                raise heif_unsupported()
            formats.append("HEIF")
        try:
            image = Image.open(io.BytesIO(data), formats=formats)
        except Image.DecompressionBombError as error:  # Pillow's own limit, above ours
            raise _too_many_pixels(None, limits) from error
        except Exception as error:  # UnidentifiedImageError, or a plugin choking
            raise not_an_image(error) from error
        width, height = image.size
        if width <= 0 or height <= 0:
            raise not_an_image(ValueError(f"image header says {width}x{height}"))
        if width * height > limits.max_pixels:
            raise _too_many_pixels((width, height), limits)
        if max(width, height) < limits.min_long_side:
            raise fail(PhotoUnreadable, "photo.too_small", width=width, height=height,
                       min_side=limits.min_long_side, detail={"width": width, "height": height})
        progressive = image.format == "JPEG" and image.info.get("progressive")
        if progressive and data.count(b"\xff\xda") > _MAX_JPEG_SCANS:
            raise fail(PhotoTooLarge, "photo.too_many_scans")
        if image.format == "JPEG":
            check_jpeg(data, engine=markers_only if from_camera else self.jpeg_engine)
        return image


def check_intact(data: bytes, image_format: str) -> None:
    """The shared rules (``xuncha_core.image_integrity``) as a ``PhotoUnreadable``."""
    try:
        check_whole(data, image_format)
    except PhotoDamaged as damaged:
        raise _unreadable(damaged) from damaged


def check_jpeg(data: bytes, *, engine: JpegEngine | None) -> None:
    """The shared JPEG rules, with ``engine`` checking the scans' data.

    A photo picked from the gallery gets the whole check: it may be a file cut short on
    its way (a cloud photo half downloaded, a copy interrupted), and such a file decodes
    into grey without an error. A photo the app's camera just took does not need the walk
    of its data (``markers_only``): flet-camera hands over the bytes the phone's own
    encoder wrote a moment ago, in this process, with nothing between that could cut or
    garble them, and walking a 12-megapixel photo's data in Python costs a second or
    more on a phone for every tap of the shutter. Its markers and scan headers are still
    read (they cost milliseconds), so a buffer the camera plugin cut short is refused.
    The server checks every evidence photo in full whatever the phone did.
    """
    try:
        check_whole(data, "JPEG", engine=engine)
    except PhotoDamaged as damaged:
        raise _unreadable(damaged) from damaged


def check_size_kept(declared: tuple[int, int], decoded: tuple[int, int]) -> None:
    """A decoder that changed the picture's size while decoding is refused."""
    try:
        check_decoded_size(declared, decoded)
    except PhotoDamaged as damaged:
        raise _unreadable(damaged) from damaged


def _unreadable(damaged: PhotoDamaged) -> PhotoUnreadable:
    return PhotoUnreadable(
        code=damaged.code,
        message=damaged.message,
        message_zh=damaged.message_zh,
        detail=dict(damaged.detail),
    )


def is_heif(data: bytes) -> bool:
    """Whether ``data`` starts like a HEIF/HEIC file (an ISO BMFF ``ftyp`` with a HEIF brand)."""
    if len(data) < 12 or data[4:8] != b"ftyp":
        return False
    box_size = min(int.from_bytes(data[:4], "big"), len(data), 256)
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, box_size - 3, 4)]
    if data[8:12] in (b"avif", b"avis"):  # AVIF shares the mif1 brand but is not HEVC
        return False
    return any(brand in _HEIF_BRANDS for brand in brands)


def heif_unsupported(reason: str = "no HEIF decoder installed") -> PhotoFormatUnsupported:
    """The refusal for a HEIF photo on a phone that cannot decode HEIF."""
    return fail(PhotoFormatUnsupported, "photo.heif_unsupported", detail={"format": "HEIF", "reason": reason})


def not_an_image(error: BaseException) -> PhotoUnreadable:
    """The refusal for bytes that no decoder could make sense of."""
    text = str(error)
    if "truncated" in text.lower() or "end of file" in text.lower():
        return fail(PhotoUnreadable, "photo.truncated", detail={"reason": text})
    return fail(PhotoUnreadable, "photo.not_an_image", detail={"reason": text})


def _too_many_pixels(size: tuple[int, int] | None, limits: Limits) -> PhotoTooLarge:
    shown = f"{size[0]}x{size[1]}" if size else "more than the limit"
    return fail(PhotoTooLarge, "photo.too_many_pixels", shown=shown, max_pixels=f"{limits.max_pixels:,}",
                detail={"size": list(size) if size else None, "max_pixels": limits.max_pixels})
