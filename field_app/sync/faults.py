"""Named points where crash tests make the sync process kill itself.

Set ``XUNCHA_SYNC_KILL_AT`` to a point name (``before_send``, ``mid_photo``,
``after_commit``, ``mid_pull``, ``photo_acked``) and the process sends itself SIGKILL the first time it
reaches that point: no cleanup, no flush, like a dead battery. Unset, every point is a
no-op. Only the crash tests set it.
"""

from __future__ import annotations

import os
import signal

from field_app import settings

POINTS = ("before_send", "mid_photo", "after_commit", "mid_pull", "photo_acked")


def point(name: str) -> None:
    """Die here if the environment asks for it."""
    if settings.current().sync_kill_at == name:
        os.kill(os.getpid(), signal.SIGKILL)
