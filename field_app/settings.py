"""The field app's settings: every environment variable the phone reads, read here only.

    XUNCHA_FIELD_DATA      data folder (default: FLET_APP_STORAGE_DATA/xuncha, else ~/.xuncha-field)
    FLET_APP_STORAGE_DATA  the private folder a packaged app is given (set by Flet, not by people)
    XUNCHA_FIELD_PORT      web port when there is no display (default 8550)
    XUNCHA_FIELD_HOST      web address to listen on (default 127.0.0.1)
    XUNCHA_SERVER_URL      server address pre-filled on the sign-in screen
    XUNCHA_SYNC_KILL_AT    crash tests only: the sync kill point (``field_app.sync.faults``)
    DISPLAY, WAYLAND_DISPLAY  whether a desktop window can open (Linux)

What the user chose in the app (server address, device token, language) lives in the
store's settings, not here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8550
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class FieldSettings:
    data: Path | None = None
    app_storage: Path | None = None
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    server_url: str = ""
    sync_kill_at: str | None = None
    has_display: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FieldSettings:
        env = os.environ if environ is None else environ
        on_linux = sys.platform.startswith("linux")
        return cls(
            data=Path(env["XUNCHA_FIELD_DATA"]) if env.get("XUNCHA_FIELD_DATA") else None,
            app_storage=Path(env["FLET_APP_STORAGE_DATA"]) if env.get("FLET_APP_STORAGE_DATA") else None,
            port=int(env.get("XUNCHA_FIELD_PORT") or DEFAULT_PORT),
            host=env.get("XUNCHA_FIELD_HOST") or DEFAULT_HOST,
            server_url=env.get("XUNCHA_SERVER_URL", ""),
            sync_kill_at=env.get("XUNCHA_SYNC_KILL_AT") or None,
            has_display=not on_linux or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")),
        )

    @property
    def packaged(self) -> bool:
        """Running as an installed app (Flet gave it a private folder, nobody overrode it)."""
        return self.app_storage is not None and self.data is None

    def data_folder(self) -> Path:
        """Where the app keeps its files when no folder is given on the command line."""
        if self.data is not None:
            return self.data
        if self.app_storage is not None:
            return self.app_storage / "xuncha"
        return Path.home() / ".xuncha-field"


def current() -> FieldSettings:
    """The settings as the environment says now (cheap; read again on every call)."""
    return FieldSettings.from_env()
