"""Evidence photos: checked, then kept as content-addressed blobs with a ledger entry.

A photo is named by the SHA-256 of its bytes. Before anything is kept the
server re-hashes the bytes and proves they are a real image within limits, in
this order, each failure a 4xx ``ApiError`` that leaves nothing behind:

    413 photo.too_large         more bytes than ``settings.max_photo_bytes``
    422 photo.hash_mismatch     the bytes do not hash to the name they were sent under
    422 photo.not_an_image      not JPEG, PNG or WebP (0-byte, text, GIF, HEIF, ...)
    422 photo.too_many_pixels   the header declares more than ``settings.max_photo_pixels``
                                (checked before any pixel is decoded: decompression bombs)
    422 photo.truncated         the pixels do not decode to the end (cut short or damaged)

Only then is the blob written to ``<data>/photos/<sha[:2]>/<sha>`` (temp file in
the same folder, fsync, rename, fsync folder) and, after that, the ``photos``
row and the ``photo.received`` ledger entry are added in one transaction. The
file comes first so a row never exists without its file; a file without a row
(a crash between the two) is harmless, since the same bytes will be written
under the same name again. Storing a photo that is already kept returns its
original receipt.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import threading
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image, ImageFile
from sqlalchemy import Connection, Engine, select

from server import ledger
from server import tables as t
from server.db import is_sqlite, read, write
from server.errors import ApiError
from server.settings import Settings

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


@dataclass(frozen=True)
class PhotoReceipt:
    """What the server answers for a kept photo; ``replayed`` when it was already kept."""

    sha256: str
    size: int
    mime: str
    width: int
    height: int
    uploaded_by: str
    received_at: str
    ledger_index: int
    leaf_hash: str
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- checks ---------------------------------------------------------------------------


def normalise_sha256(value: str) -> str:
    """The lowercase hex form of a SHA-256 name, or 422 ``photo.bad_hash``."""
    sha = value.strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ApiError(
            422,
            "photo.bad_hash",
            f"{value[:80]!r} is not a SHA-256 hash (64 hex digits).",
            "照片标识不是有效的 SHA-256 值（64 位十六进制）。",
        )
    return sha


def too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413,
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
        raise ApiError(
            422,
            "photo.hash_mismatch",
            "The bytes received do not match the photo's SHA-256; they were damaged on the way. Send the photo again.",
            "收到的照片内容与其 SHA-256 不符，传输中已损坏，请重新上传。",
            {"expected": expected_sha256, "actual": actual, "size": size},
        )
    return size


def _not_an_image(message: str, message_zh: str, **detail: Any) -> ApiError:
    return ApiError(422, "photo.not_an_image", message, message_zh, detail)


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


def _too_many_pixels(pixels: int, limit: int) -> ApiError:
    return ApiError(
        422,
        "photo.too_many_pixels",
        f"The image header declares {pixels} pixels; the largest accepted is {limit}. "
        "Take the photo again at a normal camera resolution.",
        f"图片文件头声明 {pixels} 像素，超过上限 {limit} 像素。请用正常分辨率重新拍摄。",
        {"pixels": pixels, "limit": limit},
    )


def _truncated(reason: str) -> ApiError:
    return ApiError(
        422,
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
            if fmt == "JPEG":
                # Decoding at 1/8 scale still reads every coefficient, so truncation is
                # caught, with 1/64 of the memory and a fraction of the time.
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            try:
                with _DECODE_SLOTS:
                    image.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
                raise _too_many_pixels(width * height, settings.max_photo_pixels) from None
            except Exception as exc:  # OSError "image file is truncated", zlib errors, ...
                raise _truncated(str(exc)) from None
    return width, height


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


# -- blobs ----------------------------------------------------------------------------


def photo_path(settings: Settings, sha256: str) -> Path:
    """Where the photo named ``sha256`` is kept (whether or not it is there)."""
    return settings.photos_dir / sha256[:2] / sha256


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_blob(settings: Settings, sha256: str, source: Source) -> Path:
    """Write the bytes to the photo's path atomically and durably; returns the path."""
    final = photo_path(settings, sha256)
    if not final.parent.is_dir():
        final.parent.mkdir(parents=True, exist_ok=True)
        fsync_dir(final.parent.parent)
    tmp = final.parent / f".{sha256}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "xb") as out:
            if isinstance(source, bytes):
                out.write(source)
            else:
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, out, _READ_BLOCK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(final.parent)
    return final


def sweep_temp_files(settings: Settings) -> int:
    """Delete temp files a killed process left behind in photos/ and uploads/; returns how many."""
    removed = 0
    for pattern, folder in (("*/.*.tmp", settings.photos_dir), ("*.tmp", settings.uploads_dir)):
        if folder.is_dir():
            for leftover in folder.glob(pattern):
                leftover.unlink(missing_ok=True)
                removed += 1
    return removed


# -- rows and ledger --------------------------------------------------------------------


