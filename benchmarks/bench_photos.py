"""Evidence photo pipeline on a 12-megapixel camera JPEG, against naive Pillow and vipsthumbnail.

    python benchmarks/bench_photos.py [--rounds 7] [--photo some.jpg]

Makes a 4000x3000 JPEG that looks like a camera's to an encoder (smooth scene, fine detail,
sensor noise, quality 92, 3-5 MB, EXIF orientation 6), then times per photo, interleaved in
rounds so that a busy machine slows all contenders alike:

* pipeline        ``process_photo`` in this process on a photo picked from the gallery, as
                  a phone runs it: the "photos that lie" check by the pure-Python walk of
                  every scan (a phone has no libvips), decode, upright, 1600 px, stamp,
                  progressive JPEG q80, 320 px thumbnail, hashes, atomic fsynced writes
* pipeline (camera)  the same for a photo the app's own camera just took: its markers are
                  read but its data is not walked (``field_app.photos.decode.check_jpeg``)
* naive Pillow    open, full decode, ``exif_transpose``, LANCZOS resize to 1600 px, save q80
* vipsthumbnail   ``vipsthumbnail in.jpg -s 1600x1600 -o out.jpg[Q=80,strip]`` as a subprocess
* pipeline (proc) the gallery pipeline as a subprocess per photo, the way vipsthumbnail
                  runs (Python start-up and imports included, also timed on their own)

Prints medians, output sizes and the ratios; the goal is pipeline / vipsthumbnail <= 1.0
with an output of at most 400 KB at 1600 px. Run by hand, never by CI.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps  # noqa: E402

from field_app.photos import Capture, Decoder, Location, process_photo  # noqa: E402
from xuncha_core.image_integrity import walker  # noqa: E402

CAPTURE = Capture(
    device_time=datetime(2024, 5, 3, 14, 22, 5, tzinfo=timezone(timedelta(hours=8))),
    device_location=Location(29.563012, 106.551634),
    village="垭口村",
    recorder="王堃",
    place="沱江边垃圾收集点",
)


def camera_like_jpeg(width: int = 4000, height: int = 3000, seed: int = 7) -> bytes:
    """A JPEG that compresses like a camera photo: no flat areas, detail at every scale."""
    rng = random.Random(seed)
    scene = Image.new("RGB", (width // 10, height // 10))
    draw = ImageDraw.Draw(scene)
    for y in range(scene.height):  # sky-to-ground gradient
        t = y / scene.height
        draw.line(
            [(0, y), (scene.width, y)],
            fill=(int(120 + 80 * t), int(160 - 40 * t), int(220 - 150 * t)),
        )
    for _ in range(120):  # buildings, bins, bushes
        x, y = rng.randrange(scene.width), rng.randrange(scene.height // 3, scene.height)
        w, h = rng.randrange(5, 60), rng.randrange(5, 50)
        colour = tuple(rng.randrange(30, 230) for _ in range(3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)([x, y, x + w, y + h], fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(1.5)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    detail = ImageDraw.Draw(scene)
    for _ in range(60_000):  # leaves, gravel, litter: fine high-frequency texture
        x, y = rng.randrange(width), rng.randrange(height)
        length = rng.randrange(3, 25)
        shade = rng.randrange(-60, 60)
        base = scene.getpixel((x, y))
        detail.line(
            [(x, y), (x + rng.randrange(-length, length), y + rng.randrange(-length, length))],
            fill=tuple(max(0, min(255, c + shade)) for c in base),
            width=rng.randrange(1, 4),
        )
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 9) for _ in range(3)])
    scene = ImageChops.add(scene, noise, scale=1.0, offset=-128)
    exif = Image.Exif()
    exif[0x0112] = 6  # held upright: stored on its side, like most phone photos
    exif[0x010F] = "Benchmark"
    buffer = io.BytesIO()
    scene.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def naive_pillow(data: bytes, out: Path) -> int:
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((1600, 1600), Image.Resampling.LANCZOS, reducing_gap=None)
        upright.save(out, "JPEG", quality=80)
    return out.stat().st_size


def vipsthumbnail(source: Path, out: Path) -> int:
    subprocess.run(
        ["vipsthumbnail", str(source), "-s", "1600x1600", "-o", f"{out}[Q=80,strip]"],
        check=True,
    )
    return out.stat().st_size


# What a phone runs: the walk, whatever engine this machine would pick (libvips here).
PHONE = Decoder(jpeg_engine=walker)


def pipeline_in_process(data: bytes, folder: Path, *, from_camera: bool = False) -> int:
    capture = dataclasses.replace(CAPTURE, from_camera=from_camera)
    return process_photo(data, photos_dir=folder, capture=capture, decoder=PHONE).size


# What a one-photo command would run: the pipeline's imports only, none of this script's.
ONE_PHOTO = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from datetime import datetime, timedelta, timezone
from field_app.photos import Capture, Decoder, Location, process_photo
from xuncha_core.image_integrity import walker
capture = Capture(
    device_time=datetime(2024, 5, 3, 14, 22, 5, tzinfo=timezone(timedelta(hours=8))),
    device_location=Location(29.563012, 106.551634),
    village="垭口村", recorder="王堃", place="沱江边垃圾收集点",
)
data = Path(sys.argv[1]).read_bytes()
phone = Decoder(jpeg_engine=walker)
print(process_photo(data, photos_dir=Path(sys.argv[2]), capture=capture, decoder=phone).size)
"""


