"""Checking an uploaded photo: the bytes are the photo they are named after, and a real image within limits.

A photo is named by the SHA-256 of its bytes. Before anything is kept the
server re-hashes the bytes and proves they are a real image within limits, in
this order, each failure a 4xx ``XunchaError``; nothing here writes anything:

    413 photo.too_large         more bytes than ``settings.max_photo_bytes``
    422 photo.hash_mismatch     the bytes do not hash to the name they were sent under
    422 photo.not_an_image      not JPEG, PNG or WebP (0-byte, text, GIF, HEIF, ...)
    422 photo.too_many_pixels   the header declares more than ``settings.max_photo_pixels``
                                (checked before any pixel is decoded: decompression bombs)
    422 photo.truncated         the data ends before the picture does: cut short (even with an
                                end marker appended), or a header that claims more than it holds
    422 photo.corrupt           the image data does not decode cleanly (bad codes, stray bytes)
    422 photo.unsupported_jpeg  a JPEG coding no camera uses (arithmetic, lossless, hierarchical)

The last three are the rules the phone applies too (``xuncha_core.image_integrity``):
a decoder only warns about them and fills the missing part with grey.

``inspect_photo`` runs them all and returns a ``CheckedPhoto``; ``server.photos.store``
keeps it.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image, ImageFile

from server.infra.settings import Settings
from xuncha_core.errors import IntegrityError, TooLargeError, ValidationError, XunchaError
from xuncha_core.image_integrity import JpegEngine, PhotoDamaged, check_decoded_size, check_whole

Source = bytes | Path

MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_READ_BLOCK = 1 << 20
# Full decodes of large PNG/WebP files hold every pixel in memory; two at a time bounds that.
_DECODE_SLOTS = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class CheckedPhoto:
    """Bytes proven to be a photo within limits."""

    sha256: str
    size: int
    mime: str
    width: int
    height: int


def normalise_sha256(value: str) -> str:
    """The lowercase hex form of a SHA-256 name, or 422 ``photo.bad_hash``."""
    sha = value.strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValidationError(
            "photo.bad_hash",
            f"{value[:80]!r} is not a SHA-256 hash (64 hex digits).",
            "照片标识不是有效的 SHA-256 值（64 位十六进制）。",
        )
    return sha


def upload_request(sha256: str, length: int, *, settings: Settings) -> str:
    """The normalised name of a photo a phone announces for a resumable upload, once its
    announced length is possible (neither empty nor over the limit)."""
    sha = normalise_sha256(sha256)
    if length < 1:
        raise ValidationError(
            "photo.not_an_image", "An empty file (0 bytes) is not a photo.", "空文件（0 字节）不是照片。", {"format": "empty"}
        )
    if length > settings.max_photo_bytes:
        raise too_large(length, settings.max_photo_bytes)
    return sha


def too_large(size: int, limit: int) -> XunchaError:
    return TooLargeError(
        "photo.too_large",
        f"The photo is {size} bytes; the largest accepted is {limit} bytes. Take it again at a lower resolution.",
        f"照片大小 {size} 字节，超过上限 {limit} 字节。请降低分辨率后重新拍摄。",
        {"size": size, "limit": limit},
    )


def _size_of(source: Source) -> int:
    return len(source) if isinstance(source, bytes) else source.stat().st_size


def _open(source: Source) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")


def _sha256_of(source: Source) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    digest = hashlib.sha256()
    with open(source, "rb") as f:
        while block := f.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def check_hash(source: Source, *, settings: Settings, expected_sha256: str) -> int:
    """The size of ``source`` once it is within the byte limit and hashes to ``expected_sha256``."""
    size = _size_of(source)
    if size > settings.max_photo_bytes:
        raise too_large(size, settings.max_photo_bytes)
    actual = _sha256_of(source)
    if actual != expected_sha256:
        raise IntegrityError(
            "photo.hash_mismatch",
            "The bytes received do not match the photo's SHA-256; they were damaged on the way. Send the photo again.",
            "收到的照片内容与其 SHA-256 不符，传输中已损坏，请重新上传。",
            {"expected": expected_sha256, "actual": actual, "size": size},
        )
    return size


def _not_an_image(message: str, message_zh: str, **detail: Any) -> XunchaError:
    return ValidationError("photo.not_an_image", message, message_zh, detail)


def sniff_format(head: bytes) -> str:
    """JPEG, PNG or WEBP from the first bytes, or 422 ``photo.not_an_image``."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        raise _not_an_image(
            "HEIF/HEIC photos are not accepted. The Xuncha app converts photos to JPEG before sending; "
            "send the photo through the app, or convert it to JPEG.",
            "不接受 HEIF/HEIC 格式照片。巡查 App 会在上传前自动转为 JPEG，请通过 App 上传或先转换为 JPEG。",
            format="heif",
        )
    if not head:
        raise _not_an_image("The file is empty (0 bytes); it is not a photo.", "文件为空（0 字节），不是照片。", format="empty")
    raise _not_an_image(
        "The file is not a JPEG, PNG or WebP image. Send the photo as taken by the camera.",
        "文件不是 JPEG、PNG 或 WebP 图片，请上传相机拍摄的照片。",
        format="unknown",
    )


