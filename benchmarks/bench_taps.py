"""A tap that changes screen in the field app, against a minimal Flet app doing one text change.

Both run as web apps in the same headless Chromium (phone size), in the same run, their
taps interleaved round by round so that both meet the same load. Each
figure is the time from the tap (Playwright's click) to the new screen's first text being
in the accessibility tree; a screen's ratio is its median over the rounds divided by the
median tap→text time of the minimal app. The field app runs against a real server filled
with the demo town, signed in as the demo's cleaning-team captain.

    python3 benchmarks/bench_taps.py [--rounds 7]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import FieldApp, chromium, open_page, type_into  # noqa: E402
from tests.support.live_server import LiveServer, free_port  # noqa: E402
from tests.support.waits import wait_until  # noqa: E402

MINIMAL_APP = '''
import flet as ft

def main(page: ft.Page) -> None:
    count = {"n": 0}
    text = ft.Text("ready")
    def tap(_):
        count["n"] += 1
        text.value = f"changed {count['n']}"
    page.add(ft.Button("tap", on_click=tap), text)

ft.run(main, view=ft.AppView.WEB_BROWSER, port=int(__import__("os").environ["PORT"]), no_cdn=True)
'''


def timed(page: Any, tap: Callable[[], None], text: str) -> float:
    start = time.perf_counter()
    tap()
    page.get_by_text(text, exact=False).first.wait_for()
    return time.perf_counter() - start


@contextmanager
def minimal_app(browser: Any) -> Iterator[Callable[[int], float]]:
    """The minimal app open in its own page; yields ``tap(n)``: one timed tap (the n-th)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "minimal.py"
        script.write_text(MINIMAL_APP)
        env = {**os.environ, "PORT": str(port), "FLET_FORCE_WEB_SERVER": "1"}
        env.pop("DISPLAY", None)
        proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            import httpx

            def serving() -> bool:
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(serving, "the minimal app", deadline=60)
            page = open_page(browser, f"http://127.0.0.1:{port}/")
            page.get_by_text("ready").wait_for()
            button = page.get_by_role("button", name="tap")
            yield lambda n: timed(page, button.click, f"changed {n}")
            page.context.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def field_round(page: Any, times: dict[str, list[float]]) -> None:
    """One round of the walk, from the check form: home, the check again, history, home."""
    back = page.get_by_label("返回", exact=True)
    times["check → home"].append(timed(page, back.click, "各村检查"))
    times["home → check"].append(timed(page, page.get_by_role("button", name="继续填写").first.click, "村/社区："))
    back.click()
    page.get_by_text("各村检查", exact=False).wait_for()
    times["home → history"].append(timed(page, page.get_by_role("button", name="历史记录").first.click, "详情"))
    times["history → home"].append(timed(page, back.click, "各村检查"))
    page.get_by_role("button", name="继续填写").first.click()
    page.get_by_text("村/社区：", exact=False).wait_for()


def measure(browser: Any, server: LiveServer, folder: Path, rounds: int) -> tuple[list[float], dict[str, list[float]]]:
    """Rounds that interleave the two apps, so that both meet the same load: each round one
    tap in the minimal app, then the field app's walk."""
    app = FieldApp(folder / "phone", server_url=server.url).start()
    try:
        page = open_page(browser, app.url)
        page.get_by_role("button", name="登录", exact=True).wait_for()
        type_into(page, page.get_by_role("textbox", name="用户名"), "wang.cy")
        type_into(page, page.get_by_role("textbox", name="密码"), "xuncha-demo-2025")
        page.get_by_role("button", name="登录", exact=True).click()
        page.get_by_role("button", name="新建检查").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="新建检查").first.click()  # one draft to open again and again
        page.get_by_text("村/社区：", exact=False).wait_for()
        times: dict[str, list[float]] = {"home → check": [], "check → home": [], "home → history": [],
                                         "history → home": []}
        base: list[float] = []
        with minimal_app(browser) as tap:
            for n in range(1, rounds + 1):
                base.append(tap(n))
                field_round(page, times)
        page.context.close()
        return base, times
    finally:
        app.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = LiveServer(folder / "server", f"sqlite:///{folder / 'xuncha.db'}")
        (folder / "server").mkdir()
        done = server.cli("demo")
        if done.returncode != 0:
            print(done.stderr)
            return 1
        server.start()
        try:
            with chromium() as browser:
                taps, screens = measure(browser, server, folder, rounds)
                base = statistics.median(taps)
        finally:
            server.stop()
    print(f"minimal Flet app, tap → text: median {base * 1000:.0f} ms over {rounds} taps")
    print(f"{'screen change':<18} {'median ms':>10} {'ratio':>7}")
    for name, values in screens.items():
        median = statistics.median(values)
        print(f"{name:<18} {median * 1000:>10.0f} {median / base:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