def find_photo(conn: Connection, sha256: str) -> PhotoReceipt | None:
    """The receipt of a kept photo, or None."""
    row = conn.execute(select(t.photos).where(t.photos.c.sha256 == sha256)).mappings().first()
    if row is None:
        return None
    return PhotoReceipt(
        sha256=row["sha256"],
        size=int(row["size"]),
        mime=row["mime"],
        width=int(row["width"]),
        height=int(row["height"]),
        uploaded_by=row["uploaded_by"],
        received_at=row["received_at"],
        ledger_index=int(row["ledger_index"]),
        leaf_hash=row["leaf_hash"],
    )


def missing_photos(conn: Connection, hashes: list[str]) -> list[str]:
    """Those of ``hashes`` (normalised, deduplicated, in order) that the server does not keep."""
    wanted = list(dict.fromkeys(normalise_sha256(h) for h in hashes))
    kept: set[str] = set()
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        kept.update(conn.execute(select(t.photos.c.sha256).where(t.photos.c.sha256.in_(batch))).scalars())
    return [h for h in wanted if h not in kept]


def _lock_photo(conn: Connection, sha256: str) -> None:
    # SQLite writers already hold the database lock (BEGIN IMMEDIATE); on PostgreSQL two
    # transactions keeping the same photo must not both pass the "already kept?" check.
    if not is_sqlite(conn):
        key = int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")


def record_photo(conn: Connection, photo: CheckedPhoto, *, uploaded_by: str) -> PhotoReceipt:
    """Add the photos row and its ``photo.received`` entry, in the caller's transaction.

    The blob must already be written. If the photo is kept already, its original receipt.
    """
    _lock_photo(conn, photo.sha256)
    existing = find_photo(conn, photo.sha256)
    if existing is not None:
        return replace(existing, replayed=True)
    received_at = datetime.now(UTC).isoformat(timespec="microseconds")
    entry = {
        "type": "photo.received",
        "sha256": photo.sha256,
        "size": photo.size,
        "mime": photo.mime,
        "width": photo.width,
        "height": photo.height,
        "uploaded_by": uploaded_by,
        "received_at": received_at,
    }
    receipt = ledger.append(conn, entry)
    conn.execute(
        t.photos.insert().values(
            sha256=photo.sha256,
            size=photo.size,
            mime=photo.mime,
            width=photo.width,
            height=photo.height,
            uploaded_by=uploaded_by,
            received_at=received_at,
            ledger_index=receipt.index,
            leaf_hash=receipt.leaf_hash,
        )
    )
    return PhotoReceipt(
        sha256=photo.sha256,
        size=photo.size,
        mime=photo.mime,
        width=photo.width,
        height=photo.height,
        uploaded_by=uploaded_by,
        received_at=received_at,
        ledger_index=receipt.index,
        leaf_hash=receipt.leaf_hash,
    )


def _replay(settings: Settings, existing: PhotoReceipt, source: Source) -> PhotoReceipt:
    """An already kept photo sent again: confirm the bytes, restore a lost blob, same receipt."""
    check_hash(source, settings=settings, expected_sha256=existing.sha256)
    if not photo_path(settings, existing.sha256).is_file():
        write_blob(settings, existing.sha256, source)
    return replace(existing, replayed=True)


def store_photo(
    conn: Connection, *, settings: Settings, source: Source, expected_sha256: str, uploaded_by: str
) -> PhotoReceipt:
    """Check and keep one photo within the caller's transaction (see the module doc).

    For callers that already hold a write transaction (demo data, tools). The HTTP
    routes use ``keep_photo``, which checks the image before taking the write lock.
    """
    sha = normalise_sha256(expected_sha256)
    existing = find_photo(conn, sha)
    if existing is not None:
        return _replay(settings, existing, source)
    photo = inspect_photo(source, settings=settings, expected_sha256=sha)
    write_blob(settings, sha, source)
    return record_photo(conn, photo, uploaded_by=uploaded_by)


def keep_photo(
    engine: Engine, *, settings: Settings, source: Source, expected_sha256: str, uploaded_by: str
) -> PhotoReceipt:
    """``store_photo`` in its own transaction, decoding the image outside the write lock."""
    sha = normalise_sha256(expected_sha256)
    with read(engine) as conn:
        existing = find_photo(conn, sha)
    if existing is not None:
        return _replay(settings, existing, source)
    photo = inspect_photo(source, settings=settings, expected_sha256=sha)
    write_blob(settings, sha, source)
    with write(engine) as conn:
        return record_photo(conn, photo, uploaded_by=uploaded_by)


def may_read(conn: Connection, *, sha256: str, username: str, role: str, read_roles: tuple[str, ...]) -> bool:
    """Whether this user may see the photo: a read role, its uploader, or the author of a record citing it."""
    if role in read_roles:
        return True
    if conn.execute(
        select(t.photos.c.sha256).where(t.photos.c.sha256 == sha256, t.photos.c.uploaded_by == username)
    ).first():
        return True
    cited = (
        select(t.record_photos.c.sha256)
        .join(
            t.record_revisions,
            (t.record_revisions.c.record_id == t.record_photos.c.record_id)
            & (t.record_revisions.c.revision == t.record_photos.c.revision),
        )
        .where(t.record_photos.c.sha256 == sha256, t.record_revisions.c.author == username)
        .limit(1)
    )
    return conn.execute(cited).first() is not None