def _too_many_pixels(pixels: int, limit: int) -> XunchaError:
    return TooLargeError(
        "photo.too_many_pixels",
        f"The image header declares {pixels} pixels; the largest accepted is {limit}. "
        "Take the photo again at a normal camera resolution.",
        f"图片文件头声明 {pixels} 像素，超过上限 {limit} 像素。请用正常分辨率重新拍摄。",
        {"pixels": pixels, "limit": limit},
    )


def _truncated(reason: str) -> XunchaError:
    return IntegrityError(
        "photo.truncated",
        "The photo is cut short or damaged and cannot be read to the end. Send it again from the phone.",
        "照片不完整或已损坏，无法完整读取，请从手机重新上传。",
        {"reason": reason[:200]},
    )


def check_image(source: Source, *, settings: Settings, fmt: str) -> tuple[int, int]:
    """Width and height once the header is within the pixel limit and every pixel decodes."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; truncated photos would be kept")
    with _open(source) as fp:
        try:
            image = Image.open(fp, formats=[fmt])  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(_declared_pixels(exc), settings.max_photo_pixels) from None
        except Exception as exc:  # Pillow raises many types for a bad header
            raise _not_an_image(
                f"The {fmt} header cannot be read ({exc}); the file is not a usable photo.",
                f"无法读取 {fmt} 文件头，文件不是可用的照片。",
                format=fmt.lower(),
            ) from None
        with image:
            width, height = image.size
            if width < 1 or height < 1:
                raise _not_an_image("The image has no pixels.", "图片没有像素。", format=fmt.lower())
            if width * height > settings.max_photo_pixels:
                raise _too_many_pixels(width * height, settings.max_photo_pixels)
            try:
                with _DECODE_SLOTS:
                    engine = _check_whole(source, fmt)
                    if engine is None or not engine.decodes_pixels:
                        if fmt == "JPEG":
                            # Decoding at 1/8 scale still reads every coefficient, so errors
                            # are caught, with 1/64 of the memory and a fraction of the time.
                            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                        image.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
                raise _too_many_pixels(width * height, settings.max_photo_pixels) from None
            except XunchaError:
                raise
            except Exception as exc:  # OSError "image file is truncated", zlib errors, ...
                raise _truncated(str(exc)) from None
            if fmt != "JPEG":  # a JPEG drafted to 1/8 is smaller by design
                _damaged_or_none(lambda: check_decoded_size((width, height), image.size))
    return width, height


def _check_whole(source: Source, fmt: str) -> JpegEngine | None:
    """The shared rules: the data holds the whole picture its header declares, undamaged.

    A JPEG is checked by ``default_jpeg_engine()``: libjpeg through libvips on a server
    with the ``server`` extra installed, which decodes every pixel along the way (so no
    other decode follows); the pure-Python walk otherwise. Both refuse the same files.
    """
    data = source if isinstance(source, bytes) else source.read_bytes()
    try:
        return check_whole(data, fmt)
    except PhotoDamaged as damaged:
        raise ValidationError(damaged.code, damaged.message, damaged.message_zh, damaged.detail) from None


def _damaged_or_none(check: Callable[[], None]) -> None:
    try:
        check()
    except PhotoDamaged as damaged:
        raise ValidationError(damaged.code, damaged.message, damaged.message_zh, damaged.detail) from None


def _declared_pixels(exc: BaseException) -> int:
    # Pillow refuses before we see the size; its message reads "Image size (N pixels) exceeds limit ...".
    digits = "".join(c if c.isdigit() else " " for c in str(exc)).split()
    return int(digits[0]) if digits else 0


def inspect_photo(source: Source, *, settings: Settings, expected_sha256: str) -> CheckedPhoto:
    """Prove ``source`` is the photo named ``expected_sha256`` and within limits (see module doc)."""
    sha = normalise_sha256(expected_sha256)
    size = check_hash(source, settings=settings, expected_sha256=sha)
    with _open(source) as fp:
        head = fp.read(32)
    fmt = sniff_format(head)
    width, height = check_image(source, settings=settings, fmt=fmt)
    return CheckedPhoto(sha256=sha, size=size, mime=MIME[fmt], width=width, height=height)
