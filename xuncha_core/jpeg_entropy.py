"""Walking a JPEG's entropy-coded data: does every scan hold exactly the blocks its header needs?

A JPEG decoder that runs out of data in the middle of a scan, meets a code no table has,
or finds bytes left over after the last block, only *warns* and fills in grey; Pillow
never shows those warnings. ``check_scans`` counts, for every scan and every restart
interval, the bits each block takes (Huffman codes and their extra bits; for progressive
refinement scans, the correction bits of coefficients earlier scans made non-zero), and
raises ``PhotoDamaged`` where a decoder would have warned:

    photo.truncated   a scan's data ends before its last block (a cut file, even with an
                      end marker appended; a header that claims a larger image than the
                      data holds); a progressive image whose scans stop early
    photo.corrupt     a bad Huffman code, a byte or more left over after the last block,
                      a progression that refines what was never sent

It decodes no pixel and needs no decoder, so the phone runs it the same with any Pillow;
its loops are in ``xuncha_core.jpeg_scan_walks``. The server checks the same rule with
libjpeg through libvips (``xuncha_core.jpeg_libvips``), which is much faster.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable

from xuncha_core import jpeg_scan_walks as walks
from xuncha_core.jpeg_layout import Frame, JpegLayout, Scan
from xuncha_core.photo_damage import corrupt, truncated

_LARGE_SCAN = 1 << 19  # bytes of entropy-coded data


def check_scans(layout: JpegLayout) -> None:
    """Raise ``PhotoDamaged`` unless every scan's data holds exactly its blocks (module doc)."""
    check_scan_headers(layout)
    walk_scans(layout)
    check_all_sent(layout)


def check_scan_headers(layout: JpegLayout) -> None:
    """libjpeg's checks of each scan's parameters (a progression that refines what was
    never sent, a table never defined), its warnings counted as damage."""
    frame = layout.frame
    coef_bits = [[-1] * 64 for _ in frame.components]
    for number, scan in enumerate(layout.scans, 1):
        if frame.progressive:
            _check_progression(scan, coef_bits, number)
        else:
            _check_sequential_header(scan, coef_bits, number)


def check_all_sent(layout: JpegLayout) -> None:
    """Every coefficient of every component was sent, to full precision in the end (a
    progressive image whose last scans are missing decodes blurred, without a warning)."""
    coef_bits = [[-1] * 64 for _ in layout.frame.components]
    for scan in layout.scans:
        for member in scan.components:
            for k in range(scan.ss, (scan.se if layout.frame.progressive else 63) + 1):
                coef_bits[member.index][k] = scan.al
    missing = [i for i, bits in enumerate(coef_bits) if any(b != 0 for b in bits)]
    if missing:
        raise truncated(
            "the image data stops before every part of the picture was sent",
            components=missing,
        )


def walk_scans(layout: JpegLayout) -> None:
    """Walk every scan's data (after ``check_scan_headers``): it must hold its blocks exactly."""
    nonzero: dict[int, list[int]] = {}
    for number, scan in enumerate(layout.scans, 1):
        _walk_scan(layout.frame, scan, number, nonzero)


def _check_sequential_header(scan: Scan, coef_bits: list[list[int]], number: int) -> None:
    if (scan.ss, scan.se, scan.ah, scan.al) != (0, 63, 0, 0):
        raise corrupt(f"scan {number} has progressive parameters in a sequential image")
    for member in scan.components:
        if coef_bits[member.index][0] == 0:
            raise corrupt(f"scan {number} sends a component a second time")
        if member.dc is None or member.ac is None:
            raise corrupt(f"scan {number} uses a Huffman table that was never defined")
        coef_bits[member.index] = [0] * 64


def _check_progression(scan: Scan, coef_bits: list[list[int]], number: int) -> None:
    """libjpeg's own checks of a progressive scan, its warnings counted as damage."""
    bad = scan.al > 13 or (scan.ah != 0 and scan.al != scan.ah - 1)
    if scan.is_dc:
        bad = bad or scan.se != 0
    else:
        bad = bad or scan.ss > scan.se or scan.se > 63 or len(scan.components) != 1
    if bad:
        raise corrupt(f"scan {number} has impossible progression parameters")
    for member in scan.components:
        bits = coef_bits[member.index]
        if not scan.is_dc and bits[0] < 0:
            raise corrupt(f"scan {number} refines detail before the base image was sent")
        for k in range(scan.ss, scan.se + 1):
            if scan.ah != max(bits[k], 0):
                raise corrupt(f"scan {number} refines what earlier scans did not send")
            bits[k] = scan.al
        table = member.dc if scan.is_dc else member.ac
        if table is None and not (scan.is_dc and scan.ah):
            raise corrupt(f"scan {number} uses a Huffman table that was never defined")


def _units(frame: Frame, scan: Scan) -> tuple[int, int]:
    """How many MCUs the scan has and how many blocks each holds."""
    if len(scan.components) == 1:
        c = scan.components[0].component
        return frame.blocks_wide(c) * frame.blocks_high(c), 1
    per_mcu = sum(m.component.h * m.component.v for m in scan.components)
    if per_mcu > 10:
        raise corrupt("a scan's blocks per MCU exceed what JPEG allows")
    return frame.mcus_wide * frame.mcus_high, per_mcu


