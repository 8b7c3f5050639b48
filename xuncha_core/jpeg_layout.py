"""A JPEG file's layout: its frame, Huffman tables and scans, read from the markers.

``read_layout(data)`` walks the marker segments from SOI to EOI and returns a
``JpegLayout``: the frame (size, components, sampling), and each scan with the Huffman
tables in force when it started and its entropy-coded data, split at restart markers and
un-stuffed. It reads no pixel; ``xuncha_core.jpeg_entropy`` walks the data. Anything a
decoder would only warn about (stray bytes between segments, a restart marker out of
sequence, a scan that refers to a missing table) is a ``PhotoDamaged`` here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xuncha_core.jpeg_huffman import HuffmanTable, huffman_table
from xuncha_core.photo_damage import corrupt, truncated, unsupported_jpeg

SOI, EOI, SOS, DHT, DQT, DRI, DNL = 0xD8, 0xD9, 0xDA, 0xC4, 0xDB, 0xDD, 0xDC
SEQUENTIAL_FRAMES = {0xC0: "baseline", 0xC1: "extended"}
PROGRESSIVE_FRAME = 0xC2
OTHER_FRAMES = {
    0xC3: "lossless",
    0xC5: "hierarchical",
    0xC6: "hierarchical",
    0xC7: "hierarchical",
    0xC9: "arithmetic",
    0xCA: "arithmetic",
    0xCB: "arithmetic",
    0xCD: "arithmetic",
    0xCE: "arithmetic",
    0xCF: "arithmetic",
}
RESTARTS = range(0xD0, 0xD8)
# 0xFF followed by anything but a stuffed zero: a marker, a restart or a fill byte.
_MARKER = re.compile(rb"\xff[^\x00]")


@dataclass(frozen=True)
class Component:
    ident: int
    h: int
    v: int
    quant_table: int = 0


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    progressive: bool
    components: tuple[Component, ...]

    @property
    def hmax(self) -> int:
        return max(c.h for c in self.components)

    @property
    def vmax(self) -> int:
        return max(c.v for c in self.components)

    @property
    def mcus_wide(self) -> int:
        return _ceil(self.width, 8 * self.hmax)

    @property
    def mcus_high(self) -> int:
        return _ceil(self.height, 8 * self.vmax)

    def blocks_wide(self, component: Component) -> int:
        """Blocks across the component on its own (a scan of that component alone)."""
        return _ceil(_ceil(self.width * component.h, self.hmax), 8)

    def blocks_high(self, component: Component) -> int:
        return _ceil(_ceil(self.height * component.v, self.vmax), 8)


def _ceil(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@dataclass(frozen=True)
class ScanComponent:
    component: Component
    index: int  # its place in the frame
    dc: HuffmanTable | None
    ac: HuffmanTable | None


@dataclass(frozen=True)
class Scan:
    components: tuple[ScanComponent, ...]
    ss: int
    se: int
    ah: int
    al: int
    restart_interval: int
    segments: tuple[bytes, ...]  # entropy-coded data between restart markers, un-stuffed
    span: tuple[int, int] = (0, 0)  # where its entropy-coded data lies in the file, as sent

    @property
    def is_dc(self) -> bool:
        return self.ss == 0


@dataclass(frozen=True)
class JpegLayout:
    frame: Frame
    scans: tuple[Scan, ...]
    # Every marker segment in file order: (marker, start of its length field, its end).
    parts: tuple[tuple[int, int, int], ...] = ()


@dataclass
class _Reader:
    data: bytes
    frame: Frame | None = None
    restart_interval: int = 0

    def __post_init__(self) -> None:
        self.tables: dict[tuple[int, int], HuffmanTable] = {}
        self.quant_tables: set[int] = set()
        self.scans: list[Scan] = []
        self.parts: list[tuple[int, int, int]] = []


def read_layout(data: bytes) -> JpegLayout:
    """The frame and scans of the JPEG in ``data``, or ``PhotoDamaged`` (see module doc)."""
    if not data.startswith(b"\xff\xd8"):
        raise corrupt("the file does not start with a JPEG start-of-image marker")
    reader = _Reader(data)
    pos = 2
    while True:
        marker, pos = _next_marker(data, pos, after_scan=bool(reader.scans))
        if marker == EOI:
            break
        if marker in RESTARTS or marker == 0x01:
            continue  # parameterless; a decoder passes over them
        if marker == SOI:
            raise corrupt("a second start-of-image marker")
        if pos + 2 > len(data):
            raise truncated("the file ends inside a marker segment")
        end = pos + int.from_bytes(data[pos : pos + 2], "big")
        if end - pos < 2:
            raise corrupt(f"marker 0x{marker:02X} has an impossible length")
        if end > len(data):
            raise truncated(f"the file ends inside a 0x{marker:02X} segment")
        body = data[pos + 2 : end]
        reader.parts.append((marker, pos, end))
        pos = _scan(reader, body, end) if marker == SOS else end
        if marker != SOS:
            _segment(reader, marker, body)
    if reader.frame is None or not reader.scans:
        raise corrupt("the file has no image data")
    return JpegLayout(reader.frame, tuple(reader.scans), tuple(reader.parts))


def _next_marker(data: bytes, pos: int, *, after_scan: bool) -> tuple[int, int]:
    """The next marker at ``pos`` (fill bytes skipped) and where its segment starts."""
    if pos >= len(data):
        raise truncated("the file ends before its end-of-image marker")
    if data[pos] != 0xFF:
        found = data.find(b"\xff", pos)
        stray = (found if found >= 0 else len(data)) - pos
        raise corrupt(f"{stray} stray bytes where a marker should be", offset=pos)
    while pos < len(data) and data[pos] == 0xFF:
        pos += 1
    if pos >= len(data):
        raise truncated("the file ends before its end-of-image marker")
    return data[pos], pos + 1


def _segment(reader: _Reader, marker: int, body: bytes) -> None:
    if marker == DHT:
        _huffman_tables(reader, body)
    elif marker == DQT:
        _quantization_tables(reader, body)
    elif marker == DRI:
        if len(body) != 2:
            raise corrupt("a restart-interval segment of the wrong length")
        reader.restart_interval = int.from_bytes(body, "big")
    elif marker in SEQUENTIAL_FRAMES or marker == PROGRESSIVE_FRAME:
        if reader.frame is not None:
            raise corrupt("a second frame header")
        reader.frame = _frame(body, progressive=marker == PROGRESSIVE_FRAME)
    elif marker in OTHER_FRAMES:
        raise unsupported_jpeg(OTHER_FRAMES[marker])
    elif marker == DNL:
        raise unsupported_jpeg("define-number-of-lines")


def _huffman_tables(reader: _Reader, body: bytes) -> None:
    at = 0
    while at < len(body):
        if at + 17 > len(body):
            raise corrupt("a Huffman table segment is cut short")
        kind, slot = body[at] >> 4, body[at] & 15
        counts = body[at + 1 : at + 17]
        total = sum(counts)
        if kind > 1 or slot > 3 or total > 256 or at + 17 + total > len(body):
            raise corrupt("a Huffman table segment is malformed")
        symbols = body[at + 17 : at + 17 + total]
        reader.tables[(kind, slot)] = huffman_table(bytes(counts), bytes(symbols), kind == 0)
        at += 17 + total


def _quantization_tables(reader: _Reader, body: bytes) -> None:
    at = 0
    while at < len(body):
        precision, slot = body[at] >> 4, body[at] & 15
        size = 64 * (precision + 1)
        if precision > 1 or slot > 3 or at + 1 + size > len(body):
            raise corrupt("a quantization table segment is malformed")
        reader.quant_tables.add(slot)
        at += 1 + size


def _frame(body: bytes, *, progressive: bool) -> Frame:
    if len(body) < 6 or len(body) != 6 + 3 * body[5] or body[5] == 0:
        raise corrupt("the frame header is malformed")
    height = int.from_bytes(body[1:3], "big")
    width = int.from_bytes(body[3:5], "big")
    if width == 0 or height == 0:
        raise unsupported_jpeg("define-number-of-lines")
    components = tuple(
        Component(body[6 + 3 * i], body[7 + 3 * i] >> 4, body[7 + 3 * i] & 15, body[8 + 3 * i])
        for i in range(body[5])
    )
    if any(not (1 <= c.h <= 4 and 1 <= c.v <= 4) for c in components):
        raise corrupt("the frame header has impossible sampling factors")
    return Frame(width, height, progressive, components)


def _scan(reader: _Reader, body: bytes, start: int) -> int:
    """Read one scan header and its data; return where the marker after it starts."""
    frame = reader.frame
    if frame is None:
        raise corrupt("image data before the frame header")
    count = body[0] if body else 0
    if count < 1 or len(body) != 4 + 2 * count:
        raise corrupt("a scan header is malformed")
    members = []
    for i in range(count):
        ident, slots = body[1 + 2 * i], body[2 + 2 * i]
        index = next((n for n, c in enumerate(frame.components) if c.ident == ident), None)
        if index is None:
            raise corrupt(f"a scan names component {ident}, which the frame does not have")
        if frame.components[index].quant_table not in reader.quant_tables:
            raise corrupt(f"component {ident} uses a quantization table that was never defined")
        dc = reader.tables.get((0, slots >> 4))
        ac = reader.tables.get((1, slots & 15))
        members.append(ScanComponent(frame.components[index], index, dc, ac))
    ss, se = body[1 + 2 * count], body[2 + 2 * count]
    ah, al = body[3 + 2 * count] >> 4, body[3 + 2 * count] & 15
    segments, end = _entropy_segments(reader.data, start, reader.restart_interval)
    scan = Scan(tuple(members), ss, se, ah, al, reader.restart_interval, segments, (start, end))
    reader.scans.append(scan)
    return end


def _entropy_segments(data: bytes, start: int, restart_interval: int) -> tuple[tuple[bytes, ...], int]:
    """The scan's data from ``start``, split at restart markers; and where the next marker is."""
    segments: list[bytes] = []
    seg_start = pos = start
    while True:
        found = _MARKER.search(data, pos)
        if found is None:
            raise truncated("the file ends inside the image data")
        at = found.start()
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte; what follows it decides
            pos = at + 1
            continue
        data_end = at
        while data_end > seg_start and data[data_end - 1] == 0xFF:
            data_end -= 1  # fill bytes before the marker are no data
        segments.append(data[seg_start:data_end].replace(b"\xff\x00", b"\xff"))
        if marker not in RESTARTS:
            return tuple(segments), at
        if not restart_interval:
            raise corrupt("a restart marker in image data that declares no restart interval")
        if marker - 0xD0 != (len(segments) - 1) % 8:
            raise corrupt("restart markers out of sequence", offset=at)
        seg_start = pos = at + 2

