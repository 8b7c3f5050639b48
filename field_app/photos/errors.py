"""Why a photo was refused.

    PhotoError                  base: ``code`` (stable), ``message`` (English), ``message_zh``
    ├── PhotoUnreadable         not an image we can decode: empty, truncated, garbage, too small
    ├── PhotoTooLarge           too many bytes or pixels to decode safely (decompression bombs)
    ├── PhotoFormatUnsupported  a real image in a format this phone cannot decode (HEIF here)
    └── PhotoNotSaved           the phone could not write the files (storage full, ...)

A refused photo leaves nothing behind: every check runs before the first file is written,
and a failed write removes its temporary file.
The codes match the server's where they mean the same thing (``photo.not_an_image``,
``photo.truncated``, ``photo.too_large``, ``photo.too_many_pixels``).
"""

from __future__ import annotations

from dataclasses import dataclass

from xuncha_core.errors import XunchaError


@dataclass
class PhotoError(XunchaError):
    message_zh: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
            "detail": dict(self.detail),
        }


@dataclass
class PhotoUnreadable(PhotoError):
    pass


@dataclass
class PhotoTooLarge(PhotoError):
    pass


@dataclass
class PhotoFormatUnsupported(PhotoError):
    pass


@dataclass
class PhotoNotSaved(PhotoError):
    pass
