"""What the "photos that lie" check costs (run by hand: ``python benchmarks/bench_photo_integrity.py``).

Times ``xuncha_core.image_integrity.check_whole`` on:

* the evidence JPEG the phone sends: 1600 px, progressive, q80, optimised tables (what the
  server checks);
* the same picture as a baseline JPEG;
* a 12-megapixel camera-like JPEG (quality 92, 3-5 MB: what the phone checks when a photo
  is picked from the gallery);

with each engine of the rule: the pure-Python walk (the phone's) and libjpeg through
libvips (the server's), beside Pillow decoding the same file at 1/8 scale and in full.
Huffman lookups are rebuilt for every run, as for a photo never seen before.

``--before REV`` also times the walk as it was at git revision REV (run in a worker
process on that revision's ``xuncha_core``), in the same rounds. Times are CPU time of
the process (libvips's worker threads included), which a machine shared with other work
changes far less than elapsed time; contenders run interleaved in rounds. Prints medians
in ms and each as a ratio to Pillow's full decode. Options: --rounds N, --before REV.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from benchmarks.bench_photos import camera_like_jpeg  # noqa: E402
from xuncha_core.image_integrity import check_whole, walker  # noqa: E402
from xuncha_core.jpeg_huffman import huffman_table  # noqa: E402

# Runs in the worker: times check_whole of the revision it imports, one file per line.
_WORKER = """
import sys, time
from xuncha_core.image_integrity import check_whole
from xuncha_core import jpeg_layout
for line in sys.stdin:
    data = open(line.strip(), "rb").read()
    cache = getattr(jpeg_layout, "_table", None)
    if cache is not None:
        cache.cache_clear()
    started = time.process_time()
    check_whole(data, "JPEG")
    print(time.process_time() - started, flush=True)
"""


class Before:
    """The walk at another revision, in a worker process with that revision's core."""

    def __init__(self, revision: str, folder: Path) -> None:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", revision, "xuncha_core"],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder / "before", filter="data")
        self.folder = folder
        self.worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            cwd=folder / "before",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def time(self, data: bytes) -> float:
        path = self.folder / "photo.jpg"
        path.write_bytes(data)
        assert self.worker.stdin and self.worker.stdout
        self.worker.stdin.write(f"{path}\n")
        self.worker.stdin.flush()
        return float(self.worker.stdout.readline())

    def close(self) -> None:
        if self.worker.stdin:
            self.worker.stdin.close()
        self.worker.wait()


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


def _timed(run: Callable[[bytes], None]) -> Callable[[bytes], float]:
    def timing(data: bytes) -> float:
        huffman_table.cache_clear()
        started = time.process_time()
        run(data)
        return time.process_time() - started

    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", metavar="REV", help="also time the walk at this git revision")
    args = parser.parse_args()
    camera = camera_like_jpeg()
    photos = {
        "evidence 1600 px progressive": _evidence(camera, progressive=True),
        "evidence 1600 px baseline": _evidence(camera, progressive=False),
        "camera 12 MP baseline": camera,
    }
    with tempfile.TemporaryDirectory() as tmp:
        contenders: dict[str, Callable[[bytes], float]] = {}
        before = Before(args.before, Path(tmp)) if args.before else None
        if before:
            contenders[f"walk {args.before}"] = before.time
        contenders["walk"] = _timed(lambda data: check_whole(data, "JPEG", engine=walker))
        try:
            from xuncha_core.jpeg_libvips import LibvipsJpeg
        except ImportError:
            print("pyvips is not installed: no libvips engine (pip install -e .[server])")
        else:
            libvips = LibvipsJpeg()
            contenders["libvips"] = _timed(lambda data: check_whole(data, "JPEG", engine=libvips))
        contenders["decode 1/8"] = _timed(lambda data: _decode(data, 8))
        contenders["decode full"] = _timed(lambda data: _decode(data, 1))
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for photo, data in photos.items():
                for name, run in contenders.items():
                    times.setdefault((photo, name), []).append(run(data))
        if before:
            before.close()
    _report(photos, list(contenders), times)


def _report(
    photos: dict[str, bytes], names: list[str], times: dict[tuple[str, str], list[float]]
) -> None:
    width = max(12, *(len(n) for n in names))
    print(f"{'photo':30} {'KB':>5} " + " ".join(f"{n:>{width}}" for n in names) + "  (median CPU ms)")
    for photo, data in photos.items():
        cells = " ".join(f"{statistics.median(times[(photo, n)]) * 1000:{width}.0f}" for n in names)
        print(f"{photo:30} {len(data) // 1024:5} {cells}")
    print("\nas a ratio to Pillow's full decode of the same file:")
    for photo in photos:
        full = statistics.median(times[(photo, "decode full")])
        cells = " ".join(f"{statistics.median(times[(photo, n)]) / full:{width}.2f}" for n in names)
        print(f"{photo:30} {'':5} {cells}")


if __name__ == "__main__":
    main()
