"""Why a photo's bytes cannot be trusted to be the picture they claim to be.

    IntegrityError (xuncha_core.errors)
    └── PhotoDamaged            code, English ``message``, Chinese ``message_zh``, ``detail``
        codes: photo.truncated       the data ends before the image does (cut short, or a
                                     header that declares more than the file holds)
               photo.corrupt         the image data does not decode cleanly (bad codes,
                                     stray bytes, markers out of place)
               photo.unsupported_jpeg  a JPEG coding no camera uses (arithmetic, lossless,
                                     hierarchical), whose data this check cannot read

The phone and the server raise these with the same codes; each wraps them in its own
error type (``field_app.photos.PhotoUnreadable``; the server answers them as they are, 422).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xuncha_core.errors import IntegrityError


@dataclass
class PhotoDamaged(IntegrityError):
    pass


def truncated(reason: str, **detail: Any) -> PhotoDamaged:
    return PhotoDamaged(
        code="photo.truncated",
        message=f"The photo is cut short: {reason}. Copy or take the photo again.",
        message_zh="照片文件不完整（被截断或文件头与内容不符），请重新拍摄或重新复制。",
        detail={"reason": reason, **detail},
    )


def corrupt(reason: str, **detail: Any) -> PhotoDamaged:
    return PhotoDamaged(
        code="photo.corrupt",
        message=f"The photo's image data is damaged: {reason}. Copy or take the photo again.",
        message_zh="照片的图像数据已损坏，请重新拍摄或重新复制。",
        detail={"reason": reason, **detail},
    )


def unsupported_jpeg(coding: str) -> PhotoDamaged:
    return PhotoDamaged(
        code="photo.unsupported_jpeg",
        message=f"This JPEG uses {coding} coding, which cameras do not produce and which "
        "cannot be checked here. Save the photo as an ordinary JPEG and send it again.",
        message_zh="该 JPEG 采用相机不会使用的特殊编码方式，无法校验。请另存为普通 JPEG 后重新上传。",
        detail={"coding": coding},
    )
