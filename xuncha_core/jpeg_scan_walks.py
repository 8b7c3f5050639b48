"""The four walks through entropy-coded data: sequential, DC first, AC first, AC refinement.

Each walks ``count`` units (MCUs, or blocks of one component) of one restart interval and
returns ``(p, done, bad)``: the bit position reached, how many units were walked whole, and
whether a bad code stopped it. Nothing is decoded but lengths: a code and its extra bits
are passed over by adding to ``p``.

The data is read through ``windows`` (``BitWindows.words``): for byte ``i``, the 24 bits of
bytes ``i..i+2``, so the next 16 bits at bit ``p`` are one index, one shift and one mask.
These loops are the whole cost of the check, so they are written for CPython: one function
per kind of scan, tables and state in local variables, no call per symbol. A walk that runs
far past the end of its data (a damaged file) stops at the end of the windows with an
``IndexError``; it then counts as ending inside the unit it was in.
"""

from __future__ import annotations

from array import array

from xuncha_core.jpeg_huffman import BAD_ADVANCE, MULTI_BEFORE, TAIL_BEFORE

Walked = tuple[int, int, bool]  # bit position reached, units walked whole, a bad code met
# The bit of a coefficient at zig-zag position k; libjpeg puts anything past 63 at 63.
_BIT = tuple(1 << min(k, 63) for k in range(80))
_LOW = tuple((2 << run) - 1 for run in range(16))  # the run + 1 lowest bits


def sequential(
    windows: array, p: int, end: int, count: int, blocks: tuple[tuple[list[int], ...], ...]
) -> Walked:
    """Baseline and extended sequential MCUs: per block a DC code, then AC codes to 64.

    ``blocks`` holds, per block of the MCU, its DC lookup, AC lookup and multi-symbol AC
    lookups (``HuffmanTable.sequential_multi`` and ``sequential_tail``), each used while
    it is valid.
    """
    w = windows
    mcu = 0
    try:
        for mcu in range(count):
            for dc, ac, multi, tail in blocks:
                entry = dc[(w[p >> 3] >> (8 - (p & 7))) & 0xFFFF]
                if not entry:
                    return p, mcu, True
                p += entry
                k = 1
                while k < MULTI_BEFORE:
                    entry = multi[(w[p >> 3] >> (8 - (p & 7))) & 0xFFFF]
                    p += entry & 31
                    k += entry >> 5
                while k < TAIL_BEFORE:
                    entry = tail[(w[p >> 3] >> (8 - (p & 7))) & 0xFFFF]
                    p += entry & 31
                    k += entry >> 5
                while k < 64:
                    entry = ac[(w[p >> 3] >> (8 - (p & 7))) & 0xFFFF]
                    p += entry & 31
                    k += entry >> 5
                if k >= BAD_ADVANCE:
                    return p, mcu, True
            if p > end:
                return p, mcu, False
    except IndexError:
        return max(p, end + 1), mcu, False
    return p, count, False


def dc_first(windows: array, p: int, end: int, count: int, tables: tuple[list[int], ...]) -> Walked:
    """First DC scan of a progressive image: a DC code and its extra bits per block."""
    w = windows
    mcu = 0
    try:
        for mcu in range(count):
            for dc in tables:
                entry = dc[(w[p >> 3] >> (8 - (p & 7))) & 0xFFFF]
                if not entry:
                    return p, mcu, True
                p += entry
            if p > end:
                return p, mcu, False
    except IndexError:
        return max(p, end + 1), mcu, False
    return p, count, False


