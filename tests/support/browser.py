"""Drive the real field app in headless Chromium (the system's, never a downloaded one).

``FieldApp`` starts ``python -m field_app`` as a web server subprocess (so it can be
killed with SIGKILL and started again on the same data folder); ``open_page``
loads it in a 390×844 phone viewport and turns on Flutter's accessibility tree,
after which Playwright's role and text locators work. Screenshots go to
``test-artifacts/`` (kept by CI as artifacts, ignored by git).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.live_server import ROOT, free_port, kill_process, stop_process
from tests.support.waits import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = ROOT / "test-artifacts"


class FieldApp:
    """The field app as a web server process on 127.0.0.1 with its data in ``data_dir``."""

    def __init__(self, data_dir: Path, *, server_url: str = "", port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.server_url = server_url
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-app.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60.0) -> FieldApp:
        return self.launch().wait_ready(timeout)

    def launch(self) -> FieldApp:
        """Start the process without waiting (so a test can prepare the server meanwhile)."""
        env = dict(os.environ)
        env.pop("DISPLAY", None)
        env.update(
            {
                "XUNCHA_FIELD_DATA": str(self.data_dir),
                "XUNCHA_FIELD_PORT": str(self.port),
                "XUNCHA_SERVER_URL": self.server_url,
                "PYTHONPATH": str(ROOT),
            }
        )
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen([sys.executable, "-m", "field_app"], env=env, cwd=ROOT,
                                     stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 60.0) -> FieldApp:
        assert self.proc is not None
        wait_until(self._serving, "the field app to serve its page", deadline=timeout)
        return self

    def _serving(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"field app exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return httpx.get(self.url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: what a dead battery or the phone's task killer does."""
        kill_process(self.proc)

    def stop(self) -> None:
        stop_process(self.proc)


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, *, geolocation: dict[str, float] | None = None):
    """A phone-sized page with the app loaded and its accessibility tree turned on."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        locale="zh-CN",
        geolocation=geolocation,
        permissions=["geolocation"] if geolocation else [],
    )
    page = context.new_page()
    page.set_default_timeout(30_000)  # 2 shared cores: Flutter can be slow to redraw
    page.goto(url)
    enable_semantics(page)
    return page


@contextmanager
def phone_page(browser, data_dir: Path, server_url: str) -> Iterator[object]:
    """The field app started on ``data_dir`` against ``server_url``, open in a phone-sized page;
    the app is stopped when the block ends."""
    app = FieldApp(data_dir, server_url=server_url).start()
    try:
        yield open_page(browser, app.url)
    finally:
        app.stop()


def enable_semantics(page) -> None:
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
    page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
    page.wait_for_selector("flt-semantics", state="attached")


def shot(page, name: str) -> Path:
    """Save a screenshot as a test artifact; the name says which step it shows."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.wait_for_load_state("networkidle")  # the 3.5 MB CJK font, else the shot shows boxes
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    return path


# Whether the element given is the one with the focus, looking through shadow roots (Flutter's
# text editing lives in one on some renderers). Flutter's text field is an <input> in its
# accessibility tree: it takes the focus itself and holds what was typed.
HAS_FOCUS = """field => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return !!el && (el === field || field.contains(el));
}"""


def focus(page, field, *, taps: int = 10) -> None:
    """Tap a Flutter text field until it has the focus.

    A tap lands where the field's accessibility node is: just after the form has grown or
    scrolled, Flutter may not have moved it yet and the tap hits what was there, so tap again.
    """
    from playwright.sync_api import TimeoutError as NotYet

    for _ in range(taps):
        field.click()
        try:
            page.wait_for_function(HAS_FOCUS, arg=field.element_handle(), timeout=3_000)
            return
        except NotYet:
            continue
    shot(page, "field_never_focused")
    raise AssertionError(f"the text field {field} never took the focus")


def type_into(page, field, text: str) -> None:
    """Type into a Flutter text field the way a finger does: focus it, then key in the text,
    replacing what it held; answers once the field holds exactly ``text``.

    (Playwright's ``fill`` can land in the semantics element before Flutter has
    attached its editing element, and the app never hears of it.)
    """
    focus(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type(text, delay=20)
    page.wait_for_function("([field, text]) => field.value === text", arg=[field.element_handle(), text])


def field_text(page, field) -> str:
    """What a Flutter text field holds: Flutter puts it in the DOM only while the field has focus."""
    focus(page, field)
    return str(field.input_value())
