"""Why a photo was refused: the phone's photo leaves of ``xuncha_core.errors``.

    XunchaError (xuncha_core)
    └── PhotoError              base of every photo refusal: ``code``, ``message``, ``message_zh``
        ├── PhotoUnreadable         not an image we can decode: empty, truncated, garbage, too small
        ├── PhotoTooLarge           (also a TooLargeError) too many bytes or pixels to decode safely
        ├── PhotoFormatUnsupported  a real image in a format this phone cannot decode (HEIF here)
        └── PhotoNotSaved           (also an UnavailableError) the phone could not write the files

A refused photo leaves nothing behind: every check runs before the first file is written,
and a failed write removes its temporary file.
The codes match the server's where they mean the same thing (``photo.not_an_image``,
``photo.truncated``, ``photo.too_large``, ``photo.too_many_pixels``).
"""

from __future__ import annotations

from dataclasses import dataclass

from xuncha_core.errors import TooLargeError, UnavailableError, XunchaError


@dataclass
class PhotoError(XunchaError):
    pass


@dataclass
class PhotoUnreadable(PhotoError):
    pass


@dataclass
class PhotoTooLarge(PhotoError, TooLargeError):
    pass


@dataclass
class PhotoFormatUnsupported(PhotoError):
    pass


@dataclass
class PhotoNotSaved(PhotoError, UnavailableError):
    pass
