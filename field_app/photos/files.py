"""Photo files on the phone: named by the SHA-256 of their bytes, written atomically.

A file either exists whole under its final name or not at all: it is written to a
temporary name in the same folder, flushed to disk, renamed over the final name, and the
folder itself is flushed so the rename survives a power cut. Because the name is the
content's hash, writing the same photo twice is harmless and a retry needs no cleanup.
Temporary files left by a killed app are removed by ``remove_leftover_temp_files``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

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
    the caller, who then calls ``fsync_folder`` once for several files.
    """
    target = folder / name
    if target.exists() and target.stat().st_size == len(data):
        return target
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    if sync_folder:
        fsync_folder(folder)
    return target


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (renames) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_leftover_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files a killed write left in ``folder``; return what was removed."""
    removed = []
    for path in folder.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed
