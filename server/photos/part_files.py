"""The part file of a resumable upload: ``<data>/uploads/<sha256>.part``, exclusively locked.

Every change to a part file (append, truncate, delete) happens under an exclusive
``flock`` on it, so two requests for the same photo never interleave; a second one is
told 409 ``upload.busy``. Deleting happens while the lock is held, and an opener checks
it did not lock a file that was unlinked meanwhile.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from server.infra.settings import Settings
from xuncha_core.errors import ConflictError


def part_path(settings: Settings, sha256: str) -> Path:
    return settings.uploads_dir / f"{sha256}.part"


class PartFile:
    """The part file of one upload, opened and exclusively locked; close() releases it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise ConflictError(
                        "upload.busy",
                        "Another request is sending this photo right now. Wait a moment, ask for the offset, and continue.",
                        "该照片正由另一个请求上传，请稍候查询进度后继续。",
                        retry_after=1,
                    ) from None
                raise
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not unlinked by a finishing request between our open and flock
                self.fd = fd
                return
            os.close(fd)

    @property
    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)
        os.lseek(self.fd, size, os.SEEK_SET)

    def sync(self) -> None:
        os.fsync(self.fd)

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the flock
            self.fd = -1
