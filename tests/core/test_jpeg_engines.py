"""The JPEG rule of issue 7 has two engines, and they refuse exactly the same photos.

The phone walks every scan's data in Python (``xuncha_core.jpeg_entropy``, the reference);
the server has libjpeg decode a strict copy of the photo through libvips, every warning an
error (``xuncha_core.jpeg_libvips``). A corpus of real photos, encoded the ways phones and
Pillow encode them and damaged the ways files get damaged, goes through both.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import pyvips
from PIL import Image

from tests.conftest import PHOTOS
from tests.support.photos import (
    bad_huffman_code,
    cut_with_end_marker,
    garbled,
    jpeg_claiming,
    junk_before_end,
    junk_between_scans,
    lying_header,
)
from xuncha_core.image_integrity import (
    JpegEngine,
    PhotoDamaged,
    check_whole,
    default_jpeg_engine,
    walker,
)
from xuncha_core.jpeg_libvips import LibvipsJpeg

LIBVIPS = LibvipsJpeg()


def verdict(data: bytes, engine: JpegEngine) -> str:
    try:
        check_whole(data, "JPEG", engine=engine)
    except PhotoDamaged as damaged:
        return damaged.code
    return "accepted"


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def encoded(name: str, *, grey: bool = False, **options: object) -> bytes:
    with Image.open(PHOTOS / name) as source:
        image = source.convert("L" if grey else "RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def size_of(jpeg: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(jpeg)) as image:
        return image.size


def flipped_bit(jpeg: bytes, at: float = 0.7) -> bytes:
    data = bytearray(jpeg)
    where = int(len(data) * at)
    while 0xFF in data[where - 1 : where + 2]:
        where += 1
    data[where] ^= 0x10
    return bytes(data)


ENCODINGS: dict[str, Callable[[], bytes]] = {
    "camera JPEG as taken": lambda: photo("gps_DSCN0010.jpg"),
    "baseline 4:4:4": lambda: encoded("orientation_landscape_1.jpg", quality=90, subsampling=0),
    "progressive as the phone sends": lambda: encoded(
        "orientation_landscape_1.jpg", quality=80, progressive=True, optimize=True
    ),
    "greyscale": lambda: encoded("gps_DSCN0010.jpg", grey=True, quality=85),
    "restart markers every 4 MCUs": lambda: encoded(
        "orientation_landscape_3.jpg", quality=85, restart_marker_blocks=4
    ),
    "progressive with restart markers": lambda: encoded(
        "gps_DSCN0010.jpg", quality=75, progressive=True, restart_marker_blocks=6
    ),
}
DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "whole": lambda jpeg: jpeg,
    "cut at 60% with an end marker": lambda jpeg: cut_with_end_marker(jpeg, 0.6),
    "last 40 bytes cut, end marker kept": lambda jpeg: jpeg[:-42] + b"\xff\xd9",
    "a bad Huffman code": bad_huffman_code,
    "garbled at 60%": lambda jpeg: garbled(jpeg, at=0.6),
    "a bit flipped": flipped_bit,
    "1 stray byte after the last block": lambda jpeg: junk_before_end(jpeg, 1),
    "5 stray bytes after the last block": lambda jpeg: junk_before_end(jpeg, 5),
    "header claims 16 more rows": lambda jpeg: jpeg_claiming(
        jpeg, size_of(jpeg)[0], size_of(jpeg)[1] + 16
    ),
}
CORPUS = [(encoding, damage) for encoding in ENCODINGS for damage in DAMAGES] + [
    ("progressive as the phone sends", "2 stray bytes between scans"),
    ("progressive with restart markers", "7 stray bytes between scans"),
]


def damaged(encoding: str, damage: str) -> bytes:
    jpeg = ENCODINGS[encoding]()
    if damage.endswith("between scans"):
        return junk_between_scans(jpeg, int(damage.split()[0]))
    return DAMAGES[damage](jpeg)


@pytest.mark.parametrize(("encoding", "damage"), CORPUS, ids=[f"{e} / {d}" for e, d in CORPUS])
def test_the_phone_and_the_server_refuse_the_same_jpegs_with_the_same_code(
    encoding: str, damage: str
) -> None:
    data = damaged(encoding, damage)
    on_the_phone, on_the_server = verdict(data, walker), verdict(data, LIBVIPS)
    assert on_the_phone == on_the_server
    if damage == "whole":
        assert on_the_server == "accepted"
    elif damage != "a bit flipped":  # a flipped bit may land where it changes no length
        assert on_the_server in ("photo.truncated", "photo.corrupt")


PROGRESSIVE = ENCODINGS["progressive as the phone sends"]
CAMERA = ENCODINGS["camera JPEG as taken"]
LIES: dict[str, tuple[Callable[[], bytes], str]] = {
    "baseline cut at 60% with an end marker": (
        lambda: cut_with_end_marker(CAMERA()),
        "photo.truncated",
    ),
    "progressive cut at 60% with an end marker": (
        lambda: cut_with_end_marker(PROGRESSIVE()),
        "photo.truncated",
    ),
    "a bad Huffman code": (lambda: bad_huffman_code(CAMERA()), "photo.corrupt"),
    "3 stray bytes after a baseline image's last block": (
        lambda: junk_before_end(CAMERA(), 3),
        "photo.corrupt",
    ),
    "3 stray bytes between progressive scans": (
        lambda: junk_between_scans(PROGRESSIVE(), 3),
        "photo.corrupt",
    ),
    "a 240x240 JPEG whose header says 7000x7000": (
        lambda: lying_header(7000, 7000),
        "photo.truncated",
    ),
}


@pytest.mark.parametrize("lie", list(LIES))
def test_libvips_refuses_every_kind_of_photo_that_lies(lie: str) -> None:
    make, code = LIES[lie]
    assert verdict(make(), LIBVIPS) == code


@pytest.mark.parametrize("name", sorted(p.name for p in PHOTOS.glob("*.jpg")))
def test_every_sample_photo_is_accepted_by_both_engines(name: str) -> None:
    # invalid_image01551.jpg is a 61x58 web badge: the phone refuses it as too small for
    # evidence, but its data is whole and the server keeps it.
    assert verdict(photo(name), walker) == verdict(photo(name), LIBVIPS) == "accepted"


def test_libvips_on_its_own_keeps_junk_after_a_baseline_image_the_strict_copy_does_not() -> None:
    # libvips never reads past the last row of a single-scan JPEG, so libjpeg never sees
    # the stray bytes; the strict copy makes it look (xuncha_core.jpeg_strict_copy).
    junk = junk_before_end(CAMERA(), 20)
    pyvips.Image.jpegload_buffer(junk, fail_on="warning", revalidate=True).avg()
    assert verdict(junk, LIBVIPS) == "photo.corrupt"


def test_the_server_checks_with_libvips_where_it_is_installed() -> None:
    assert default_jpeg_engine().name == "libvips"
    assert default_jpeg_engine().decodes_pixels
