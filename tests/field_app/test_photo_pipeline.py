"""The evidence photo pipeline on real camera and phone photos (tests.support.photos.PHOTOS)."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
import statistics
import struct
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

from field_app.photos import (
    FONT_PATH,
    Capture,
    Decoder,
    Limits,
    Location,
    PhotoError,
    PhotoFormatUnsupported,
    PhotoSettings,
    PhotoTooLarge,
    PhotoUnreadable,
    StampConfig,
    process_photo,
    remove_leftover_temp_files,
)
from field_app.photos.exif import dms_to_degrees, gps_from_tags, gps_time_utc
from field_app.photos.stamp import StampFacts, burn_stamp, stamp_lines
from tests.support.photos import (
    PHOTOS,
    ROOT,
    cut_with_end_marker,
    garbled,
    lying_header,
    progressive,
)
from xuncha_core.image_integrity import walker
from xuncha_core.jpeg_layout import JpegLayout
from xuncha_core.jpeg_libvips import LibvipsJpeg

CHONGQING = timezone(timedelta(hours=8))
CAPTURE = Capture(
    device_time=datetime(2024, 5, 3, 14, 22, 5, tzinfo=CHONGQING),
    device_location=Location(29.563012, 106.551634, altitude=312.0, accuracy=8.0),
    village="垭口村",
    recorder="王堃",
    place="沱江边垃圾收集点",
)
NO_STAMP = PhotoSettings(stamp=StampConfig(enabled=False))
NAME_AND_PLACE_CHARACTERS = "堃喆赟玥昇氹垭坝沱磡"


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def signature(path: Path) -> Image.Image:
    """A small grey version of a picture, for comparing what it shows."""
    with Image.open(path) as image:
        return image.convert("L").resize((32, 24), Image.Resampling.BOX)


def likeness(a: Image.Image, b: Image.Image) -> float:
    """Correlation of two signatures (1.0: the same picture, whatever the exposure), leaving
    out the middle where each orientation sample has its own big digit painted."""

    def values(image: Image.Image) -> list[int]:
        return [
            image.getpixel((x, y))
            for y in range(image.height)
            for x in range(image.width)
            if not (12 <= x <= 20 and 6 <= y <= 15)
        ]

    return statistics.correlation(values(a), values(b))


# --- orientation -----------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_every_exif_orientation_comes_out_upright(tmp_path: Path, orientation: int) -> None:
    reference = process_photo(
        photo("orientation_landscape_1.jpg"),
        photos_dir=tmp_path,
        capture=CAPTURE,
        settings=NO_STAMP,
    )
    turned = process_photo(
        photo(f"orientation_landscape_{orientation}.jpg"),
        photos_dir=tmp_path,
        capture=CAPTURE,
        settings=NO_STAMP,
    )
    assert (turned.width, turned.height) == (reference.width, reference.height) == (600, 450)
    upright = signature(reference.path)
    shown = signature(turned.path)
    # Still turned or mirrored, it would look like the reference turned or mirrored.
    wrong_ways = [
        likeness(upright.transpose(step), shown)
        for step in (
            Image.Transpose.ROTATE_180,
            Image.Transpose.FLIP_LEFT_RIGHT,
            Image.Transpose.FLIP_TOP_BOTTOM,
        )
    ]
    assert likeness(upright, shown) > 0.95
    assert max(wrong_ways) < 0.8, wrong_ways


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_eight_orientations_match_pillows_reference_rendering(
    tmp_path: Path, orientation: int
) -> None:
    # Mirrored orientations (2, 4, 5, 7) are rare in the wild and absent from the samples:
    # tag a real photo with each and compare with what Pillow's exif_transpose shows.
    with Image.open(PHOTOS / "gps_DSCN0010.jpg") as image:
        exif = image.getexif()
        exif[0x0112] = orientation
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    tagged = buffer.getvalue()
    with Image.open(io.BytesIO(tagged)) as image:
        expected = (
            ImageOps.exif_transpose(image).convert("L").resize((32, 24), Image.Resampling.BOX)
        )
    evidence = process_photo(tagged, photos_dir=tmp_path, capture=CAPTURE, settings=NO_STAMP)
    upright_size = (640, 480) if orientation < 5 else (480, 640)
    assert (evidence.width, evidence.height) == upright_size
    shown = signature(evidence.path).resize(expected.size)
    assert statistics.correlation(list(expected.tobytes()), list(shown.tobytes())) > 0.98


def test_portrait_photo_comes_out_taller_than_wide(tmp_path: Path) -> None:
    with Image.open(PHOTOS / "orientation_portrait_6.jpg") as raw:
        assert raw.width > raw.height  # stored on its side, tagged orientation 6
    evidence = process_photo(
        photo("orientation_portrait_6.jpg"), photos_dir=tmp_path, capture=CAPTURE
    )
    assert evidence.height > evidence.width
    assert (evidence.original_width, evidence.original_height) == (450, 600)
    with Image.open(evidence.thumbnail_path) as thumb:
        assert thumb.height > thumb.width


# --- EXIF time and GPS -----------------------------------------------------------------


def raw_gps_tags(jpeg: bytes) -> dict[int, object]:
    """The GPS IFD of a JPEG read straight from its bytes, rationals as Fractions: a reader
    written here so the pipeline's EXIF code is checked against something independent."""
    pos = 2
    while jpeg[pos] == 0xFF and jpeg[pos + 1] != 0xDA:
        length = struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
        if jpeg[pos + 1] == 0xE1 and jpeg[pos + 4 : pos + 10] == b"Exif\x00\x00":
            tiff = jpeg[pos + 10 : pos + 2 + length]
            break
        pos += 2 + length
    else:
        raise AssertionError("no EXIF segment")
    order = "<" if tiff[:2] == b"II" else ">"

    def entries(offset: int) -> dict[int, tuple[int, int, bytes]]:
        (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
        found = {}
        for i in range(count):
            tag, kind, n, value = struct.unpack(
                order + "HHI4s", tiff[offset + 2 + 12 * i : offset + 14 + 12 * i]
            )
            found[tag] = (kind, n, value)
        return found

    ifd0 = entries(struct.unpack(order + "I", tiff[4:8])[0])
    gps_offset = struct.unpack(order + "I", ifd0[0x8825][2])[0]
    tags: dict[int, object] = {}
    for tag, (kind, n, value) in entries(gps_offset).items():
        if kind == 5:  # RATIONAL: n pairs of uint32 at an offset
            (at,) = struct.unpack(order + "I", value)
            pairs = struct.unpack(order + "I" * 2 * n, tiff[at : at + 8 * n])
            tags[tag] = [Fraction(pairs[2 * i], pairs[2 * i + 1]) for i in range(n)]
        elif kind == 2:  # ASCII
            data = value if n <= 4 else tiff[struct.unpack(order + "I", value)[0] :][:n]
            tags[tag] = data[:n].rstrip(b"\x00").decode()
    return tags


def test_gps_position_and_times_are_read_from_the_camera_exif(tmp_path: Path) -> None:
    data = photo("gps_DSCN0010.jpg")
    raw = raw_gps_tags(data)
    degrees, minutes, seconds = raw[2]  # latitude
    latitude = float(degrees + minutes / 60 + seconds / 3600) * (-1 if raw[1] == "S" else 1)
    degrees, minutes, seconds = raw[4]
    longitude = float(degrees + minutes / 60 + seconds / 3600) * (-1 if raw[3] == "W" else 1)
    hours, minutes, seconds = raw[7]

    evidence = process_photo(data, photos_dir=tmp_path, capture=CAPTURE)

    assert evidence.gps is not None
    assert evidence.gps.latitude == pytest.approx(latitude, abs=1e-6)
    assert evidence.gps.longitude == pytest.approx(longitude, abs=1e-6)
    assert 43 < evidence.gps.latitude < 44 and 11 < evidence.gps.longitude < 12  # Tuscany
    day = raw[29].replace(":", "-")
    assert evidence.gps.time_utc == (
        f"{day}T{int(hours):02d}:{int(minutes):02d}:{float(seconds):09.6f}Z"
    )
    assert evidence.exif_time == "2008-10-22T16:28:39"
    # The device's own fix and clock are kept beside the camera's, never replaced by them.
    assert evidence.capture_location == CAPTURE.device_location
    assert evidence.captured_at == "2024-05-03T14:22:05+08:00"


def test_stamp_falls_back_to_the_photos_gps_when_the_phone_had_no_fix(tmp_path: Path) -> None:
    capture = Capture(device_time=CAPTURE.device_time, village="坝上村", recorder="李喆")
    evidence = process_photo(photo("gps_DSCN0010.jpg"), photos_dir=tmp_path, capture=capture)
    assert "坐标：北纬43.46745° 东经11.88513°" in evidence.stamp
    assert evidence.capture_location is None


def test_exif_rationals_become_signed_decimal_degrees() -> None:
    assert dms_to_degrees([(29, 1), (33, 1), (4680, 1000)], "N") == pytest.approx(29.5513)
    assert dms_to_degrees([106.5, 0, 0], b"W") == -106.5
    assert dms_to_degrees([(33, 1), (51, 1), (0, 1)], "S") == pytest.approx(-33.85)
    with pytest.raises(ValueError):
        dms_to_degrees([(29, 0), (0, 1), (0, 1)], "N")
    with pytest.raises(ValueError):
        dms_to_degrees([29, 75, 0], "N")
    no_fix = {1: "N", 2: [(0, 1)] * 3, 3: "E", 4: [(0, 1)] * 3}
    assert gps_from_tags(no_fix) is None
    below_sea = {1: "N", 2: [31, 0, 0], 3: "E", 4: [121, 0, 0], 5: b"\x01", 6: (15, 10)}
    fix = gps_from_tags(below_sea)
    assert fix is not None and fix.altitude == -1.5
    assert gps_time_utc("2024:05:03", [(6, 1), (22, 1), (5, 1)]) == "2024-05-03T06:22:05Z"
    assert gps_time_utc("garbage", [6, 22, 5]) is None


# --- formats and refusals --------------------------------------------------------------


def test_heif_photo_is_decoded_where_a_decoder_is_installed(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif", reason="needs pillow-heif, the optional HEIF decoder (installed in the full suite)")
    evidence = process_photo(photo("heic_samplefilehub.heif"), photos_dir=tmp_path, capture=CAPTURE)
    assert evidence.original_format == "HEIF"
    with Image.open(evidence.path) as saved:
        assert saved.format == "JPEG"
        assert saved.size == (evidence.width, evidence.height)
        assert saved.convert("L").getextrema() != (0, 0)


def test_heif_photo_is_refused_with_a_clear_message_where_no_decoder_exists(
    tmp_path: Path,
) -> None:
    phone_without_heif = Decoder(heif_support=lambda: False)
    with pytest.raises(PhotoFormatUnsupported) as refused:
        process_photo(
            photo("heic_samplefilehub.heif"),
            photos_dir=tmp_path,
            capture=CAPTURE,
            decoder=phone_without_heif,
        )
    assert refused.value.code == "photo.heif_unsupported"
    assert "JPEG" in refused.value.message
    assert "兼容性最佳" in refused.value.message_zh
    assert files_in(tmp_path) == []


def refuse(
    data: bytes,
    folder: Path,
    settings: PhotoSettings | None = None,
    decoder: Decoder | None = None,
) -> PhotoError:
    """Run the pipeline on ``data`` in a worker with a deadline; return the refusal."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            process_photo,
            data,
            photos_dir=folder,
            capture=CAPTURE,
            settings=settings,
            decoder=decoder,
        )
        error = future.exception(timeout=60)  # a refusal never hangs (how fast: benchmarks/)
    assert isinstance(error, PhotoError), error
    assert error.message and error.message_zh
    assert files_in(folder) == []
    return error


def test_the_sample_broken_file_is_refused_promptly_and_nothing_is_saved(tmp_path: Path) -> None:
    # A 61x58 web badge made in Fireworks, no camera EXIF: pixels decode, but it is no
    # evidence photo.
    error = refuse(photo("invalid_image01551.jpg"), tmp_path)
    assert isinstance(error, PhotoUnreadable)
    assert error.code == "photo.too_small"


def test_a_photo_cut_short_is_refused_as_truncated(tmp_path: Path) -> None:
    data = photo("mobile_jolla.jpg")
    error = refuse(data[: len(data) // 2], tmp_path)
    assert error.code == "photo.truncated"


# The phone has no libvips: it walks the scans in Python. Desktop builds with the server's
# extra installed check with libjpeg through libvips. Both must refuse.
ENGINES = {"on a phone (the walk)": walker, "with libvips": LibvipsJpeg()}


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("layout", ["baseline", "progressive"])
def test_a_jpeg_cut_at_60_percent_with_an_end_marker_is_refused_not_filled_with_grey(
    tmp_path: Path, layout: str, engine: str
) -> None:
    # Issue 7: libjpeg only warns when the data ends early and decodes the rest as grey.
    data = photo("orientation_landscape_1.jpg")
    if layout == "progressive":
        data = progressive(data)
    error = refuse(cut_with_end_marker(data, 0.6), tmp_path, decoder=Decoder(jpeg_engine=ENGINES[engine]))
    assert isinstance(error, PhotoUnreadable)
    assert error.code == "photo.truncated"
    assert "不完整" in error.message_zh


def test_a_jpeg_whose_header_claims_more_pixels_than_its_data_holds_is_refused(
    tmp_path: Path,
) -> None:
    error = refuse(lying_header(7000, 7000), tmp_path)  # 240x240 of data, 49 MP declared
    assert error.code == "photo.truncated"
    assert error.detail["declared"] == [7000, 7000]


class NeverCalled:
    """A JPEG engine that fails the test if the pipeline asks it to walk anything."""

    name = "never called"
    decodes_pixels = False

    def check(self, data: bytes, layout: JpegLayout) -> None:
        raise AssertionError("the photo's data was walked")


def test_a_photo_from_the_apps_own_camera_is_not_walked_but_a_cut_buffer_is_still_refused(
    tmp_path: Path,
) -> None:
    # The camera's own encoder wrote these bytes in this process a moment ago: walking a
    # 12 MP photo's data would cost seconds a tap (field_app.photos.decode.check_jpeg).
    data = photo("orientation_landscape_1.jpg")
    camera = dataclasses.replace(CAPTURE, from_camera=True)
    skip_walk = Decoder(jpeg_engine=NeverCalled())
    evidence = process_photo(data, photos_dir=tmp_path, capture=camera, decoder=skip_walk)
    assert evidence.original_sha256 == hashlib.sha256(data).hexdigest()
    with pytest.raises(AssertionError, match="walked"):  # a gallery photo is walked
        process_photo(data, photos_dir=tmp_path / "gallery", capture=CAPTURE, decoder=skip_walk)
    with pytest.raises(PhotoUnreadable) as refused:  # its markers are still read
        process_photo(data[: len(data) * 2 // 3], photos_dir=tmp_path / "cut", capture=camera)
    assert refused.value.code == "photo.truncated"
    assert "ends inside the image data" in refused.value.detail["reason"]


def test_a_jpeg_with_damaged_image_data_is_refused_as_corrupt(tmp_path: Path) -> None:
    # Overwritten bytes the decoder cannot resynchronise after (libjpeg: "Corrupt JPEG data").
    damaged = garbled(photo("orientation_landscape_1.jpg"), at=0.6)
    assert refuse(damaged, tmp_path).code == "photo.corrupt"


@pytest.mark.parametrize("decoder_installed", [True, False])
def test_a_truncated_heif_is_refused_as_cut_short_with_or_without_a_decoder(
    tmp_path: Path, decoder_installed: bool
) -> None:
    data = photo("heic_samplefilehub.heif")
    cut = data[: len(data) * 2 // 3]
    decoder = Decoder(heif_support=(lambda: True) if decoder_installed else (lambda: False))
    with pytest.raises(PhotoUnreadable) as refused:
        process_photo(cut, photos_dir=tmp_path, capture=CAPTURE, decoder=decoder)
    assert refused.value.code == "photo.truncated"
    assert "cut short" in refused.value.message
    assert "不完整" in refused.value.message_zh
    assert files_in(tmp_path) == []


def test_a_truncated_heif_whose_boxes_were_patched_to_fit_is_refused(tmp_path: Path) -> None:
    # The mdat box shortened to what is left: the item's extent in iloc still reaches past it.
    data = bytearray(photo("heic_samplefilehub.heif")[:20000])
    mdat = data.find(b"mdat") - 4
    data[mdat : mdat + 4] = (len(data) - mdat).to_bytes(4, "big")
    assert refuse(bytes(data), tmp_path).code == "photo.truncated"


def test_a_detailed_12_megapixel_photo_stays_within_the_400_kb_budget_with_its_quality_recorded(
    tmp_path: Path,
) -> None:
    # Fine texture that survives the downscale to 1600 px: at q80 it makes a ~630 KB JPEG.
    with Image.open(PHOTOS / "mobile_jolla.jpg") as source:
        scene = source.resize((4000, 3000), Image.Resampling.BICUBIC)
    grain = Image.merge("RGB", [Image.effect_noise((1600, 1200), 48) for _ in range(3)])
    scene = ImageChops.add(scene, grain.resize(scene.size, Image.Resampling.NEAREST), offset=-128)
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=75)
    evidence = process_photo(out.getvalue(), photos_dir=tmp_path, capture=CAPTURE)
    assert evidence.size == evidence.path.stat().st_size <= 400 * 1024
    assert evidence.as_dict()["quality"] == evidence.quality < 80
    assert max(evidence.width, evidence.height) >= 1200  # quality went first, size barely if at all


def test_an_ordinary_photo_keeps_quality_80(tmp_path: Path) -> None:
    evidence = process_photo(photo("orientation_landscape_1.jpg"), photos_dir=tmp_path, capture=CAPTURE)
    assert evidence.quality == 80 and evidence.as_dict()["quality"] == 80


def test_bytes_that_are_no_image_are_refused(tmp_path: Path) -> None:
    assert refuse(b"%PDF-1.7\n" + bytes(range(256)) * 40, tmp_path).code == "photo.not_an_image"
    damaged = bytearray(photo("orientation_landscape_1.jpg"))
    damaged[2:600] = b"\x00" * 598
    assert refuse(bytes(damaged), tmp_path).code == "photo.not_an_image"


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    error = refuse(b"", tmp_path)
    assert error.code == "photo.empty"
    assert "0" in error.message_zh


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` black pixels: a few hundred KB that would
    take ``width * height`` pixels of memory to decode."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 1000) for _ in range(height // 1000))
    idat += packer.compress(row * (height % 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


# 144 MP passes Pillow's own guard (178 MP) and meets ours; 1.6 GP meets Pillow's first.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [12_000, 40_000])
def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path, side: int) -> None:
    bomb = png_bomb(side, side)
    assert len(bomb) < 1_000_000
    error = refuse(bomb, tmp_path)
    assert isinstance(error, PhotoTooLarge)
    assert error.code == "photo.too_many_pixels"


def test_a_progressive_jpeg_announcing_hundreds_of_scans_is_refused_before_decoding(
    tmp_path: Path,
) -> None:
    buffer = io.BytesIO()
    with Image.open(PHOTOS / "orientation_landscape_1.jpg") as image:
        image.save(buffer, "JPEG", progressive=True)
    jpeg = buffer.getvalue()
    # Scan markers hidden in a comment segment stand in for a crafted file's scans: the
    # guard counts markers in the raw bytes before libjpeg sees any of them.
    comment = b"\xff\xda" * 300
    crafted = jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]
    error = refuse(crafted, tmp_path)
    assert error.code == "photo.too_many_scans"
    assert process_photo(jpeg, photos_dir=tmp_path, capture=CAPTURE).width == 600


def test_the_pixel_limit_is_configurable(tmp_path: Path) -> None:
    strict = PhotoSettings(limits=Limits(max_pixels=2_000_000))
    error = refuse(photo("mobile_jolla.jpg"), tmp_path, strict)  # 3264x2448, 8 MP
    assert error.code == "photo.too_many_pixels"
    assert error.detail["size"] == [3264, 2448]


# --- the evidence JPEG, thumbnail and files --------------------------------------------


def test_evidence_photo_is_a_progressive_jpeg_at_most_1600_px_with_a_320_px_thumbnail(
    tmp_path: Path,
) -> None:
    data = photo("mobile_jolla.jpg")
    evidence = process_photo(data, photos_dir=tmp_path, capture=CAPTURE)
    assert (evidence.original_width, evidence.original_height) == (3264, 2448)
    assert (evidence.width, evidence.height) == (1600, 1200)
    saved = evidence.path.read_bytes()
    with Image.open(io.BytesIO(saved)) as image:
        assert image.format == "JPEG" and image.size == (1600, 1200)
        assert image.info.get("progressive") or image.info.get("progression")
        assert not image.getexif()  # location lives in the record, not in the blob
    with Image.open(evidence.thumbnail_path) as thumb:
        assert max(thumb.size) == 320 and thumb.size == (320, 240)
    assert evidence.size == len(saved) < 400_000
    assert evidence.sha256 == hashlib.sha256(saved).hexdigest()
    assert evidence.path.name == f"{evidence.sha256}.jpg"
    assert evidence.original_sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.original_size == len(data)
    assert evidence.as_dict()["file"] == evidence.path.name


def test_the_long_side_limit_is_configurable_and_small_photos_are_not_enlarged(
    tmp_path: Path,
) -> None:
    smaller = PhotoSettings(max_long_side=800)
    evidence = process_photo(
        photo("mobile_jolla.jpg"), photos_dir=tmp_path, capture=CAPTURE, settings=smaller
    )
    assert (evidence.width, evidence.height) == (800, 600)
    small = process_photo(photo("gps_DSCN0010.jpg"), photos_dir=tmp_path, capture=CAPTURE)
    assert (small.width, small.height) == (640, 480)


def test_saving_leaves_only_hash_named_files_and_a_retry_is_harmless(tmp_path: Path) -> None:
    first = process_photo(photo("mobile_jolla.jpg"), photos_dir=tmp_path, capture=CAPTURE)
    again = process_photo(photo("mobile_jolla.jpg"), photos_dir=tmp_path, capture=CAPTURE)
    assert again.sha256 == first.sha256
    assert files_in(tmp_path) == sorted([f"{first.sha256}.jpg", f"{first.sha256}.thumb.jpg"])
    leftover = tmp_path / f".{first.sha256}.jpg.x1y2z3.part"
    leftover.write_bytes(b"half a photo")
    assert remove_leftover_temp_files(tmp_path) == [leftover]
    assert files_in(tmp_path) == sorted([f"{first.sha256}.jpg", f"{first.sha256}.thumb.jpg"])


FULL_DISK_CHILD = """
import resource, signal, sys
from datetime import datetime, timezone
from pathlib import Path
from field_app.photos import Capture, PhotoNotSaved, process_photo
data = Path(sys.argv[1]).read_bytes()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # room for 20 KB per file
try:
    process_photo(data, photos_dir=Path(sys.argv[2]),
                  capture=Capture(device_time=datetime.now(timezone.utc)))
except PhotoNotSaved as error:
    print(error.code, error.message_zh)
"""


def test_a_full_disk_gives_a_clear_error_and_leaves_no_partial_file(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, str(PHOTOS / "mobile_jolla.jpg"), str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("photo.storage_full 手机存储空间已满")
    assert files_in(folder) == []


# --- the stamp and the font ------------------------------------------------------------


def test_the_stamp_is_burnt_into_the_configured_corner_only(tmp_path: Path) -> None:
    data = photo("mobile_jolla.jpg")
    plain = process_photo(data, photos_dir=tmp_path, capture=CAPTURE, settings=NO_STAMP)
    stamped = process_photo(data, photos_dir=tmp_path, capture=CAPTURE)
    top_right = PhotoSettings(stamp=StampConfig(position="top-right", fields=("time", "recorder")))
    moved = process_photo(data, photos_dir=tmp_path, capture=CAPTURE, settings=top_right)
    with Image.open(plain.path) as a, Image.open(stamped.path) as b, Image.open(moved.path) as c:
        bottom_left = (0, 1000, 400, 1200)
        top_right_box = (1200, 0, 1600, 100)
        changed = ImageChops.difference(a, b).convert("L")
        assert changed.crop(bottom_left).getextrema()[1] > 150
        assert changed.crop(top_right_box).getextrema()[1] <= 2
        changed = ImageChops.difference(a, c).convert("L")
        assert changed.crop(top_right_box).getextrema()[1] > 150
        assert changed.crop(bottom_left).getextrema()[1] <= 2
    assert stamped.stamp == (
        "时间：2024-05-03 14:22:05",
        "地点：沱江边垃圾收集点",
        "坐标：北纬29.56301° 东经106.55163°",
        "村（社区）：垭口村",
        "记录人：王堃",
    )
    assert moved.stamp == ("时间：2024-05-03 14:22:05", "记录人：王堃")
    assert plain.stamp == ()


def test_the_stamp_text_fits_a_narrow_photo_instead_of_being_cut_off() -> None:
    config = StampConfig()
    facts = StampFacts(
        time=CAPTURE.device_time, latitude=29.563012, longitude=106.551634, village="垭口村"
    )
    lines = stamp_lines(config, facts)
    image = Image.new("RGB", (200, 450), (128, 128, 128))
    burn_stamp(image, lines, config)
    text = image.convert("L").point(lambda v: 255 if v > 200 else 0).getbbox()
    assert text is not None
    left, top, right, bottom = text
    assert left >= 2 and right <= 198  # a margin on both sides: no glyph cut at the edge
    assert bottom - top > 3 * 8  # all three lines are there, at a readable size


def test_stamp_text_follows_the_deployment_settings() -> None:
    facts = StampFacts(
        time=datetime(2024, 1, 2, 3, 4, 5), village="氹仔村", latitude=-1.5, longitude=-70.25
    )
    config = StampConfig.from_dict(
        {"fields": ["title", "village", "coordinates", "place"], "title": "环境整治检查"}
    )
    assert stamp_lines(config, facts) == [
        "环境整治检查",
        "村（社区）：氹仔村",
        "坐标：南纬1.50000° 西经70.25000°",
    ]
    assert stamp_lines(StampConfig.from_dict({"enabled": False}), facts) == []
    with pytest.raises(ValueError, match="unknown stamp fields"):
        StampConfig.from_dict({"fields": ["weather"]})
    with pytest.raises(ValueError, match="unknown stamp settings"):
        StampConfig.from_dict({"colour": "red"})


def test_the_bundled_font_draws_real_glyphs_for_names_and_place_names() -> None:
    font = ImageFont.truetype(str(FONT_PATH), 48)

    def drawn(character: str) -> bytes:
        canvas = Image.new("L", (64, 64))
        ImageDraw.Draw(canvas).text((8, 0), character, font=font, fill=255)
        return canvas.tobytes()

    tofu = drawn("\ue000")  # private use: the font has no glyph, so .notdef is drawn
    assert any(tofu)
    for character in NAME_AND_PLACE_CHARACTERS + "℃№×·—“”":
        glyph = drawn(character)
        assert glyph != tofu and any(glyph), character
    assert len({drawn(c) for c in NAME_AND_PLACE_CHARACTERS}) == len(NAME_AND_PLACE_CHARACTERS)


def test_the_bundled_font_covers_every_character_its_subset_script_asks_for() -> None:
    ttlib = pytest.importorskip("fontTools.ttLib", reason="needs fontTools, the font subsetting tool (a dev dependency)")
    TTFont = ttlib.TTFont

    script = FONT_PATH.parent / "subset_font.py"
    spec = importlib.util.spec_from_file_location("subset_font", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    wanted = module.codepoints()
    hanzi = {c for c in wanted if 0x3400 <= c <= 0x9FFF or c >= 0x20000}
    assert len(hanzi) > 8105
    covered = set(TTFont(FONT_PATH, lazy=True).getBestCmap())
    assert hanzi <= covered
    assert {ord(c) for c in NAME_AND_PLACE_CHARACTERS} <= covered
    assert FONT_PATH.stat().st_size < 3_000_000
    assert (FONT_PATH.parent / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE") == 1
