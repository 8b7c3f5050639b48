"""Evidence photos for the demo town: simple village scenes drawn with Pillow, each one different.

Each scene is drawn from a seed (hills, a road, a river or a courtyard, bins and
scattered rubbish for a finding, a tidy version for an "after" photo) with a
caption naming the village, the finding and the date, so that the office console
shows something that reads like field evidence.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "NotoSansSC-Xuncha.otf"
SIZE = (800, 600)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT), size)
    except OSError:
        return ImageFont.load_default()


def scene_jpeg(seed: str, caption: str, *, tidy: bool = False) -> bytes:
    """A JPEG of a village scene for ``seed``; ``tidy`` draws it after rectification."""
    rng = random.Random(seed)
    w, h = SIZE
    img = Image.new("RGB", SIZE, (rng.randint(150, 200), rng.randint(190, 225), rng.randint(225, 250)))
    d = ImageDraw.Draw(img)
    horizon = rng.randint(200, 280)
    for i in range(rng.randint(2, 4)):  # mountains, darker at the back
        x = rng.randint(-200, w)
        top = horizon - rng.randint(60, 170)
        green = (rng.randint(40, 90), rng.randint(100, 150) - i * 10, rng.randint(50, 90))
        d.polygon([(x - 300, horizon), (x + rng.randint(50, 150), top), (x + 450, horizon)], fill=green)
    d.rectangle([0, horizon, w, h], fill=(rng.randint(100, 140), rng.randint(140, 170), rng.randint(70, 100)))
    if rng.random() < 0.5:  # a river
        y = rng.randint(horizon + 40, h - 200)
        d.rectangle([0, y, w, y + rng.randint(50, 90)], fill=(90, 140, rng.randint(170, 210)))
    road_x = rng.randint(200, 600)
    d.polygon([(road_x - 30, horizon), (road_x + 30, horizon), (road_x + 220, h), (road_x - 220, h)],
              fill=(150, 145, 135))
    hx = rng.randint(40, w - 240)  # a farmhouse with a tiled roof
    d.rectangle([hx, horizon - 30, hx + 180, horizon + 70], fill=(225, 220, 205), outline=(90, 80, 70))
    d.polygon([(hx - 15, horizon - 30), (hx + 90, horizon - 80), (hx + 195, horizon - 30)], fill=(70, 70, 80))
    d.rectangle([hx + 70, horizon + 15, hx + 110, horizon + 70], fill=(110, 70, 40))
    bx = rng.randint(60, w - 140)  # a green bin and its collection point
    by = rng.randint(horizon + 90, h - 160)
    d.rectangle([bx, by, bx + 60, by + 80], fill=(30, 120, 60), outline=(20, 60, 30), width=3)
    if not tidy:
        for _ in range(rng.randint(8, 30)):  # scattered rubbish
            x, y = rng.randint(0, w - 30), rng.randint(horizon + 20, h - 110)
            colour = rng.choice([(240, 240, 240), (200, 40, 40), (40, 60, 200), (230, 200, 30), (60, 40, 30)])
            if rng.random() < 0.5:
                d.ellipse([x, y, x + rng.randint(8, 28), y + rng.randint(6, 18)], fill=colour)
            else:
                d.rectangle([x, y, x + rng.randint(8, 24), y + rng.randint(8, 24)], fill=colour)
    d.rectangle([0, h - 80, w, h], fill=(0, 0, 0))
    d.text((16, h - 72), caption, font=_font(26), fill=(255, 255, 255))
    d.text((16, h - 36), f"#{seed[:24]}", font=_font(18), fill=(200, 200, 200))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()
