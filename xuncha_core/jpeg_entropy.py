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

It decodes no pixel, so it costs far less than a decode, and runs the same with any Pillow.
"""

from __future__ import annotations

import sys
from array import array

from xuncha_core.jpeg_layout import BAD_ADVANCE, Frame, JpegLayout, Scan
from xuncha_core.photo_damage import corrupt, truncated

_PAD = b"\x00" * 4096  # past the data: enough zero bits for the largest possible MCU


def check_scans(layout: JpegLayout) -> None:
    """Raise ``PhotoDamaged`` unless every scan's data holds exactly its blocks (module doc)."""
    frame = layout.frame
    coef_bits = [[-1] * 64 for _ in frame.components]
    nonzero: dict[int, list[int]] = {}
    for number, scan in enumerate(layout.scans, 1):
        if frame.progressive:
            _check_progression(scan, coef_bits, number)
        else:
            _check_sequential_header(scan, coef_bits, number)
        _walk_scan(frame, scan, number, nonzero)
    missing = [i for i, bits in enumerate(coef_bits) if any(b != 0 for b in bits)]
    if missing:
        raise truncated(
            "the image data stops before every part of the picture was sent",
            components=missing,
        )


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


def _walk_scan(frame: Frame, scan: Scan, number: int, nonzero: dict[int, list[int]]) -> None:
    units, per_unit = _units(frame, scan)
    interval = scan.restart_interval or units
    expected = -(-units // interval)
    segments = scan.segments
    if len(segments) > expected and any(segments[expected:]):
        raise corrupt(f"scan {number} has more restart intervals than its blocks need", scan=number)
    for index in range(expected):
        first = index * interval
        count = min(interval, units - first)
        data = segments[index] if index < len(segments) else b""
        used, done, bad = _walk(frame, scan, data, first, count, per_unit, nonzero)
        total = 8 * len(data)
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


Walked = tuple[int, int, bool]  # bits used, MCUs walked before the data ran out, a bad code met


def _walk(
    frame: Frame,
    scan: Scan,
    data: bytes,
    first: int,
    count: int,
    per_unit: int,
    nonzero: dict[int, list[int]],
) -> Walked:
    """Walk ``count`` MCUs (the first is MCU ``first`` of the scan) through ``data``."""
    total = 8 * len(data)
    repeat = [m.component.h * m.component.v if per_unit > 1 else 1 for m in scan.components]
    if not frame.progressive:
        pairs = [(m.dc.dc, m.ac.sequential_ac, m.ac.sequential_ac_pairs) for m in scan.components if m.dc and m.ac]
        blocks = tuple(pair for pair, n in zip(pairs, repeat, strict=True) for _ in range(n))
        return _sequential(data, count, blocks, total)
    if scan.is_dc and scan.ah:  # a refinement bit per block, no codes
        used = count * per_unit
        return used, count if used <= total else total // per_unit, False
    if scan.is_dc:
        dcs = [m.dc.dc for m in scan.components if m.dc]
        return _dc_first(data, count, tuple(t for t, n in zip(dcs, repeat, strict=True) for _ in range(n)), total)
    member = scan.components[0]
    assert member.ac is not None
    size = frame.blocks_wide(member.component) * frame.blocks_high(member.component)
    masks = nonzero.setdefault(member.index, [0] * size)
    walk = _ac_refine if scan.ah else _ac_first
    return walk(data, masks, first, count, scan.ss, scan.se, member.ac.progressive_ac, total)


def _words(data: bytes) -> array:
    """The data (and zero padding) as big-endian 32-bit words."""
    padded = data + _PAD
    words = array("I")
    if words.itemsize != 4:
        words = array("L")
    words.frombytes(padded[: len(padded) // 4 * 4])
    if sys.byteorder == "little":
        words.byteswap()
    return words


def _windows(data: bytes) -> tuple[array, ...]:
    """For byte offset i, the big-endian 32-bit word starting there is ``w[i & 3][i >> 2]``."""
    padded = data + _PAD
    return tuple(_words(padded[r:]) for r in range(4))


def _sequential(
    data: bytes, count: int, blocks: tuple[tuple[list[int], list[int], list[int]], ...], total: int
) -> Walked:
    """Baseline and extended sequential MCUs: per block a DC code, then AC codes to 64.

    The hot loop of the whole check: AC symbols are taken two at a time where they fit.
    """
    words = _words(data)
    acc = bits = taken = 0  # bit buffer, bits left in it, words loaded into it
    for mcu in range(count):
        for dc, ac, pairs in blocks:
            if bits < 32:
                acc = ((acc & ((1 << bits) - 1)) << 32) | words[taken]
                taken += 1
                bits += 32
            entry = dc[(acc >> (bits - 16)) & 0xFFFF]
            if not entry:
                return 32 * taken - bits, mcu, True
            bits -= entry
            k = 1
            while k < 64:
                if bits < 32:
                    acc = ((acc & ((1 << bits) - 1)) << 32) | words[taken]
                    taken += 1
                    bits += 32
                entry = (pairs if k < 48 else ac)[(acc >> (bits - 16)) & 0xFFFF]
                bits -= entry & 31
                k += entry >> 5
            if k >= BAD_ADVANCE:
                return 32 * taken - bits, mcu, True
        if 32 * taken - bits > total:
            return 32 * taken - bits, mcu, False
    return 32 * taken - bits, count, False


def _dc_first(data: bytes, count: int, tables: tuple[list[int], ...], total: int) -> Walked:
    """First DC scan of a progressive image: a DC code and its extra bits per block."""
    w = _windows(data)
    p = 0
    for mcu in range(count):
        for dc in tables:
            i = p >> 3
            entry = dc[(w[i & 3][i >> 2] >> (16 - (p & 7))) & 0xFFFF]
            if not entry:
                return p, mcu, True
            p += entry
        if p > total:
            return p, mcu, False
    return p, count, False


def _bits(w: tuple[array, ...], p: int, n: int) -> int:
    i = p >> 3
    return (w[i & 3][i >> 2] >> (32 - (p & 7) - n)) & ((1 << n) - 1)


def _ac_first(
    data: bytes, masks: list[int], first: int, count: int, ss: int, se: int, table: list[int], total: int
) -> Walked:
    """First AC scan of a band: codes, extra bits and end-of-band runs; notes non-zeros."""
    w = _windows(data)
    p = eobrun = 0
    for block in range(first, first + count):
        if eobrun:
            eobrun -= 1
            continue
        mask, k = masks[block], ss
        while k <= se:
            i = p >> 3
            entry = table[(w[i & 3][i >> 2] >> (16 - (p & 7))) & 0xFFFF]
            if not entry:
                return p, block - first, True
            p += entry & 31
            size, run = (entry >> 5) & 15, entry >> 9
            if size:
                k += run
                mask |= 1 << k if k < 64 else 1 << 63
                p += size
            elif run == 15:
                k += 15
            else:
                eobrun = (1 << run) - 1
                if run:
                    eobrun += _bits(w, p, run)
                    p += run
                break
            k += 1
        masks[block] = mask
        if p > total:
            return p, block - first, False
    return p, count, False


def _ac_refine(
    data: bytes, masks: list[int], first: int, count: int, ss: int, se: int, table: list[int], total: int
) -> Walked:
    """A refinement AC scan: new coefficients (a sign bit each) and a correction bit for
    every coefficient an earlier scan made non-zero, in the order a decoder reads them."""
    w = _windows(data)
    p = eobrun = 0
    band = ((1 << (se + 1)) - 1) & ~((1 << ss) - 1)
    below = [(1 << k) - 1 for k in range(66)]  # bits under position k
    block, end = first, first + count
    while block < end:
        if eobrun:  # a run of blocks with nothing new: a correction bit per non-zero
            run_end = min(end, block + eobrun)
            p += sum((mask & band).bit_count() for mask in masks[block:run_end])
            eobrun -= run_end - block
            block = run_end
            if p > total:
                return p, block - first - 1, False
            continue
        mask, added, k = masks[block], 0, ss
        while k <= se:
            i = p >> 3
            entry = table[(w[i & 3][i >> 2] >> (16 - (p & 7))) & 0xFFFF]
            if not entry:
                return p, block - first, True
            p += entry & 31
            size, run = (entry >> 5) & 15, entry >> 9
            if size:
                if size != 1:  # a refinement adds coefficients of magnitude one only
                    return p, block - first, True
                p += 1
            elif run != 15:
                eobrun = 1 << run
                if run:
                    eobrun += _bits(w, p, run)
                    p += run
                break
            # Pass over non-zero coefficients (a correction bit each) and ``run`` zeros.
            zeros = ~mask & band & ~below[k]
            for _ in range(run):
                zeros &= zeros - 1
            target = (zeros & -zeros).bit_length() - 1 if zeros else se + 1
            p += (mask & below[target] & ~below[k]).bit_count()
            k = target
            if size:
                added |= 1 << k if k < 64 else 1 << 63
            k += 1
        if eobrun:  # the block ended in an end-of-band: corrections for the rest of it
            p += (mask & band & ~below[k]).bit_count()
            eobrun -= 1
        masks[block] = mask | added
        block += 1
        if p > total:
            return p, block - first - 1, False
    return p, count, False
