"""What the "photos that lie" check costs (run by hand: ``python benchmarks/bench_photo_integrity.py``).

Times ``xuncha_core.image_integrity.check_whole`` (the walk of every JPEG scan's entropy-coded
data that the phone and the server both run) on:

* the evidence JPEG the phone sends: 1600 px, progressive, q80 (what the server checks);
* the same picture as a baseline JPEG;
* a 12-megapixel camera-like JPEG (quality 92, 3-5 MB: what the phone checks before decoding);

beside a Pillow decode of the same file at 1/8 scale (the server's pixel check) and a full
decode, interleaved in rounds so a busy machine slows all alike. Prints medians in ms.
Options: --rounds N.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from benchmarks.bench_photos import camera_like_jpeg  # noqa: E402
from xuncha_core.image_integrity import check_whole  # noqa: E402


def _evidence(camera: bytes, *, progressive: bool) -> bytes:
    with Image.open(io.BytesIO(camera)) as image:
        image.draft("RGB", (1600, 1200))
        small = image.convert("RGB").resize((1600, 1200))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80, progressive=progressive, optimize=True)
    return out.getvalue()


def _decode(data: bytes, scale: int) -> None:
    with Image.open(io.BytesIO(data)) as image:
        if scale > 1:
            image.draft(image.mode, (image.width // scale, image.height // scale))
        image.load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    camera = camera_like_jpeg()
    photos = {
        "evidence 1600 px progressive": _evidence(camera, progressive=True),
        "evidence 1600 px baseline": _evidence(camera, progressive=False),
        "camera 12 MP baseline": camera,
    }
    contenders: dict[str, Callable[[bytes], None]] = {
        "check_whole": lambda data: check_whole(data, "JPEG"),
        "decode 1/8": lambda data: _decode(data, 8),
        "decode full": lambda data: _decode(data, 1),
    }
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for photo, data in photos.items():
            for name, run in contenders.items():
                started = time.perf_counter()
                run(data)
                times.setdefault((photo, name), []).append(time.perf_counter() - started)
    print(f"{'photo':32} {'KB':>6} " + " ".join(f"{name:>12}" for name in contenders) + "   (median ms)")
    for photo, data in photos.items():
        cells = " ".join(f"{statistics.median(times[(photo, n)]) * 1000:12.0f}" for n in contenders)
        print(f"{photo:32} {len(data) // 1024:6} {cells}")


if __name__ == "__main__":
    main()
