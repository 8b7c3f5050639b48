"""``python -m field_app`` (console script ``xuncha-field``): run the field app.

A desktop window where there is a display; without one (a server, a test
machine) a web app that any browser on the machine can open, served with the
bundled Flutter client (no CDN). ``python -m field_app sync --data DIR --server URL``
runs one headless sync instead.

The environment variables it reads are listed in ``field_app.settings``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence

from field_app.settings import DEFAULT_PORT


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

    from field_app import settings
    from field_app.paths import data_dir
    from field_app.ui import theme
    from field_app.ui.app import Services, make_main

    env = settings.current()
    web = web or (not env.has_display and not env.packaged)
    if web:  # how Flet is told to serve the web client (its own variables)
        os.environ["FLET_FORCE_WEB_SERVER"] = "1"
        os.environ.setdefault("FLET_SERVER_IP", env.host)
    services = Services.open(data_dir(data))
    # Flet, the store and the app's modules live as long as the process: the collector need not
    # walk them at each of its full passes (one, landing in a tap, was seen taking some 20 ms)
    gc.freeze()
    ft.run(
        make_main(services),
        assets_dir=str(theme.ASSETS_DIR),
        view=ft.AppView.WEB_BROWSER if web else ft.AppView.FLET_APP,
        port=(port or env.port) if web else 0,
        no_cdn=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
