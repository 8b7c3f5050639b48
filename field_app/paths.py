"""Where the app keeps its files.

A packaged app gets its private folder in FLET_APP_STORAGE_DATA; desktop and web
runs use XUNCHA_FIELD_DATA, else ``~/.xuncha-field``. Tests pass a folder directly.
The folders are 0700 and the files in them 0600 (``xuncha_core.durable``): the store holds
the device token, the photos are evidence.
"""

from __future__ import annotations

import os
from pathlib import Path

from xuncha_core import durable


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        path = Path(explicit)
    elif os.environ.get("XUNCHA_FIELD_DATA"):
        path = Path(os.environ["XUNCHA_FIELD_DATA"])
    elif os.environ.get("FLET_APP_STORAGE_DATA"):
        path = Path(os.environ["FLET_APP_STORAGE_DATA"]) / "xuncha"
    else:
        path = Path.home() / ".xuncha-field"
    return durable.private_folder(path, tighten=True)


def photos_dir(root: Path) -> Path:
    return durable.private_folder(root / "photos", tighten=True)
