"""Look and feel for a phone in the sun: high contrast, big type, touch targets of 48 px and more.

The bundled CJK font (a subset of Noto Sans SC with the characters of real
names and place names) is the theme font, so Chinese never renders as boxes.
"""

from __future__ import annotations

from pathlib import Path

import flet as ft

FONT_FAMILY = "cjk"
FONT_FILE = "NotoSansSC-Xuncha.otf"
ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"

INK = "#111111"
PAPER = "#FFFFFF"
PRIMARY = "#0B5D1E"  # dark green on white: contrast ratio above 7:1
DANGER = "#B00020"
WARN = "#8A4B00"
MUTED = "#4A4A4A"
OFFLINE = "#5A5A5A"
TOUCH = 52  # px height of buttons and fields
# A rounded container clips its content by default (a clip layer each, drawn anti-aliased):
# the app's cards and badges keep their content inside their padding and need none.
NO_CLIP = ft.ClipBehavior.NONE
STATE_COLORS = {
    "draft": WARN,
    "waiting": "#1A4FA0",
    "sending": "#1A4FA0",
    "synced": PRIMARY,
    "legal_review": WARN,
    "approved": PRIMARY,
    "sent_back": DANGER,
    "rejected": DANGER,
    "conflict": DANGER,
    "error": DANGER,
}


PLATFORMS = ("android", "ios", "linux", "macos", "windows")


def apply(page: ft.Page) -> None:
    """Fonts, colours and sizes for the whole app."""
    page.fonts = {FONT_FAMILY: f"/fonts/{FONT_FILE}"}
    page.theme = ft.Theme(
        font_family=FONT_FAMILY,
        color_scheme=ft.ColorScheme(
            primary=PRIMARY,
            on_primary=PAPER,
            surface=PAPER,
            on_surface=INK,
            error=DANGER,
        ),
        page_transitions=ft.PageTransitionsTheme(**{os: ft.PageTransitionTheme.NONE for os in PLATFORMS}),
    )
    page.theme_mode = ft.ThemeMode.LIGHT
    page.bgcolor = PAPER


def title(text: str) -> ft.Text:
    return ft.Text(text, size=20, weight=ft.FontWeight.BOLD, color=INK)


def body(text: str, *, color: str = INK, size: int = 16, bold: bool = False) -> ft.Text:
    return ft.Text(text, size=size, color=color, weight=ft.FontWeight.BOLD if bold else None)


def primary_button(text: str, on_click, *, icon=None, disabled: bool = False) -> ft.FilledButton:
    return ft.FilledButton(text, icon=icon, on_click=on_click, height=TOUCH, disabled=disabled,
                           style=ft.ButtonStyle(text_style=ft.TextStyle(size=17, font_family=FONT_FAMILY)))


def button(text: str, on_click, *, icon=None, color: str | None = None) -> ft.OutlinedButton:
    return ft.OutlinedButton(text, icon=icon, on_click=on_click, height=TOUCH,
                             style=ft.ButtonStyle(text_style=ft.TextStyle(size=16, font_family=FONT_FAMILY), color=color))


def field(label: str, value: str = "", **kw) -> ft.TextField:
    return ft.TextField(label=label, value=value, text_size=17, **kw)


def badge(text: str, color: str) -> ft.Container:
    return ft.Container(
        content=ft.Text(text, size=14, color=PAPER, weight=ft.FontWeight.BOLD),
        bgcolor=color,
        padding=ft.Padding.symmetric(horizontal=10, vertical=4),
        border_radius=12,
        clip_behavior=NO_CLIP,
    )


def card(*controls: ft.Control) -> ft.Container:
    return ft.Container(
        content=ft.Column(list(controls), spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
        padding=12,
        border=ft.Border.all(1, "#9E9E9E"),
        border_radius=8,
        bgcolor=PAPER,
        clip_behavior=NO_CLIP,
    )
