"""Thumbnails of kept photos, for phones showing records whose photos they do not hold.

A phone that receives her old records (``server.records.own_records``) shows each photo as a
thumbnail first and fetches the full photo only when she opens it. A thumbnail is made
once, the first time it is asked for, from the kept photo (longest side 320 px, JPEG
quality 70: what the phone's own pipeline makes), and kept beside the photos in
``thumbnails/ab/<sha256>.jpg``, written atomically; it is derived data, rebuilt if lost.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps

from server.infra.settings import Settings
from xuncha_core import durable

LONG_SIDE = 320
QUALITY = 70


def thumbnail_path(settings: Settings, sha256: str) -> Path:
    return settings.data_dir / "thumbnails" / sha256[:2] / f"{sha256}.jpg"


def thumbnail_of(settings: Settings, sha256: str, photo: Path | BinaryIO) -> Path:
    """The photo's thumbnail file, made from ``photo`` if it is not kept yet."""
    path = thumbnail_path(settings, sha256)
    if path.is_file():
        return path
    with Image.open(photo) as image:
        image.draft("RGB", (LONG_SIDE, LONG_SIDE))  # a JPEG decodes at 1/2…1/8 scale: 10× less work
        small = ImageOps.exif_transpose(image) or image
        small = small.convert("RGB")
        small.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.BILINEAR)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=QUALITY, optimize=True)
    durable.private_folder(path.parent)
    return durable.replace_file(path, out.getvalue())
