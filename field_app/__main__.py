"""``python -m field_app`` (console script ``xuncha-field``): run the field app.

A desktop window where there is a display; without one (a server, a test
machine) a web app that any browser on the machine can open, served with the
bundled Flutter client (no CDN). ``python -m field_app sync --data DIR --server URL``
runs one headless sync instead.

Environment (all optional):
    XUNCHA_FIELD_DATA   data folder (default: FLET_APP_STORAGE_DATA/xuncha, else ~/.xuncha-field)
    XUNCHA_FIELD_PORT   web port when there is no display (default 8550)
    XUNCHA_FIELD_HOST   web address to listen on (default 127.0.0.1)
    XUNCHA_SERVER_URL   server address pre-filled on the sign-in screen
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

DEFAULT_PORT = 8550


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sync"]:
        from field_app.sync.cli import main as sync_main  # only needed for headless sync

        return int(sync_main(args[1:]) or 0)

    parser = argparse.ArgumentParser(prog="xuncha-field", description="巡查 field app")
    parser.add_argument("--data", help="data folder (default: XUNCHA_FIELD_DATA or ~/.xuncha-field)")
    parser.add_argument("--web", action="store_true", help="serve the web app even when there is a display")
    parser.add_argument("--port", type=int, default=None, help=f"web port (default XUNCHA_FIELD_PORT or {DEFAULT_PORT})")
    opts = parser.parse_args(args)
    run_app(data=opts.data, web=opts.web, port=opts.port)
    return 0


def run_app(*, data: str | None = None, web: bool = False, port: int | None = None) -> None:
    import flet as ft

    from field_app.paths import data_dir
    from field_app.ui import theme
    from field_app.ui.app import Services, make_main

    headless = sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    packaged = bool(os.environ.get("FLET_APP_STORAGE_DATA")) and not os.environ.get("XUNCHA_FIELD_DATA")
    web = web or (headless and not packaged)
    if web:
        os.environ["FLET_FORCE_WEB_SERVER"] = "1"
        os.environ.setdefault("FLET_SERVER_IP", os.environ.get("XUNCHA_FIELD_HOST", "127.0.0.1"))
    services = Services.open(data_dir(data))
    ft.run(
        make_main(services),
        assets_dir=str(theme.ASSETS_DIR),
        view=ft.AppView.WEB_BROWSER if web else ft.AppView.FLET_APP,
        port=(port or int(os.environ.get("XUNCHA_FIELD_PORT") or DEFAULT_PORT)) if web else 0,
        no_cdn=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
