"""The evidence stamp burnt into a photo: time, place, village, recorder, in Chinese.

Field evidence photos in China customarily carry such a stamp, so that a printed or
forwarded photo still says when and where it was taken and by whom. What it shows is
configured per deployment (``StampConfig``, e.g. from the server's reference data);
``stamp_lines`` composes the text as a pure function; ``burn_stamp`` draws it with the
bundled font.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from field_app.messages import stamp_label

FONT_PATH = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Xuncha.otf"

FIELDS = ("title", "time", "place", "coordinates", "village", "recorder")
POSITIONS = ("bottom-left", "bottom-right", "top-left", "top-right")

LABELS = {name: stamp_label(name) for name in ("time", "place", "coordinates", "village", "recorder")}


@dataclass(frozen=True)
class StampConfig:
    """What the stamp shows and where. ``fields`` are drawn in the given order; a field with
    nothing to say (no coordinates, no place name) is left out rather than shown empty.

    ``size`` is the text height as a fraction of the photo's shorter side.
    """

    enabled: bool = True
    fields: tuple[str, ...] = ("time", "place", "coordinates", "village", "recorder")
    position: str = "bottom-left"
    title: str = ""
    size: float = 0.032
    font_path: Path = FONT_PATH

    def __post_init__(self) -> None:
        unknown = [name for name in self.fields if name not in FIELDS]
        if unknown:
            raise ValueError(f"unknown stamp fields {unknown}; choose from {list(FIELDS)}")
        if self.position not in POSITIONS:
            raise ValueError(f"unknown stamp position {self.position!r}; choose from {POSITIONS}")
        if not 0.005 <= self.size <= 0.2:
            raise ValueError(f"stamp size {self.size} is outside 0.005-0.2 of the shorter side")

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> StampConfig:
        """A config from deployment settings, e.g. ``{"fields": ["time", "village"],
        "position": "top-right", "enabled": true}``; absent keys keep their defaults."""
        known = {"enabled", "fields", "position", "title", "size"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown stamp settings {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = dict(config)
        if "fields" in values:
            values["fields"] = tuple(values["fields"])
        return cls(**values)


@dataclass(frozen=True)
class StampFacts:
    """What the stamp can say about one photo."""

    time: datetime | None = None
    place: str = ""
    latitude: float | None = None
    longitude: float | None = None
    village: str = ""
    recorder: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


def format_coordinates(latitude: float, longitude: float) -> str:
    """Chinese-style coordinates: ``北纬29.56301° 东经106.55160°`` (5 decimals, about 1 m)."""
    north_south = stamp_label("north" if latitude >= 0 else "south")
    east_west = stamp_label("east" if longitude >= 0 else "west")
    return f"{north_south}{abs(latitude):.5f}° {east_west}{abs(longitude):.5f}°"


def stamp_lines(config: StampConfig, facts: StampFacts) -> list[str]:
    """The stamp's lines in the configured order, each "标签：值"; empty fields are left out."""
    if not config.enabled:
        return []
    lines: list[str] = []
    for name in config.fields:
        if name == "title":
            if config.title:
                lines.append(config.title)
            continue
        value = _value(name, facts)
        if value:
            lines.append(f"{LABELS[name]}：{value}")
    return lines


def _value(name: str, facts: StampFacts) -> str:
    if name == "time":
        return facts.time.strftime("%Y-%m-%d %H:%M:%S") if facts.time else ""
    if name == "coordinates":
        if facts.latitude is None or facts.longitude is None:
            return ""
        return format_coordinates(facts.latitude, facts.longitude)
    return str(getattr(facts, name) or "").strip()


@functools.lru_cache(maxsize=8)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """The stamp font at ``size`` pixels (cached: opening the CJK font costs milliseconds)."""
    return ImageFont.truetype(str(path), size)


def burn_stamp(image: Image.Image, lines: Sequence[str], config: StampConfig) -> Image.Image:
    """Draw ``lines`` on a darkened panel in the configured corner of an RGB ``image``.

    Changes ``image`` in place and returns it. No lines, no change.
    """
    if not lines:
        return image
    width, height = image.size
    text = "\n".join(lines)
    draw = ImageDraw.Draw(image)
    size = max(12, round(min(width, height) * config.size))
    while True:
        font = load_font(Path(config.font_path), size)
        spacing = max(2, size // 4)
        margin = max(4, size // 2)
        left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, spacing=spacing)
        # A narrow photo gets smaller text rather than a cut-off line.
        if right - left + 2 * margin <= width or size <= 8:
            break
        size = max(8, size * (width - 2 * margin) // (right - left + 1))
    panel_w = min(width, right - left + 2 * margin)
    panel_h = min(height, bottom - top + 2 * margin)
    x0 = 0 if config.position.endswith("left") else width - panel_w
    y0 = 0 if config.position.startswith("top") else height - panel_h
    box = (x0, y0, x0 + panel_w, y0 + panel_h)
    # Darken rather than cover: the panel keeps what is behind it faintly visible.
    image.paste(image.crop(box).point(lambda v: v * 2 // 5), box)
    draw.multiline_text(
        (x0 + margin - left, y0 + margin - top),
        text,
        font=font,
        fill=(255, 255, 255),
        spacing=spacing,
    )
    return image
