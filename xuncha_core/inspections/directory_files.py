"""Directory tables as CSV files, the way offices keep them in spreadsheets.

A table is its header and its rows, each row with the line it started on in the
file (1 is the header), so every problem can name the line an office will look at.
CSV from Excel is often UTF-8 with a byte-order mark or, on older Chinese
installations, GB 18030: both are read. Files are written as UTF-8 with a
byte-order mark so that Excel opens them with the Chinese intact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xuncha_core.errors import Problem, TooLargeError, ValidationError

MAX_ROWS = 200_000
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line, cells)


def check_size(data: bytes, what: str) -> None:
    """Refuse a directory file (``what``: file, workbook) past ``MAX_BYTES`` before reading it."""
    if len(data) > MAX_BYTES:
        raise TooLargeError(
            "directory.file_too_large",
            f"the {what} has {len(data)} bytes, more than {MAX_BYTES}; split it and import each part",
            f"文件有 {len(data)} 字节，超过 {MAX_BYTES}；请拆分后分别导入",
        )


def check_rows(count: int, what: str) -> None:
    """Refuse a directory file once it has more than ``MAX_ROWS`` rows."""
    if count > MAX_ROWS:
        raise TooLargeError(
            "directory.too_many_rows",
            f"more than {MAX_ROWS} rows; split the {what} and import each part",
            f"超过 {MAX_ROWS} 行；请拆分文件后分别导入",
        )


def read_csv(data: bytes) -> Table:
    """The header and rows of a CSV file; blank lines are skipped."""
    check_size(data, "file")
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if header is None:
                header = [c.strip() for c in cells]
            elif any(c.strip() for c in cells):
                rows.append((start, [c.strip() for c in cells]))
            start = reader.line_num + 1
            check_rows(len(rows), "file")
    except csv.Error as exc:
        raise ValidationError.of(
            [
                Problem(
                    f"rows.{start}",
                    "directory.bad_csv",
                    f"line {start}: the file is not valid CSV ({exc}); save it again as CSV from the spreadsheet",
                    f"第 {start} 行：文件不是有效的 CSV（{exc}）；请在表格软件中重新另存为 CSV",
                )
            ],
            code="directory.bad_csv",
        ) from None
    return Table(header or [], rows)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A CSV file Excel opens with its Chinese intact."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError.of(
            [
                Problem(
                    "file",
                    "directory.bad_encoding",
                    "the file is neither UTF-8 nor GB 18030 text; save it as CSV (UTF-8) and import it again",
                    "文件既不是 UTF-8 也不是 GB 18030 文本；请另存为 CSV（UTF-8）后重新导入",
                )
            ],
            code="directory.bad_encoding",
        ) from None
