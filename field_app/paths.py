"""Where the app keeps its files.

A packaged app gets its private folder in FLET_APP_STORAGE_DATA; desktop and web
runs use XUNCHA_FIELD_DATA, else ``~/.xuncha-field`` (``field_app.settings``). Tests pass
a folder directly. The folders are 0700 and the files in them 0600 (``xuncha_core.durable``):
the store holds the device token, the photos are evidence.
"""

from __future__ import annotations

import os
from pathlib import Path

from field_app import settings
from xuncha_core import durable


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    path = Path(explicit) if explicit else settings.current().data_folder()
    return durable.private_folder(path, tighten=True)


def photos_dir(root: Path) -> Path:
    return durable.private_folder(root / "photos", tighten=True)
