"""Directory tables as XLSX workbooks (the one module that imports openpyxl).

The first sheet is read: row 1 is the header, every later row that is not blank is
a row of the table, numbered as the spreadsheet numbers it so problems name the
row an office sees. Numbers typed into cells (certificate numbers often are) read
back as the digits typed, never as ``5.0011420190031e13``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from xuncha_core.errors import Problem, ValidationError
from xuncha_core.inspections.directory_files import Table, check_rows, check_size

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_xlsx(data: bytes) -> Table:
    check_size(data, "workbook")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ValidationError.of(
            [
                Problem(
                    "file",
                    "directory.bad_xlsx",
                    "the file is not an Excel workbook (.xlsx); save it as .xlsx or CSV and import it again",
                    "文件不是 Excel 工作簿（.xlsx）；请另存为 .xlsx 或 CSV 后重新导入",
                )
            ],
            code="directory.bad_xlsx",
        ) from None
    try:
        return _table(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(rows: Iterable[tuple[object, ...]]) -> Table:
    header: list[str] | None = None
    body: list[tuple[int, list[str]]] = []
    for line, cells in enumerate(rows, start=1):
        text = [_text(c) for c in cells]
        if header is None:
            header = text
        elif any(text):
            body.append((line, text))
            check_rows(len(body), "workbook")
    return Table(header or [], body)


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()
