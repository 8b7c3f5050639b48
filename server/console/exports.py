"""Any list the console shows, as CSV or XLSX (``?format=csv`` / ``?format=xlsx``).

The same columns and rows the page shows, every filtered row (not only the page on
screen), headers in the reader's language. CSV is UTF-8 with a byte-order mark, so that
Excel on a Chinese Windows opens it as UTF-8; XLSX is written by ``workbook`` (every text
cell an inline string, never a formula). A CSV cell that starts like a formula is quoted,
so a note such as ``=HYPERLINK(…)`` never runs in the office's Excel.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

from server.console import workbook

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def wanted(fmt: str | None) -> str | None:
    """The export format asked for, or None for the page itself."""
    return fmt if fmt in FORMATS else None


def cell_value(value: Any) -> Any:
    """A value as a spreadsheet cell: numbers stay numbers, text that looks like a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, (int, float, Decimal, date)):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([cell_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str) -> bytes:
    return workbook.xlsx(headers, rows, title=_sheet_title(title))


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return cleaned[:31] or "Sheet"


def response(fmt: str, *, name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """The download of ``rows`` as ``fmt``, named ``name`` (without extension)."""
    if fmt == "csv":
        body, media = csv_bytes(headers, rows), "text/csv; charset=utf-8"
    else:
        body, media = xlsx_bytes(headers, rows, title=name), XLSX_TYPE
    filename = f"{name}.{fmt}"
    ascii_name = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-_." else "_" for ch in filename)
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )
