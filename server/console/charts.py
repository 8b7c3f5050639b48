"""Charts drawn on the server as small SVG documents: bars, a trend line, a location map.

Hand-written rather than a charting library: the three shapes the console needs come to
about a hundred lines of SVG, need no JavaScript and no style sheet (presentation
attributes only, which the pages' Content-Security-Policy allows), print sharply, and a
library would bring its own styles and scripts for far more than is used. Every label is
escaped; numbers are formatted here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

RED, BLACK, NEUTRAL, LINE = "#b3261e", "#222222", "#0b5cad", "#d7dce3"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    colour: str = NEUTRAL


def bars(items: Sequence[Bar], *, title: str, maximum: float | None = None, width: int = 640) -> str:
    """A horizontal bar chart, one bar per item, its value written at the end of the bar."""
    row, left, right = 28, 140, 60
    height = max(row * len(items) + 36, 60)
    top = max([maximum or 0.0, *(b.value for b in items), 1.0])
    span = width - left - right
    parts = [_open(width, height, title), f'<text x="8" y="18" font-size="14" font-weight="700">{escape(title)}</text>']
    for i, b in enumerate(items):
        y = 30 + i * row
        w = max(0.0, b.value) / top * span
        parts.append(f'<text x="{left - 8}" y="{y + 16}" font-size="13" text-anchor="end">{escape(b.label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{b.colour}" rx="3"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 16}" font-size="13">{_number(b.value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend(values: Sequence[Decimal | None], *, title: str, width: int = 120, height: int = 32) -> str:
    """A small line of a village's monthly scores, oldest first; a gap where a month was not scored."""
    known = [float(v) for v in values if v is not None]
    parts = [_open(width, height, title, css="spark")]
    if known:
        low, high = min(known), max(known)
        span = (high - low) or 1.0
        step = (width - 8) / max(len(values) - 1, 1)
        segment: list[str] = []
        for i, v in enumerate(values):
            if v is None:
                parts.append(_polyline(segment))
                segment = []
                continue
            x, y = 4 + i * step, height - 4 - (float(v) - low) / span * (height - 8)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{NEUTRAL}"/>')
        parts.append(_polyline(segment))
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    label: str
    shape: str = "dot"  # dot: the check; diamond: a photo; ring: the village centre


def location_map(points: Sequence[Point], *, title: str, size: int = 320) -> str:
    """The points on a plain square, north up, with a scale bar: no tiles, nothing fetched."""
    if not points:
        return ""
    lat0 = sum(p.lat for p in points) / len(points)
    kx = 111_320 * math.cos(math.radians(lat0))  # metres per degree of longitude here
    xs = [p.lon * kx for p in points]
    ys = [p.lat * 110_574 for p in points]
    extent = max(max(xs) - min(xs), max(ys) - min(ys), 200.0) * 1.3
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    scale = (size - 40) / extent

    def at(x: float, y: float) -> tuple[float, float]:
        return size / 2 + (x - cx) * scale, size / 2 - (y - cy) * scale

    parts = [_open(size, size, title), f'<rect x="0" y="0" width="{size}" height="{size}" fill="#f4f7f2" stroke="{LINE}"/>']
    parts.append(f'<text x="{size - 16}" y="20" font-size="13" text-anchor="middle">N</text>')
    parts.append(f'<path d="M{size - 16} 24 l-5 12 h10 z" fill="{BLACK}"/>')
    for p, x, y in zip(points, xs, ys, strict=True):
        px, py = at(x, y)
        label = f"<title>{escape(p.label)}</title>"
        if p.shape == "ring":
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="7" fill="none" stroke="{BLACK}" stroke-width="2">{label}</circle>')
        elif p.shape == "diamond":
            parts.append(f'<path d="M{px:.1f} {py - 6:.1f} l6 6 l-6 6 l-6 -6 z" fill="#8a5a00">{label}</path>')
        else:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="6" fill="{RED}">{label}</circle>')
    bar_m = _round_length(extent / 4)
    bar_px = bar_m * scale
    parts.append(f'<path d="M12 {size - 14} h{bar_px:.1f}" stroke="{BLACK}" stroke-width="3"/>')
    parts.append(f'<text x="12" y="{size - 20}" font-size="12">{_metres(bar_m)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str, css: str = "chart") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css}" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _polyline(points: list[str]) -> str:
    if len(points) < 2:
        return ""
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{NEUTRAL}" stroke-width="1.5"/>'


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _round_length(metres: float) -> float:
    magnitude = 10 ** math.floor(math.log10(max(metres, 1.0)))
    for step in (5, 2, 1):
        if step * magnitude <= metres:
            return float(step * magnitude)
    return float(magnitude)


def _metres(value: float) -> str:
    return f"{value / 1000:g} km" if value >= 1000 else f"{value:g} m"
