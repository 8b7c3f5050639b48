"""Directories from Excel workbooks as offices keep them: broken rows listed by row, nothing imported."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from server.inspections.spreadsheets import read_xlsx, write_xlsx
from xuncha_core.errors import ValidationError
from xuncha_core.inspections.directories import Entity
from xuncha_core.inspections.directory_rows import parse_entities, parse_inspectors, table_of


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_with_broken_rows_lists_each_by_its_row_number_and_imports_nothing():
    data = workbook(
        [
            ["名称", "统一社会信用代码", "类型", "地址", "所在村", "风险等级"],
            ["华为技术有限公司", "914403001922038216", "企业", "坂田", "坂田村", "中风险"],
            [None, None, None, None, None, None],  # a blank row clerks leave between blocks
            ["错一位的小吃店", "914403001922038217", "个体工商户", "大路1号", "坂田村", "低风险"],
            ["没有地址的超市", "91440300708461136T", "个体工商户", None, "粤海村", "高风险"],
        ]
    )
    with pytest.raises(ValidationError) as caught:
        parse_entities(read_xlsx(data))
    assert {(p.path, p.code) for p in caught.value.problems} == {
        ("rows.4.credit_code", "directory.bad_credit_code"),
        ("rows.5.address", "directory.missing_value"),
    }


def test_certificate_numbers_typed_as_numbers_read_back_as_the_digits_typed():
    data = workbook([["姓名", "执法证号", "单位", "在岗"], ["向军", 50011420190031, "综合执法办", True]])
    (inspector,) = parse_inspectors(read_xlsx(data))
    assert inspector.certificate == "50011420190031" and inspector.active


def test_an_exported_workbook_imports_as_the_same_rows():
    rows = [Entity("914403001922038216", "华为技术有限公司", "企业", "坂田", "坂田村", "medium", ("重点",))]
    assert parse_entities(read_xlsx(write_xlsx(*table_of("entities", rows)))) == rows


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not really a zip", "名称,代码\n".encode()])
def test_a_file_that_is_not_a_workbook_is_refused_with_a_clear_error(data):
    with pytest.raises(ValidationError) as caught:
        read_xlsx(data)
    assert caught.value.code == "directory.bad_xlsx"
