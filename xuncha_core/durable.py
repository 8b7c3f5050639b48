"""Crash-safe file replacement: a file holds its old content or its new content, never a mix.

The guarantee. When ``replace_file(path, content)`` returns, ``path`` holds exactly
``content`` and that survives a power cut. If the process is killed (or the power
fails) at any moment before it returns, ``path`` holds its previous content, or is
still absent, and at worst a temporary file is left beside it. ``create_file`` is
the exclusive variant: it puts ``path`` in place only if there is none yet, never
replacing what another process created first.

How. The content goes to a temporary file in the same folder (so the rename never
crosses a filesystem), which is flushed and fsynced, then renamed over ``path``
(``os.replace``; ``os.link`` for ``create_file``) and the folder is fsynced so the
new name itself is durable. ``sync_folder=False`` leaves that last step to a caller
that writes several files into one folder and calls ``fsync_folder`` once.

Files are private: ``mode`` (0600 unless a caller asks otherwise) is set exactly, not
narrowed or widened by the umask, and ``private_folder`` makes folders 0700 the same way,
so nothing another account on the machine could read is ever created.

Temporary files are named ``.<name>.<random><suffix>`` (a leading dot, the target's
name, 16 random hex digits, then ``suffix``, ``.tmp`` unless the caller picks
another), so a start-up sweep (``remove_temp_files``) finds exactly the ones a
killed write left, and they never look like a finished file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
BLOCK_SIZE = 1 << 20

Content = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO
"""Bytes to write, a file path whose bytes are copied, or a readable binary stream."""

# Filesystems that cannot fsync a folder answer with these; the rename is then as
# durable as that filesystem makes it, and there is nothing more a program can do.
_FOLDER_SYNC_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF}


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make the renames and new names in ``folder`` durable.

    A no-op where a folder cannot be opened (Windows) or its filesystem cannot
    sync one; any other failure (an I/O error) is raised.
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except (PermissionError, IsADirectoryError):
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _FOLDER_SYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def replace_file(
    path: str | os.PathLike[str],
    content: Content,
    *,
    sync_folder: bool = True,
    suffix: str = TEMP_SUFFIX,
    mode: int = 0o600,
) -> Path:
    """Replace ``path`` with ``content`` crash-safely (see the module doc); returns the path.

    A path or stream is copied in blocks, never read whole into memory. ``mode`` is
    the new file's permission bits, whatever the umask. On any error the temporary
    file is removed and ``path`` is untouched.
    """
    target = Path(path)
    tmp = _write_temp(target, content, suffix=suffix, mode=mode)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_folder:
        fsync_folder(target.parent)
    return target


def create_file(
    path: str | os.PathLike[str],
    content: Content,
    *,
    sync_folder: bool = True,
    suffix: str = TEMP_SUFFIX,
    mode: int = 0o600,
) -> bool:
    """Put ``content`` at ``path`` crash-safely only if ``path`` does not exist yet.

    True when this call created it; False when a file was already there (another
    process won a race, say), which is then left exactly as it was.
    """
    target = Path(path)
    tmp = _write_temp(target, content, suffix=suffix, mode=mode)
    try:
        try:
            os.link(tmp, target)
        except FileExistsError:
            created = False
        else:
            created = True
    finally:
        tmp.unlink(missing_ok=True)
    if sync_folder:
        fsync_folder(target.parent)
    return created


def private_folder(path: str | os.PathLike[str], *, tighten: bool = False) -> Path:
    """``path`` as a folder; each folder this makes (``path`` and any missing parents) is 0700,
    whatever the umask. An existing ``path`` keeps its mode unless ``tighten``, which takes
    away what its group and others may do (for the folders an app owns outright)."""
    target = Path(path)
    missing = []
    folder = target
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # another process made it first: theirs, as it is
        os.chmod(folder, 0o700)  # mkdir's mode is narrowed by the umask
    if tighten:
        restrict(target)
    return target


def new_private_file(path: str | os.PathLike[str]) -> BinaryIO:
    """A new file at ``path`` (FileExistsError if there is one), 0600 whatever the umask,
    open for writing bytes. Not crash-safe by itself: for scratch files the caller removes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    out = os.fdopen(fd, "wb")
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)
    return out


def restrict(path: str | os.PathLike[str]) -> None:
    """Take away whatever the group and others may do with ``path``, if it exists."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, mode & 0o7700)


def temp_name(name: str, suffix: str = TEMP_SUFFIX) -> str:
    """A fresh temporary file name for a write of the file called ``name``."""
    return f".{name}.{secrets.token_hex(8)}{suffix}"


def is_temp_file(path: str | os.PathLike[str], suffix: str = TEMP_SUFFIX) -> bool:
    """True for a temporary file of this module's naming (one a killed write may leave)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(suffix)


def remove_temp_files(
    folder: str | os.PathLike[str], *, suffix: str = TEMP_SUFFIX, pattern: str | None = None
) -> list[Path]:
    """Delete the temporary files killed writes left in ``folder``; returns those removed.

    ``pattern`` is a glob relative to ``folder`` (default ``.*<suffix>``, this
    folder only; ``*/.*.tmp`` reaches one level of subfolders). Call it at start,
    before any write is under way.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    removed = []
    for leftover in sorted(root.glob(pattern or f".*{suffix}")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed.append(leftover)
    return removed


def _write_temp(target: Path, content: Content, *, suffix: str, mode: int) -> Path:
    """A new, fsynced temporary file beside ``target`` holding ``content``."""
    while True:
        tmp = target.with_name(temp_name(target.name, suffix))
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode
            )
        except FileExistsError:
            continue
        break
    try:
        with os.fdopen(fd, "wb") as out:
            if hasattr(os, "fchmod"):
                os.fchmod(out.fileno(), mode)  # open's mode is narrowed by the umask
            if isinstance(content, bytes | bytearray | memoryview):
                out.write(content)
            elif isinstance(content, str | os.PathLike):
                with open(content, "rb") as source:
                    shutil.copyfileobj(source, out, BLOCK_SIZE)
            else:
                shutil.copyfileobj(content, out, BLOCK_SIZE)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp
