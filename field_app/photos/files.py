"""Photo files on the phone: named by the SHA-256 of their bytes, written atomically.

A file either exists whole under its final name or not at all: it is written with
``xuncha_core.durable`` (temp file in the same folder, fsync, rename, fsync the folder).
Because the name is the content's hash, writing the same photo twice is harmless and a
retry needs no cleanup.
Temporary files left by a killed app are removed by ``remove_leftover_temp_files``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from xuncha_core import durable

# Not durable's ".tmp": phone photo temp files have always ended ".part".
TEMP_SUFFIX = ".part"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def evidence_name(sha256: str) -> str:
    """The evidence photo's file name."""
    return f"{sha256}.jpg"


def thumbnail_name(evidence_sha256: str) -> str:
    """The thumbnail's file name: filed under the evidence photo it shows."""
    return f"{evidence_sha256}.thumb.jpg"


def write_atomically(folder: Path, name: str, data: bytes, *, sync_folder: bool = True) -> Path:
    """Write ``data`` to ``folder/name`` so that a crash leaves the old state or the new one.

    If the file already exists with the same size it is left alone: names are hashes,
    so it already holds these bytes. ``sync_folder=False`` leaves flushing the rename to
    the caller, who then calls ``durable.fsync_folder`` once for several files.
    """
    target = folder / name
    if target.exists() and target.stat().st_size == len(data):
        return target
    return durable.replace_file(target, data, sync_folder=sync_folder, suffix=TEMP_SUFFIX)


def remove_leftover_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files a killed write left in ``folder``; return what was removed."""
    return durable.remove_temp_files(folder, suffix=TEMP_SUFFIX)