def bit_windows(data: bytes) -> array:
    """For byte ``i`` of ``data``, the big-endian 24 bits of bytes ``i..i+2`` (zeros past
    the end), as one array of 32-bit words: the walks' only view of the data."""
    size = len(data) + 3
    padded = data + b"\x00" * 5
    lanes = bytearray(4 * size)
    for lane in range(3):  # byte i + lane goes to the lane's place in word i
        place = 2 - lane if sys.byteorder == "little" else lane + 1
        lanes[place::4] = padded[lane : lane + size]
    words = array("I") if array("I").itemsize == 4 else array("L")
    words.frombytes(lanes)
    return words


def _walk_scan(frame: Frame, scan: Scan, number: int, nonzero: dict[int, list[int]]) -> None:
    units, per_unit = _units(frame, scan)
    interval = scan.restart_interval or units
    expected = -(-units // interval)
    segments = scan.segments
    if len(segments) > expected and any(segments[expected:]):
        raise corrupt(f"scan {number} has more restart intervals than its blocks need", scan=number)
    segments = segments[:expected] + (b"",) * (expected - len(segments))
    windows = bit_windows(b"".join(segments))
    walk = _walker(frame, scan, per_unit, nonzero)
    start = 0
    for index, segment in enumerate(segments):
        first = index * interval
        count = min(interval, units - first)
        end = start + 8 * len(segment)
        p, done, bad = walk(windows, start, end, first, count)
        used, total = p - start, end - start
        _judge(frame, scan, number, first, count, (used, done, bad), total)
        start = end


def _judge(
    frame: Frame, scan: Scan, number: int, first: int, count: int, walked: walks.Walked, total: int
) -> None:
    """Damage where a decoder would have warned: the interval's data ends before its last
    unit, holds a bad code, or has a whole byte left over after its last unit."""
    used, done, bad = walked
    if used > total or done < count:
        if bad and used + 16 <= total:
            raise corrupt(f"a Huffman code no table defines, in scan {number}", scan=number)
        row = _row_of(frame, scan, first + done)
        raise truncated(
            f"the image data of scan {number} ends at row {row} of the {frame.height} "
            "rows its header declares",
            scan=number,
            rows_with_data=row,
            declared=[frame.width, frame.height],
        )
    if total - used >= 8:
        raise corrupt(
            f"{(total - used) // 8} bytes left over after the last block of scan {number}",
            scan=number,
        )


def _row_of(frame: Frame, scan: Scan, unit: int) -> int:
    if len(scan.components) == 1:
        c = scan.components[0].component
        return min(frame.height, unit // frame.blocks_wide(c) * 8 * frame.vmax // c.v)
    return min(frame.height, unit // frame.mcus_wide * 8 * frame.vmax)


Walk = Callable[[array, int, int, int, int], walks.Walked]


def _walker(frame: Frame, scan: Scan, per_unit: int, nonzero: dict[int, list[int]]) -> Walk:
    """The walk for this kind of scan, as ``walk(windows, start, end, first, count)``."""
    repeat = [m.component.h * m.component.v if per_unit > 1 else 1 for m in scan.components]
    if not frame.progressive:
        # Building the tail lookup costs milliseconds; it pays off on large scans only.
        large = sum(map(len, scan.segments)) > _LARGE_SCAN
        tables = [
            (
                m.dc.dc,
                m.ac.sequential_ac,
                m.ac.sequential_multi,
                m.ac.sequential_tail if large else m.ac.sequential_ac,
            )
            for m in scan.components
            if m.dc and m.ac
        ]
        blocks = tuple(t for t, n in zip(tables, repeat, strict=True) for _ in range(n))
        return lambda w, start, end, first, count: walks.sequential(w, start, end, count, blocks)
    if scan.is_dc and scan.ah:  # a refinement bit per block, no codes
        return lambda w, start, end, first, count: _dc_refine(start, end, count, per_unit)
    if scan.is_dc:
        dcs = [m.dc.dc for m in scan.components if m.dc]
        dc_tables = tuple(t for t, n in zip(dcs, repeat, strict=True) for _ in range(n))
        return lambda w, start, end, first, count: walks.dc_first(w, start, end, count, dc_tables)
    member = scan.components[0]
    assert member.ac is not None
    size = frame.blocks_wide(member.component) * frame.blocks_high(member.component)
    masks = nonzero.setdefault(member.index, [0] * size)
    band, table = (scan.ss, scan.se), member.ac.progressive_ac
    ac_walk = walks.ac_refine if scan.ah else walks.ac_first
    return lambda w, start, end, first, count: ac_walk(
        w, start, end, band, masks, first, count, table
    )


def _dc_refine(start: int, end: int, count: int, per_unit: int) -> walks.Walked:
    used = count * per_unit
    total = end - start
    return start + used, count if used <= total else total // per_unit, False
