"""The sentences the phone's lower layers (photos, sync) speak, in Chinese and English.

They are part of the app's one catalogue: ``field_app.ui.i18n`` holds each of them under
``error.<key>`` (and ``stamp.<key>``) beside the screens' own text, and a view shows an
error by its ``code`` in the language chosen. Below the UI an error is built with
``fail(ErrorClass, key, **values)``, which fills ``message`` and ``message_zh`` from here.
A key is the error's ``code`` unless the call names another code.
"""

from __future__ import annotations

from typing import Any, TypeVar

from xuncha_core.errors import XunchaError

E = TypeVar("E", bound=XunchaError)

# key: (Chinese, English). Placeholders use str.format names.
ERRORS: dict[str, tuple[str, str]] = {
    # photos, on the phone (the codes match the server's where they mean the same thing)
    "photo.empty": ("照片文件是空的（0 字节），请重新拍摄。", "The photo file is empty (0 bytes). Take the photo again."),
    "photo.too_large": (
        "照片有 {size_mb} MB，最大只能 {max_mb} MB，请选用较小的照片。",
        "The photo is {size_mb} MB; at most {max_mb} MB can be used. Choose a smaller photo.",
    ),
    "photo.too_small": (
        "图片只有 {width}x{height} 像素，取证照片长边至少需要 {min_side} 像素，请用相机拍摄。",
        "The image is only {width}x{height} pixels; evidence photos need at least {min_side} pixels "
        "on the long side. Take the photo with the camera.",
    ),
    "photo.too_many_scans": (
        "该 JPEG 文件扫描段过多，无法在合理时间内解码，不是相机照片，请用相机拍摄。",
        "The JPEG has too many scans to decode in reasonable time; it is not a camera photo. "
        "Take the photo with the camera.",
    ),
    "photo.heif_unsupported": (
        "此处无法读取本机的 HEIF 格式照片：请在相机设置中选择“兼容性最佳”（JPEG）后重新拍摄。",
        "This phone's HEIF photos cannot be read here: set the camera to JPEG (Most Compatible) "
        "and take the photo again.",
    ),
    "photo.truncated": (
        "照片文件不完整（被截断），请重新拍摄或重新复制。",
        "The photo file is cut short (incomplete). Take or copy the photo again.",
    ),
    "photo.not_an_image": (
        "该文件不是可读取的照片（JPEG、PNG、WebP 或 HEIF），或已损坏，请重新拍摄。",
        "This file is not a photo that can be read (JPEG, PNG, WebP or HEIF) or it is damaged. "
        "Take the photo again.",
    ),
    "photo.too_many_pixels": (
        "图片声明的像素为 {shown}，超过安全上限 {max_pixels}，可能是恶意文件，请使用相机拍摄的照片。",
        "The image declares {shown} pixels; at most {max_pixels} can be decoded safely. "
        "It may be a decompression bomb; use a camera photo.",
    ),
    "photo.too_many_pixels_decoded": (
        "图片像素过多，无法安全解码，请使用相机拍摄的照片。",
        "The image has too many pixels to decode safely; use a camera photo.",
    ),
    "photo.storage_full": (
        "手机存储空间已满：保存照片需要 {needed_kb} KB，请清理空间（删除其他照片或应用）后重新拍摄。",
        "The phone's storage is full: the photo needs {needed_kb} KB. Free some space "
        "(delete other photos or apps) and take the photo again.",
    ),
    "photo.not_saved": (
        "照片无法保存到手机（{reason}），请重新拍摄；如反复出现，请重启应用。",
        "The photo could not be saved on the phone ({reason}). Take it again; if this keeps "
        "happening, restart the app.",
    ),
    # sync
    "sync.offline": (
        "无法连接服务器，有信号时会自动重试",
        "no connection to the server; sync tries again when there is a signal",
    ),
    "sync.bad_response": (
        "服务器的答复无法读取（{method} {url}），稍后会自动重试",
        "the server's answer to {method} {url} is not JSON",
    ),
    "sync.photo_corrupt": (
        "照片文件 {name} 已损坏（与哈希 {sha}… 不符），无法上传",
        "the photo file {name} no longer matches its hash {sha}…; it cannot be sent",
    ),
    "sync.photo_file_missing": ("照片 {sha}… 已不在这部手机上", "photo {sha}… is not on this phone"),
    "sync.internal": ("同步出错：{reason}", "sync failed: {reason}"),
    # receipts and their proofs
    "receipt.checkpoint_failed": (
        "服务器签名的账本检查点验证失败",
        "the server's signed ledger checkpoint did not verify",
    ),
    "receipt.not_yet_checkpointed": (
        "该记录尚未进入最新的账本检查点（第 {index} 条，检查点共 {size} 条），请稍后再试",
        "ledger entry {index} is newer than the latest checkpoint (size {size}); try again shortly",
    ),
    "receipt.proof_invalid": (
        "第 {index} 条账本记录的包含性证明与签名的账本根哈希不符：服务器记录可能被改动",
        "the inclusion proof of ledger entry {index} does not lead to the signed root",
    ),
    "receipt.none": ("该记录尚未同步，没有回执", "this record has no receipt yet: sync it first"),
    "receipt.revision_none": ("第 {revision} 版没有回执", "revision {revision} has no receipt on this phone"),
    "receipt.bad_answer": ("服务器的答复不是有效的账本条目", "the ledger answered an entry that is not text"),
    "receipt.bad_proof": ("服务器的答复不是有效的账本证明", "the server's answer is not a ledger proof"),
    "receipt.leaf_mismatch": (
        "第 {index} 条账本记录与回执的叶哈希不符",
        "ledger entry {index} has another leaf hash than the receipt",
    ),
}

# The labels burned into an evidence photo's stamp (always in Chinese: the photo is evidence
# for the county office), and the hemispheres of its coordinates.
STAMP: dict[str, tuple[str, str]] = {
    "time": ("时间", "Time"),
    "place": ("地点", "Place"),
    "coordinates": ("坐标", "Coordinates"),
    "village": ("村（社区）", "Village"),
    "recorder": ("记录人", "Recorded by"),
    "north": ("北纬", "N"),
    "south": ("南纬", "S"),
    "east": ("东经", "E"),
    "west": ("西经", "W"),
}


def fail(cls: type[E], key: str, *, code: str | None = None, detail: dict[str, Any] | None = None, **values: Any) -> E:
    """An error of ``cls`` whose message is ``key``'s sentence in both languages."""
    zh, en = ERRORS[key]
    return cls(code or key, en.format(**values), zh.format(**values), dict(detail or {}))


def stamp_label(name: str) -> str:
    """A stamp label, in Chinese."""
    return STAMP[name][0]
