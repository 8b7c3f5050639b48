"""A copy of a JPEG on which libjpeg warns exactly where the walk refuses.

libjpeg, decoding the scans of a JPEG, warns of a premature end, a bad Huffman code and of
bytes left over before a marker. Two of its habits hide damage from an application that
turns those warnings into errors:

* Bytes left over at the end of a scan are counted only when they were not yet read into
  its bit buffer: up to seven whole bytes of junk after a scan's last block go unreported.
  At a *restart marker* it counts them exactly.
* A single-scan (baseline) image is decoded row by row as the pixels are asked for, and
  libvips neither reads the file's tail nor always looks at a warning given while the
  last rows are decoded.

``strict_copy`` therefore rewrites the image for libjpeg, leaving every scan's data as
sent: the frame is one MCU row taller, each scan gets a restart interval that ends exactly
where its data ends, and after its data come a restart marker and a few bytes that encode
the extra row's blocks as empty. libjpeg then checks each scan's end as it checks a
restart. A never-sent component is added to a single-scan image so that libjpeg reads all
of its data, to the end of the file, before the first row is asked for. Application
segments (EXIF, ICC, comments) are left out: they hold no picture.

It answers ``None`` for the rare layout it cannot rewrite (a restart interval that does
not divide a scan, a scan of more than 65,535 units, tables without the symbols the extra
row needs); the walk checks those.
"""

from __future__ import annotations

from collections.abc import Iterator

from xuncha_core.jpeg_huffman import HuffmanTable
from xuncha_core.jpeg_layout import (
    DHT,
    DQT,
    PROGRESSIVE_FRAME,
    SEQUENTIAL_FRAMES,
    SOS,
    Frame,
    JpegLayout,
    Scan,
)

_MAX_UNITS = 65535  # a restart interval is a 16-bit count


def strict_copy(data: bytes, layout: JpegLayout) -> bytes | None:
    """The rewritten JPEG (module doc), or None where it cannot be made."""
    frame = layout.frame
    height = frame.height + 8 * frame.vmax
    fakes = 0 if _reads_all_first(layout) else max(1, 3 - len(frame.components))
    if height > 65535 or len(frame.components) + fakes > 4:
        return None
    out = [b"\xff\xd8"]
    scans = iter(layout.scans)
    for marker, start, end in layout.parts:
        if marker in (DQT, DHT):
            out.append(bytes((0xFF, marker)) + data[start:end])
        elif marker in SEQUENTIAL_FRAMES or marker == PROGRESSIVE_FRAME:
            out.append(bytes((0xFF, marker)) + _taller_frame(data[start + 2 : end], height, fakes))
        elif marker == SOS:
            scan = next(scans)
            tail = _scan_tail(frame, scan)
            if tail is None:
                return None
            interval, sentinel = tail
            out.append(b"\xff\xdd\x00\x04" + interval.to_bytes(2, "big"))
            out.append(bytes((0xFF, marker)) + data[start:end])
            out.append(data[scan.span[0] : scan.span[1]] + sentinel)
    # libjpeg reports the bytes it passed over before a marker only when it looks for the
    # next marker itself; a last segment makes sure it does once more, after the data.
    out.append(b"\xff\xfe\x00\x02\xff\xd9")
    return b"".join(out)


def _reads_all_first(layout: JpegLayout) -> bool:
    """Whether libjpeg reads every scan before the first row anyway (more than one scan)."""
    return layout.frame.progressive or len(layout.scans[0].components) < len(
        layout.frame.components
    )


def _taller_frame(body: bytes, height: int, fakes: int) -> bytes:
    count = body[5]
    idents = {body[6 + 3 * i] for i in range(count)}
    spare = (i for i in range(256) if i not in idents)
    extra = b"".join(bytes((next(spare), 0x11, body[8])) for _ in range(fakes))
    new = (
        body[:1]
        + height.to_bytes(2, "big")
        + body[3:5]
        + bytes((count + fakes,))
        + body[6:]
        + extra
    )
    return (len(new) + 2).to_bytes(2, "big") + new


