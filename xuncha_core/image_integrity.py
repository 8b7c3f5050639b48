"""Photos that lie: the rules the phone and the server share before a photo counts as evidence.

Image decoders are lenient on purpose: libjpeg fills a JPEG whose data ends early with
grey and only *warns* (Pillow never shows the warning), a HEIF decoder fills missing
tiles with a flat colour. A photo cut short, or whose header claims a larger picture
than its data holds, would then pass as a whole photo. These rules refuse it:

* JPEG: every scan decodes completely with no libjpeg warning, and to the size its header
  declares: its entropy-coded data holds exactly the blocks that size needs, with no bad
  code and no whole byte left over after its last block (or its last block before a
  restart marker), for baseline and progressive images; a progressive image must send
  every coefficient to full precision. Markers and scan headers are read first
  (``xuncha_core.jpeg_layout``, ``jpeg_entropy.check_scan_headers``); then a
  ``JpegEngine`` checks the scans' data:

      walker        the pure-Python walk of every scan (``xuncha_core.jpeg_entropy``): the
                    reference, and what the phone runs
      libvips       libjpeg through libvips, every warning an error, on a copy that makes
                    libjpeg look everywhere the walk does (``xuncha_core.jpeg_libvips``):
                    the server's, where ``pyvips`` is installed
      markers only  the data trusted: for a photo the app's own camera has just encoded

  ``default_jpeg_engine()`` is the one seam that picks: libvips where importable, the
  walk otherwise. The two refuse exactly the same files with the same codes
  (``tests/core/test_jpeg_engines.py``).
* HEIF: no box and no item's data reaches past the end of the file
  (``xuncha_core.heif_layout``); this needs no HEIF decoder.
* Any format: the decoded picture has the size its header declared.

PNG and WebP need no more than their decoders: both refuse data that ends early, and
PNG checks a CRC on every chunk.

Each failure is a ``PhotoDamaged`` (``xuncha_core.photo_damage``) with a stable code;
the phone and the server wrap it in their own error types.
"""

from __future__ import annotations

import functools
from typing import Protocol

from xuncha_core.heif_layout import check_heif
from xuncha_core.jpeg_entropy import check_all_sent, check_scan_headers, walk_scans
from xuncha_core.jpeg_layout import JpegLayout, read_layout
from xuncha_core.photo_damage import PhotoDamaged, truncated

__all__ = [
    "JpegEngine",
    "PhotoDamaged",
    "check_decoded_size",
    "check_whole",
    "default_jpeg_engine",
    "markers_only",
    "walker",
]


class JpegEngine(Protocol):
    """What checks a JPEG's scans once its markers and scan headers have passed."""

    name: str
    decodes_pixels: bool  # whether it decoded the whole image along the way

    def check(self, data: bytes, layout: JpegLayout) -> None: ...


class _Walker:
    """The pure-Python walk of every scan (``xuncha_core.jpeg_entropy``): the reference,
    and what the phone runs."""

    name = "walker"
    decodes_pixels = False

    def check(self, data: bytes, layout: JpegLayout) -> None:
        walk_scans(layout)


walker: JpegEngine = _Walker()


class _MarkersOnly:
    """Markers and scan headers only, the scans' data trusted: for a photo the app's own
    camera has just encoded on the phone (``field_app.photos.decode.check_jpeg``)."""

    name = "markers only"
    decodes_pixels = False

    def check(self, data: bytes, layout: JpegLayout) -> None:
        return None


markers_only: JpegEngine = _MarkersOnly()


@functools.cache
def default_jpeg_engine() -> JpegEngine:
    """libjpeg through libvips where ``pyvips`` is installed (the server); the walk
    otherwise (the phone). Both refuse exactly the same files."""
    try:
        from xuncha_core.jpeg_libvips import LibvipsJpeg
    except (ImportError, OSError):  # no pyvips, or no libvips library for it to load
        return walker
    return LibvipsJpeg()


def check_whole(data: bytes, image_format: str, *, engine: JpegEngine | None = None) -> JpegEngine | None:
    """Raise ``PhotoDamaged`` unless ``data`` (in Pillow's ``image_format``: "JPEG",
    "HEIF", ...) holds the whole picture its header describes, and nothing damaged.

    For a JPEG, answers the engine that checked it (``default_jpeg_engine()`` unless one
    is given), so a caller knows whether its pixels were decoded already.
    """
    if image_format == "JPEG":
        layout = read_layout(data)
        check_scan_headers(layout)
        engine = engine or default_jpeg_engine()
        engine.check(data, layout)
        check_all_sent(layout)
        return engine
    if image_format in ("HEIF", "AVIF"):
        check_heif(data)
    return None


def check_decoded_size(declared: tuple[int, int], decoded: tuple[int, int]) -> None:
    """Raise ``PhotoDamaged`` if a decoder produced a picture of another size than its
    header declared (some HEIF decoders change it while decoding)."""
    if tuple(declared) != tuple(decoded):
        raise truncated(
            f"its header declares {declared[0]}x{declared[1]} pixels but it decodes to "
            f"{decoded[0]}x{decoded[1]}",
            declared=list(declared),
            decoded=list(decoded),
        )
