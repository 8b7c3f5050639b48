"""A JPEG Huffman table as lookups on the next 16 bits of entropy-coded data.

The walk in ``xuncha_core.jpeg_entropy`` never decodes a coefficient's value: it only needs
how many bits each code and its extra bits take, and how far along the block it moves. Each
lookup below answers that for every possible next 16 bits at once (65,536 entries), so a
symbol costs one list index. An entry of 0 (or an advance of ``BAD_ADVANCE``) means no
code starts with those bits: a decoder's "bad Huffman code".

Entries of the sequential lookups pack ``bits | advance << 5``; ``sequential_multi`` packs
as many whole symbols as fit in the 16 bits (a camera JPEG's symbols average about five
bits, so two or three a lookup).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cached_property

from xuncha_core.photo_damage import corrupt

BAD_ADVANCE = 4096  # a sequential entry's advance for bits no code starts with
END_OF_BLOCK = 64  # a sequential entry's advance for a symbol that ends the block
# ``sequential_multi`` entries are used while this many coefficients or fewer have been
# walked: every symbol but the last in an entry then lands inside the block.
MULTI_BEFORE = 48
TAIL_BEFORE = 56  # the same for ``sequential_tail``


class HuffmanTable:
    """One Huffman table (a DHT entry) and the lookups the walk needs from it."""

    def __init__(self, counts: bytes, symbols: bytes, *, is_dc: bool) -> None:
        self.codes: list[tuple[int, int, int]] = []  # (length, code, symbol)
        code = index = 0
        for length in range(1, 17):
            for _ in range(counts[length - 1]):
                if code >= 1 << length:
                    raise corrupt("a Huffman table has more codes than fit")
                symbol = symbols[index]
                if is_dc and symbol > 15:
                    raise corrupt("a DC Huffman table holds an impossible size")
                self.codes.append((length, code, symbol))
                code += 1
                index += 1
            code <<= 1

    def _lookup(self, pack: Callable[[int, int], int]) -> list[int]:
        table = [0] * 65536
        for length, code, symbol in self.codes:
            span = 16 - length
            table[code << span : (code + 1) << span] = [pack(length, symbol)] * (1 << span)
        return table

    @cached_property
    def dc(self) -> list[int]:
        """Bits a DC difference takes: its code and that many extra bits."""
        return self._lookup(lambda length, symbol: length + symbol)

    @cached_property
    def sequential_ac(self) -> list[int]:
        """``bits | advance << 5`` of one AC symbol: a run without a size ends the block
        (advance 64), except the run of sixteen zeros (ZRL)."""
        return [entry or BAD_ADVANCE << 5 for entry in self._lookup(_sequential_entry)]

    @cached_property
    def _multi_and_leads(self) -> tuple[list[int], list[int]]:
        single = self.sequential_ac
        pairs, leads = _chain(self, single, single, [0] * 65536)
        return _chain(self, single, pairs, leads)

    @cached_property
    def sequential_multi(self) -> list[int]:
        """``sequential_ac`` with as many whole symbols as the 16 bits hold, all but the
        last moving at most 16 coefficients in all and none of them ending the block;
        valid while fewer than ``MULTI_BEFORE`` coefficients have been walked."""
        return self._multi_and_leads[0]

    @cached_property
    def sequential_tail(self) -> list[int]:
        """``sequential_multi`` where all but the last symbol move at most 8 coefficients
        (``sequential_ac`` elsewhere): valid while fewer than ``TAIL_BEFORE`` have been walked."""
        multi, leads = self._multi_and_leads
        return [
            m if lead <= 8 else s
            for m, lead, s in zip(multi, leads, self.sequential_ac, strict=True)
        ]

    @cached_property
    def progressive_ac(self) -> list[int]:
        """``length | size << 5 | run << 9`` of the code the next bits start with."""
        return self._lookup(lambda length, symbol: length | (symbol & 15) << 5 | (symbol >> 4) << 9)


def _sequential_entry(length: int, symbol: int) -> int:
    run, size = symbol >> 4, symbol & 15
    if size:
        return (length + size) | (run + 1) << 5
    return length | (16 if run == 15 else END_OF_BLOCK) << 5


def _chain(
    table: HuffmanTable, single: list[int], rest: list[int], rest_leads: list[int]
) -> tuple[list[int], list[int]]:
    """Each symbol of ``single`` followed by what ``rest`` takes from the bits after it,
    where that fits in the 16 bits; and each entry's advance before its last symbol."""
    chained = single[:]
    leads = [0] * 65536
    for length, code, symbol in table.codes:
        first = _sequential_entry(length, symbol)
        taken, advance = first & 31, first >> 5
        room = 16 - taken
        if room <= 0 or advance == END_OF_BLOCK:
            continue
        row, row_leads = [], []
        for after in range(1 << room):
            bits = after << taken
            entry, lead = rest[bits], rest_leads[bits]
            if (entry & 31) > room or advance + lead > 16 or entry >> 5 >= BAD_ADVANCE:
                entry, lead = single[bits], 0  # the rest does not fit: its first symbol?
                if (entry & 31) > room or entry >> 5 >= BAD_ADVANCE:
                    row.append(first)
                    row_leads.append(0)
                    continue
            row.append(first + entry)
            row_leads.append(advance + lead)
        repeat = 1 << (taken - length)  # the first symbol's extra bits: any value
        start = code << (16 - length)
        chained[start : start + (1 << (16 - length))] = row * repeat
        leads[start : start + (1 << (16 - length))] = row_leads * repeat
    return chained, leads


@functools.lru_cache(maxsize=16)
def huffman_table(counts: bytes, symbols: bytes, is_dc: bool) -> HuffmanTable:
    # Cameras use the same few tables photo after photo: build their lookups once.
    return HuffmanTable(counts, symbols, is_dc=is_dc)
