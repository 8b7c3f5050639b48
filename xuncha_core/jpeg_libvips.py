"""The JPEG rule checked by libjpeg itself, through libvips (the server's engine).

libvips (``pyvips``, with the ``pyvips-binary`` wheel that bundles it and libjpeg-turbo)
can turn every libjpeg warning into an error (``fail_on="warning"``), which Pillow cannot.
It decodes the copy ``xuncha_core.jpeg_strict_copy`` makes, on which libjpeg warns exactly
where the walk (``xuncha_core.jpeg_entropy``) refuses; where no such copy can be made,
the walk decides. Either way the result is the same ``PhotoDamaged``, with the same code.

This module imports ``pyvips``; ``xuncha_core.image_integrity`` imports it only where that
is installed (never on the phone).
"""

from __future__ import annotations

import pyvips

from xuncha_core.jpeg_entropy import walk_scans
from xuncha_core.jpeg_layout import JpegLayout
from xuncha_core.jpeg_strict_copy import strict_copy
from xuncha_core.photo_damage import PhotoDamaged, corrupt, truncated

# libjpeg's words for a scan whose data ends early; every other warning is damage too.
_ENDS_EARLY = ("premature end",)


class LibvipsJpeg:
    """The scans of a JPEG decoded by libjpeg, any warning refused."""

    name = "libvips"
    decodes_pixels = True  # the whole image was decoded: no other decode is needed

    def check(self, data: bytes, layout: JpegLayout) -> None:
        copy = strict_copy(data, layout)
        if copy is None:
            walk_scans(layout)
            return
        try:
            image = pyvips.Image.jpegload_buffer(
                copy, shrink=8, fail_on="warning", access="sequential", revalidate=True
            )
            # Every row is decoded; libjpeg has read every scan before the first. A JPEG
            # decodes to the size its header declares, or libjpeg warns of a premature end.
            image.avg()
        except pyvips.Error as error:
            raise _damage(str(error)) from None


def _damage(error: str) -> PhotoDamaged:
    warning = next(
        (line.strip() for line in error.splitlines() if "VipsJpeg" in line), error.strip()
    )
    reason = warning.removeprefix("VipsJpeg:").strip()[:200]
    if any(words in reason.lower() for words in _ENDS_EARLY):
        return truncated(f"libjpeg: {reason}", decoder="libjpeg")
    return corrupt(f"libjpeg: {reason}", decoder="libjpeg")