def ac_first(
    windows: array,
    p: int,
    end: int,
    band: tuple[int, int],
    masks: list[int],
    first: int,
    count: int,
    table: list[int],
) -> Walked:
    """First AC scan of a band: codes, extra bits and end-of-band runs; notes in ``masks``
    which coefficients of each block became non-zero (refinement scans need that)."""
    w, bit = windows, _BIT
    ss, se = band
    eobrun = 0
    block, stop = first, first + count
    try:
        while block < stop:
            if eobrun:  # blocks with nothing in this band: no bits at all
                skip = min(eobrun, stop - block)
                eobrun -= skip
                block += skip
                continue
            mask, k = masks[block], ss
            while k <= se:
                entry = table[(w[p >> 3] >> (8 - (p & 7))) & 0xFFFF]
                if not entry:
                    return p, block - first, True
                p += entry & 31
                size, run = (entry >> 5) & 15, entry >> 9
                if size:
                    k += run
                    mask |= bit[k]
                    p += size
                elif run == 15:
                    k += 15
                else:
                    eobrun = (1 << run) - 1
                    if run:
                        eobrun += (w[p >> 3] >> (24 - (p & 7) - run)) & ((1 << run) - 1)
                        p += run
                    break
                k += 1
            masks[block] = mask
            block += 1
            if p > end:
                return p, block - first - 1, False
    except IndexError:
        return max(p, end + 1), block - first, False
    return p, count, False


def ac_refine(
    windows: array,
    p: int,
    end: int,
    band: tuple[int, int],
    masks: list[int],
    first: int,
    count: int,
    table: list[int],
) -> Walked:
    """A refinement AC scan: new coefficients (a sign bit each) and a correction bit for
    every coefficient an earlier scan made non-zero, in the order libjpeg reads them."""
    ss, se = band
    in_band = ((1 << (se + 1)) - 1) & ~((1 << ss) - 1)
    whole = ss == 1 and se == 63  # every bit a mask can hold is in the band
    eobrun = 0
    block, stop = first, first + count
    try:
        while block < stop:
            if eobrun:  # a run of blocks with nothing new: a correction bit per non-zero
                run_end = min(stop, block + eobrun)
                if whole:
                    p += sum(map(int.bit_count, masks[block:run_end]))
                else:
                    p += sum((mask & in_band).bit_count() for mask in masks[block:run_end])
                eobrun -= run_end - block
                block = run_end
                if p > end:
                    return p, block - first - 1, False
                continue
            mask = masks[block]
            p, added, eobrun = _refine_block(windows, p, mask & in_band, in_band, band, table)
            if eobrun < 0:
                return p, block - first, True
            masks[block] = mask | added
            block += 1
            if p > end:
                return p, block - first - 1, False
    except IndexError:
        return max(p, end + 1), block - first, False
    return p, count, False


def _refine_block(
    w: array, p: int, history: int, in_band: int, band: tuple[int, int], table: list[int]
) -> tuple[int, int, int]:
    """One block of a refinement scan from bit ``p``: where it ends, the coefficients it
    makes non-zero, and the end-of-band run it starts (-1: a bad code)."""
    bit, low = _BIT, _LOW
    ss, se = band
    zeros = in_band & ~history
    added, k, eobrun = 0, ss, 0
    while k <= se:
        entry = table[(w[p >> 3] >> (8 - (p & 7))) & 0xFFFF]
        if not entry:
            return p, added, -1
        p += entry & 31
        size, run = (entry >> 5) & 15, entry >> 9
        if size:
            if size != 1:  # a refinement adds coefficients of magnitude one only
                return p, added, -1
            p += 1
        elif run != 15:
            eobrun = 1 << run
            if run:
                eobrun += (w[p >> 3] >> (24 - (p & 7) - run)) & ((1 << run) - 1)
                p += run
            break
        # Pass ``run`` zero coefficients and every non-zero one on the way (a correction
        # bit each); land on the next zero one, or past the band.
        ahead = history >> k
        if not ahead & low[run]:  # nothing non-zero among the next run + 1 (most often)
            k = k + run if k + run <= se else se + 1
        else:
            z = zeros >> k
            for _ in range(run):
                z &= z - 1
            if z:
                target = (z & -z).bit_length() - 1
                p += (ahead & ((1 << target) - 1)).bit_count()
                k += target
            else:
                p += ahead.bit_count()
                k = se + 1
        if size:
            added |= bit[k]
        k += 1
    if eobrun:  # the block ended in an end-of-band: corrections for the rest of it
        p += (history >> k).bit_count()
        eobrun -= 1
    return p, added, eobrun
