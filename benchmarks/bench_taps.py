"""A tap that changes screen in the field app, against a minimal Flet app doing one text change.

Both run as web apps in the same headless Chromium (phone size), in the same run, their
taps interleaved round by round so that both meet the same load. Each
figure is the time from the tap (Playwright's click) to the new screen's first text being
in the accessibility tree; a screen's ratio is its median over the rounds divided by the
median tap→text time of the minimal app. The field app runs against a real server filled
with the demo town, signed in as the demo's cleaning-team captain. Each tap comes once the
screen before it is whole, as hers would: the app draws the parts below a screen's first
screenful a moment after its top and sets the address bar after them (field_app.ui.fold), so
the bench waits for the address bar, then two frames (the minimal app's taps wait two frames
too). Tapping before that would leave screens before their parts were drawn, which is cheaper.

The same taps are also timed in the page's own clock, from the pointer going down to the
text appearing (a MutationObserver), and split at the app's first message back over the
WebSocket: the app's share (the tap's event out, its answer in) and the rest (the browser
sending the event and drawing the answer).
Playwright's figure adds its click (waiting for the target to be stable, then the events)
and its polling for the text, to both apps alike.

    python3 benchmarks/bench_taps.py [--rounds 7]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


# In the page: the time the pointer went down, the first WebSocket message sent after it (the
# tap's event) and received after that (the app's answer), and when the text appeared.
HOOK = """(() => {
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    const send = ws.send.bind(ws);
    ws.send = (data) => { const t = window.__tap; if (t && t.down !== null && t.sent === null) t.sent = performance.now(); return send(data); };
    ws.addEventListener('message', () => { const t = window.__tap; if (t && t.sent !== null && t.answer === null) t.answer = performance.now(); });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})()"""
WATCH = """(text) => {
  const t = window.__tap = {down: null, sent: null, answer: null, seen: null};
  const shown = () => document.body.textContent.includes(text);
  if (shown()) throw new Error('already on screen: ' + text);
  window.addEventListener('pointerdown', () => { if (t.down === null) t.down = performance.now(); }, {capture: true, once: true});
  const watch = new MutationObserver(() => { if (t.down !== null && shown()) { t.seen = performance.now(); watch.disconnect(); } });
  watch.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@dataclass
class Tap:
    clicked: float  # Playwright: click() called → the text found (the figure)
    in_page: float  # the page's clock: pointer down → the text in the accessibility tree
    app: float | None  # of which: the event sent → the app's first message back


def timed(page: Any, tap: Callable[[], None], text: str) -> Tap:
    page.evaluate(WATCH, text)
    start = time.perf_counter()
    tap()
    page.get_by_text(text, exact=False).first.wait_for()
    clicked = time.perf_counter() - start
    page.wait_for_function("window.__tap.seen !== null")
    t = page.evaluate("window.__tap")
    app = (t["answer"] - t["sent"]) / 1000 if t["answer"] is not None and t["sent"] is not None else None
    return Tap(clicked, (t["seen"] - t["down"]) / 1000, app)


def phone_page(browser: Any, url: str) -> Any:
    """``open_page`` with the WebSocket watched from the page's first script."""
    new_context = browser.new_context

    def watched(**options: Any) -> Any:
        context = new_context(**options)
        context.add_init_script(HOOK)
        return context

    browser.new_context = watched
    try:
        return open_page(browser, url)
    finally:
        browser.new_context = new_context


@contextmanager
def minimal_app(browser: Any) -> Iterator[Callable[[int], Tap]]:
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
            page = phone_page(browser, f"http://127.0.0.1:{port}/")
            page.get_by_text("ready").wait_for()
            button = page.get_by_role("button", name="tap")
            def tap(n: int) -> Tap:
                taken = timed(page, button.click, f"changed {n}")
                page.evaluate(TWO_FRAMES)  # as the field app's screens are left: settled
                return taken

            yield tap
            page.context.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def settled(page: Any, route: str) -> None:
    """Wait as she would, for the whole screen: the app sets the address bar once the parts
    below the first screenful are drawn (field_app.ui.fold), then two frames pass."""
    page.wait_for_url(re.compile(rf"^[^?#]*//[^/]+{re.escape(route)}$" if route != "/check/" else r"^.*/check/[^/]+$"))
    page.evaluate(TWO_FRAMES)


def field_round(page: Any, times: dict[str, list[Tap]]) -> None:
    """One round of the walk, from the check form: home, the check again, history, home; each
    tap once the screen before it is whole."""
    back = page.get_by_label("返回", exact=True)
    times["check → home"].append(timed(page, back.click, "各村检查"))
    settled(page, "/")
    times["home → check"].append(timed(page, page.get_by_role("button", name="继续填写").first.click, "村/社区："))
    settled(page, "/check/")
    back.click()
    page.get_by_text("各村检查", exact=False).wait_for()
    settled(page, "/")
    times["home → history"].append(timed(page, page.get_by_role("button", name="历史记录").first.click, "详情"))
    settled(page, "/history")
    times["history → home"].append(timed(page, back.click, "各村检查"))
    settled(page, "/")
    page.get_by_role("button", name="继续填写").first.click()
    page.get_by_text("村/社区：", exact=False).wait_for()
    settled(page, "/check/")


def measure(browser: Any, server: LiveServer, folder: Path, rounds: int) -> tuple[list[Tap], dict[str, list[Tap]]]:
    """Rounds that interleave the two apps, so that both meet the same load: each round one
    tap in the minimal app, then the field app's walk."""
    app = FieldApp(folder / "phone", server_url=server.url).start()
    try:
        page = phone_page(browser, app.url)
        page.get_by_role("button", name="登录", exact=True).wait_for()
        type_into(page, page.get_by_role("textbox", name="用户名"), "wang.cy")
        type_into(page, page.get_by_role("textbox", name="密码"), "xuncha-demo-2025")
        page.get_by_role("button", name="登录", exact=True).click()
        page.get_by_role("button", name="新建检查").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="新建检查").first.click()  # one draft to open again and again
        page.get_by_text("村/社区：", exact=False).wait_for()
        times: dict[str, list[Tap]] = {"home → check": [], "check → home": [], "home → history": [],
                                       "history → home": []}
        base: list[Tap] = []
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
        finally:
            server.stop()
    report(taps, screens)
    return 0


def ms(values: list[float]) -> str:
    q1, mid, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return f"{mid * 1000:>5.0f} ({q1 * 1000:.0f}–{q3 * 1000:.0f})"


def report(taps: list[Tap], screens: dict[str, list[Tap]]) -> None:
    base = statistics.median(t.clicked for t in taps)
    base_page = statistics.median(t.in_page for t in taps)
    print(f"minimal Flet app, tap → text over {len(taps)} taps, median (quartiles) ms: "
          f"{ms([t.clicked for t in taps]).strip()}; in the page: {ms([t.in_page for t in taps]).strip()}")
    print(f"{'screen change':<16} {'median ms (quartiles)':>22} {'ratio':>6}   "
          f"{'in the page':>17} {'ratio':>6} {'app':>5} {'browser':>8}")
    for name, values in screens.items():
        clicked = statistics.median(t.clicked for t in values)
        in_page = statistics.median(t.in_page for t in values)
        app = statistics.median(t.app for t in values if t.app is not None)
        print(f"{name:<16} {ms([t.clicked for t in values]):>22} {clicked / base:>6.2f}   "
              f"{ms([t.in_page for t in values]):>17} {in_page / base_page:>6.2f} {app * 1000:>5.0f} "
              f"{(in_page - app) * 1000:>8.0f}")


if __name__ == "__main__":
    raise SystemExit(main())
