"""QR codes for one-time enrollment codes, as inline SVG (segno: pure Python, no image library)."""

from __future__ import annotations

import io

import segno


def svg(text: str, *, title: str) -> str:
    """An SVG QR code of ``text`` (error correction M, four modules of quiet zone)."""
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=8, border=4, xmldecl=False, svgns=True, title=title, svgclass="qr", lineclass=None)
    return out.getvalue().decode("utf-8")
