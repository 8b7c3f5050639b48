"""Evidence photos: from camera or gallery bytes to a stamped, upright, hashed JPEG file.

pipeline.py   process_photo(data, photos_dir=, capture=) -> EvidencePhoto
decode.py     the decoder seam: limits, HEIF when pillow_heif is there
exif.py       orientation, camera time and GPS from EXIF (pure)
stamp.py      the evidence stamp: its text (pure) and drawing it with the bundled font
files.py      files named by hash, written atomically
errors.py     PhotoError and its subclasses
"""

from __future__ import annotations

from field_app.photos.decode import Decoder, Limits
from field_app.photos.errors import (
    PhotoError,
    PhotoFormatUnsupported,
    PhotoNotSaved,
    PhotoTooLarge,
    PhotoUnreadable,
)
from field_app.photos.exif import GpsFix
from field_app.photos.files import remove_leftover_temp_files
from field_app.photos.pipeline import (
    Capture,
    EvidencePhoto,
    Location,
    PhotoSettings,
    process_photo,
)
from field_app.photos.stamp import FONT_PATH, StampConfig

__all__ = [
    "FONT_PATH",
    "Capture",
    "Decoder",
    "EvidencePhoto",
    "GpsFix",
    "Limits",
    "Location",
    "PhotoError",
    "PhotoFormatUnsupported",
    "PhotoNotSaved",
    "PhotoSettings",
    "PhotoTooLarge",
    "PhotoUnreadable",
    "StampConfig",
    "process_photo",
    "remove_leftover_temp_files",
]
