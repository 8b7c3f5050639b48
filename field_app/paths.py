"""Where the app keeps its files.

A packaged app gets its private folder in FLET_APP_STORAGE_DATA; desktop and web
runs use XUNCHA_FIELD_DATA, else ``~/.xuncha-field``. Tests pass a folder directly.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        path = Path(explicit)
    elif os.environ.get("XUNCHA_FIELD_DATA"):
        path = Path(os.environ["XUNCHA_FIELD_DATA"])
    elif os.environ.get("FLET_APP_STORAGE_DATA"):
        path = Path(os.environ["FLET_APP_STORAGE_DATA"]) / "xuncha"
    else:
        path = Path.home() / ".xuncha-field"
    path.mkdir(parents=True, exist_ok=True)
    return path


def photos_dir(root: Path) -> Path:
    p = root / "photos"
    p.mkdir(parents=True, exist_ok=True)
    return p