def pipeline_subprocess(source: Path, folder: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", ONE_PHOTO, str(source), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.strip())


def python_startup() -> int:
    """Not a contender: what starting Python and importing the pipeline costs a subprocess."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); import field_app.photos",
        ],
        check=True,
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--photo", type=Path, help="time this JPEG instead of a generated one")
    args = parser.parse_args()
    if not shutil.which("vipsthumbnail"):
        print("vipsthumbnail not found (Debian: libvips-tools)", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "camera.jpg"
        if args.photo:
            source.write_bytes(args.photo.read_bytes())
        else:
            source.write_bytes(camera_like_jpeg())
        data = source.read_bytes()
        with Image.open(source) as probe:
            print(
                f"input: {probe.size[0]}x{probe.size[1]} JPEG, {len(data) / 1e6:.2f} MB, "
                f"orientation {probe.getexif().get(0x0112, 1)}"
            )

        contenders = {
            "pipeline": lambda out: pipeline_in_process(data, out),
            "pipeline (camera)": lambda out: pipeline_in_process(data, out, from_camera=True),
            "naive Pillow": lambda out: naive_pillow(data, out / "naive.jpg"),
            "vipsthumbnail": lambda out: vipsthumbnail(source, out / "vips.jpg"),
            "pipeline (proc)": lambda out: pipeline_subprocess(source, out),
            "python start-up": lambda out: python_startup(),
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        sizes: dict[str, int] = {}
        for i in range(-1, args.rounds):  # round -1 warms caches and is not counted
            for n, (name, run) in enumerate(contenders.items()):
                out = work / f"round{i}-{n}"
                out.mkdir()
                started = time.perf_counter()
                sizes[name] = run(out)
                if i >= 0:
                    times[name].append(time.perf_counter() - started)

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{'contender':<19}{'median ms':>10}{'min ms':>9}{'output KB':>11}")
    for name in contenders:
        size = f"{sizes[name] / 1024:.0f}" if sizes[name] else "-"
        print(f"{name:<19}{medians[name] * 1000:>10.0f}{min(times[name]) * 1000:>9.0f}{size:>11}")
    vips = medians["vipsthumbnail"]
    print("\nratios (median time / vipsthumbnail's):")
    for name in ("pipeline", "pipeline (camera)", "pipeline (proc)", "naive Pillow"):
        print(f"  {name:<18} {medians[name] / vips:.2f}")
    startup = medians["python start-up"]
    print(
        f"  pipeline (proc) less Python start-up: {(medians['pipeline (proc)'] - startup) / vips:.2f}"
    )
    print(
        f"pipeline output: {sizes['pipeline'] / 1024:.0f} KB at 1600 px long side "
        f"(goal <= 400 KB); stamp and 320 px thumbnail included"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
