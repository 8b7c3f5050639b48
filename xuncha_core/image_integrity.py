"""Photos that lie: the rules the phone and the server share before a photo counts as evidence.

Image decoders are lenient on purpose: libjpeg fills a JPEG whose data ends early with
grey and only *warns* (Pillow never shows the warning), a HEIF decoder fills missing
tiles with a flat colour. A photo cut short, or whose header claims a larger picture
than its data holds, would then pass as a whole photo. These rules refuse it:

* JPEG: every scan's entropy-coded data holds exactly the blocks the header's size needs,
  with no bad code and nothing left over (``xuncha_core.jpeg_entropy``), for baseline and
  progressive images; a progressive image must send every coefficient to full precision.
* HEIF: no box and no item's data reaches past the end of the file
  (``xuncha_core.heif_layout``); this needs no HEIF decoder.
* Any format: the decoded picture has the size its header declared.

PNG and WebP need no more than their decoders: both refuse data that ends early, and
PNG checks a CRC on every chunk.

Each failure is a ``PhotoDamaged`` (``xuncha_core.photo_damage``) with a stable code;
the phone and the server wrap it in their own error types.
"""

from __future__ import annotations

from xuncha_core.heif_layout import check_heif
from xuncha_core.jpeg_entropy import check_scans
from xuncha_core.jpeg_layout import read_layout
from xuncha_core.photo_damage import PhotoDamaged, truncated

__all__ = ["PhotoDamaged", "check_decoded_size", "check_whole"]


def check_whole(data: bytes, image_format: str) -> None:
    """Raise ``PhotoDamaged`` unless ``data`` (in Pillow's ``image_format``: "JPEG",
    "HEIF", ...) holds the whole picture its header describes, and nothing damaged."""
    if image_format == "JPEG":
        check_scans(read_layout(data))
    elif image_format in ("HEIF", "AVIF"):
        check_heif(data)


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