def _scan_tail(frame: Frame, scan: Scan) -> tuple[int, bytes] | None:
    """The scan's restart interval and what follows its data: a restart marker and the
    extra row's blocks, empty; None if that cannot be made."""
    if len(scan.components) == 1:
        c = scan.components[0].component
        units, extra = frame.blocks_wide(c) * frame.blocks_high(c), frame.blocks_wide(c) * c.v
    else:
        units, extra = frame.mcus_wide * frame.mcus_high, frame.mcus_wide
    interval = scan.restart_interval or units
    if units % interval or interval > _MAX_UNITS or len(scan.segments) != units // interval:
        return None
    pieces = []
    restarts = units // interval - 1  # markers RST0, RST1, ... inside the data already
    for first in range(0, extra, interval):
        bits = _empty_units(frame, scan, min(interval, extra - first))
        if bits is None:
            return None
        pieces.append(bytes((0xFF, 0xD0 + (restarts % 8))) + bits)
        restarts += 1
    return interval, b"".join(pieces)


def _empty_units(frame: Frame, scan: Scan, count: int) -> bytes | None:
    """``count`` units of the scan that hold nothing, coded with its own tables."""
    per_unit = len(scan.components) > 1
    members = [
        m for m in scan.components for _ in range(m.component.h * m.component.v if per_unit else 1)
    ]
    bits = _Bits()
    try:
        if not frame.progressive:
            for _ in range(count):
                for member in members:
                    _any_dc(bits, member.dc)
                    _sequential_block_end(bits, member.ac)
        elif scan.is_dc and scan.ah:
            bits.put(0, count * len(members))  # a refinement bit per block
        elif scan.is_dc:
            for _ in range(count):
                for member in members:
                    _any_dc(bits, member.dc)
        else:
            _empty_band(bits, scan.components[0].ac, scan.se - scan.ss + 1, count)
    except LookupError:
        return None
    return bits.stuffed()


def _codes(table: HuffmanTable | None) -> Iterator[tuple[int, int, int]]:
    """The table's (length, code, symbol), shortest first."""
    if table is None:
        raise LookupError("no table")
    return iter(table.codes)


def _any_dc(bits: _Bits, table: HuffmanTable | None) -> None:
    codes = list(_codes(table))
    length, code, size = next((c for c in codes if c[2] == 0), codes[0]) if codes else _missing()
    bits.put(code, length)
    bits.put(0, size)


def _sequential_block_end(bits: _Bits, table: HuffmanTable | None) -> None:
    """An end-of-block; or, in a table without one, any symbols up to the 64th coefficient."""
    codes = list(_codes(table))
    ends = [c for c in codes if c[2] & 15 == 0 and c[2] >> 4 != 15]
    if ends:
        bits.put(ends[0][1], ends[0][0])
        return
    length, code, symbol = codes[0] if codes else _missing()
    k = 1
    while k < 64:
        bits.put(code, length)
        bits.put(0, symbol & 15)
        k += 16 if symbol == 0xF0 else (symbol >> 4) + 1


def _empty_band(bits: _Bits, table: HuffmanTable | None, width: int, count: int) -> None:
    """``count`` blocks with no coefficient in a band ``width`` wide: end-of-band runs, or
    runs of sixteen zeros; never a coefficient (refinement scans would then need
    correction bits for it)."""
    codes = list(_codes(table))
    runs = [c for c in codes if c[2] & 15 == 0 and c[2] >> 4 != 15]
    if runs:
        length, code, symbol = runs[0]
        for _ in range(0, count, 1 << (symbol >> 4)):
            bits.put(code, length)
            bits.put(0, symbol >> 4)  # the run's extra bits: 2**r blocks
        return
    zeros = next((c for c in codes if c[2] == 0xF0), None) or _missing()
    for _ in range(count * -(-width // 16)):
        bits.put(zeros[1], zeros[0])


def _missing() -> tuple[int, int, int]:
    raise LookupError("the table has no symbol that codes an empty block")


class _Bits:
    """Bits written most significant first, then padded with ones and byte-stuffed."""

    def __init__(self) -> None:
        self.value = self.count = 0

    def put(self, value: int, count: int) -> None:
        self.value = (self.value << count) | value
        self.count += count

    def stuffed(self) -> bytes:
        pad = -self.count % 8
        value = (self.value << pad) | ((1 << pad) - 1)
        return value.to_bytes((self.count + pad) // 8, "big").replace(b"\xff", b"\xff\x00")
