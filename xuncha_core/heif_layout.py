"""Is a HEIF/HEIC file whole? Its boxes and item extents checked against its length.

A HEIF file is a sequence of ISO base media boxes (``ftyp``, ``meta``, ``mdat``, ...),
each declaring its size; the ``meta`` box's ``iloc`` says where each item's data lies
(tiles of the photo, its thumbnail, EXIF). A file cut short has a box or an extent that
reaches past its end; a decoder given it fills the missing tiles with a flat colour. This
reads only the box structure, so it works with or without a HEIF decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

from xuncha_core.photo_damage import corrupt, truncated


@dataclass(frozen=True)
class Box:
    kind: bytes
    start: int  # where the box's payload starts
    end: int


def _boxes(data: bytes, start: int, end: int) -> list[Box]:
    """The boxes laid end to end in ``data[start:end]``."""
    boxes: list[Box] = []
    pos = start
    while pos < end:
        if end - pos < 8:
            raise truncated("the file ends inside a box header", offset=pos)
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if end - pos < 16:
                raise truncated("the file ends inside a box header", offset=pos)
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:  # runs to the end of its container
            size = end - pos
        if size < header:
            raise corrupt(f"box {kind!r} declares an impossible size", offset=pos)
        if pos + size > end:
            raise truncated(
                f"box {kind.decode('latin-1')!r} declares {size} bytes but only {end - pos} remain",
                offset=pos,
            )
        boxes.append(Box(kind, pos + header, pos + size))
        pos += size
    return boxes


def check_heif(data: bytes) -> None:
    """Raise ``PhotoDamaged`` if a box or an item's data reaches past the end of the file."""
    top = _boxes(data, 0, len(data))
    meta = next((b for b in top if b.kind == b"meta"), None)
    if meta is None:
        raise truncated("the file has no meta box describing its image")
    children = _boxes(data, meta.start + 4, meta.end)  # meta is a full box: 4 bytes of version
    iloc = next((b for b in children if b.kind == b"iloc"), None)
    if iloc is None:
        raise corrupt("the meta box does not say where the image data is")
    idat = next((b for b in children if b.kind == b"idat"), None)
    idat_size = idat.end - idat.start if idat else 0
    for item, method, offset, length in _extents(data, iloc):
        limit = len(data) if method == 0 else idat_size
        if method in (0, 1) and offset + length > limit:
            raise truncated(
                f"item {item}'s data runs to byte {offset + length} but the file has {limit}",
                item=item,
            )


def _extents(data: bytes, iloc: Box) -> list[tuple[int, int, int, int]]:
    """(item, construction method, offset, length) of every extent in an ``iloc`` box."""
    reader = _Fields(data, iloc.start, iloc.end)
    version = reader.take(1)
    reader.take(3)  # flags
    sizes = reader.take(2)
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 15
    base_size, index_size = (sizes >> 4) & 15, (sizes & 15 if version in (1, 2) else 0)
    if version > 2 or any(n not in (0, 4, 8) for n in (offset_size, length_size, base_size, index_size)):
        raise corrupt("the item location box is malformed")
    out = []
    for _ in range(reader.take(2 if version < 2 else 4)):
        item = reader.take(2 if version < 2 else 4)
        method = reader.take(2) & 15 if version in (1, 2) else 0
        reader.take(2)  # data reference index
        base = reader.take(base_size)
        for _ in range(reader.take(2)):
            reader.take(index_size)
            offset, length = reader.take(offset_size), reader.take(length_size)
            if length:  # 0: the rest of the file
                out.append((item, method, base + offset, length))
    return out


class _Fields:
    """Big-endian unsigned fields read in order from ``data[start:end]``."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.pos, self.end = data, start, end

    def take(self, size: int) -> int:
        if self.pos + size > self.end:
            raise corrupt("the item location box is shorter than its entries")
        value = int.from_bytes(self.data[self.pos : self.pos + size], "big")
        self.pos += size
        return value
