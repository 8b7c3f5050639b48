"""Directories imported from office spreadsheets: every bad row named with its line, or nothing imported."""

from __future__ import annotations

import pytest

from xuncha_core.credit_code import is_credit_code
from xuncha_core.errors import ValidationError
from xuncha_core.inspections.credit_codes import credit_code_problem
from xuncha_core.inspections.directories import Entity, Inspector
from xuncha_core.inspections.directory_files import read_csv, write_csv
from xuncha_core.inspections.directory_rows import (
    parse_conflicts,
    parse_entities,
    parse_inspectors,
    parse_matters,
    table_of,
)

# Codes printed on real business licences (public on the national enterprise credit system).
REAL_CODES = {
    "914403001922038216": "华为技术有限公司",
    "91440300708461136T": "深圳市腾讯计算机系统有限公司",
    "91330100799655058B": "阿里巴巴（中国）有限公司",
    "91110108551385082Q": "小米科技有限责任公司",
    "91110000802100433B": "北京百度网讯科技有限公司",
}


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_credit_codes_are_accepted(code):
    assert is_credit_code(code) and credit_code_problem(code) is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("914403001922038217", "check character is '6'"),  # Huawei's, last character mistyped
        ("91440300708461163T", "check character is"),  # two digits swapped
        ("91440300708461136t", "lower-case"),
        ("9144030070846113T", "17 characters"),
        ("91440300708461I36T", "'I' at position 15"),
        ("9144A300708461136T", "region code"),
        ("", "missing"),
    ],
)
def test_wrong_credit_codes_are_refused_with_the_reason(code, reason):
    problem = credit_code_problem(code)
    assert problem is not None and reason in problem[0] and problem[1]
    assert not is_credit_code(code)


ENTITY_CSV = (
    "序号,名称,统一社会信用代码,类型,地址,所在村,风险等级,标签\n"
    "1,华为技术有限公司,914403001922038216,制造,坂田华为基地,坂田村,中风险,\n"
    '2,深圳市腾讯计算机系统有限公司,91440300708461136T,信息服务,"科技中一路\n腾讯大厦",粤海村,高风险,投诉；重点\n'
    "3,某某小吃店,914403001922038217,餐饮,大路1号,坂田村,低风险,\n"
    "4,,91110108551385082Q,餐饮,大路2号,坂田村,很高,\n"
    "5,小米科技有限责任公司,91110108551385082Q,制造,清河,清河村,low,\n"
    "6,重复的百度,914403001922038216,信息服务,上地,上地村,medium,\n"
)


def test_a_file_with_broken_rows_lists_every_one_by_line_and_imports_nothing():
    with pytest.raises(ValidationError) as caught:
        parse_entities(read_csv(ENTITY_CSV.encode("utf-8")))
    problems = {(p.path, p.code) for p in caught.value.problems}
    # line 3 is a quoted address on two lines, so later rows start one line further down
    assert problems == {
        ("rows.5.credit_code", "directory.bad_credit_code"),
        ("rows.6.name", "directory.missing_value"),
        ("rows.6.risk", "directory.bad_choice"),
        ("rows.7.credit_code", "directory.duplicate"),  # the same code as line 6
        ("rows.8.credit_code", "directory.duplicate"),  # the same code as line 2
    }
    assert all(p.message.startswith(f"line {p.path.split('.')[1]}:") for p in caught.value.problems)
    assert all(p.message_zh.startswith("第") for p in caught.value.problems)


def test_a_valid_file_imports_every_row_with_its_codes():
    good = (
        ENTITY_CSV.split("3,某某小吃店")[0]
        + "5,小米科技有限责任公司,91110108551385082Q,制造,清河,清河村,low,\n"
    )
    rows = parse_entities(read_csv(good.encode("utf-8")))
    assert [e.credit_code for e in rows] == [
        "914403001922038216",
        "91440300708461136T",
        "91110108551385082Q",
    ]
    assert (
        rows[1].risk == "high"
        and rows[1].tags == ("投诉", "重点")
        and rows[1].address == "科技中一路\n腾讯大厦"
    )


def test_a_file_saved_by_older_chinese_excel_in_gb18030_with_english_headers_reads():
    text = "name,credit_code,type,address,village,risk\n小米科技有限责任公司,91110108551385082Q,制造,清河,清河村,中风险\n"
    assert parse_entities(read_csv(text.encode("gb18030")))[0].name == "小米科技有限责任公司"


def test_a_header_without_a_required_column_is_refused_before_any_row():
    with pytest.raises(ValidationError) as caught:
        parse_entities(read_csv("名称,类型\n甲,餐饮\n".encode()))
    assert {p.path for p in caught.value.problems} == {"header"}
    assert len(caught.value.problems) == 4  # credit code, address, village, risk


def test_export_reads_back_as_the_same_rows():
    entities = [
        Entity(
            "914403001922038216",
            "华为技术有限公司",
            "制造",
            "坂田",
            "坂田村",
            "medium",
            ("重点",),
        ),
        Entity("91440300708461136T", "腾讯", "信息服务", "粤海", "粤海村", "high"),
    ]
    inspectors = [
        Inspector("35010000001", "王建", "城关所"),
        Inspector("35010000002", "李明", "城关所", False),
    ]
    assert parse_entities(read_csv(write_csv(*table_of("entities", entities)))) == entities
    assert parse_inspectors(read_csv(write_csv(*table_of("inspectors", inspectors)))) == inspectors


def test_inspectors_must_say_plainly_whether_they_are_active():
    with pytest.raises(ValidationError) as caught:
        parse_inspectors(
            read_csv("姓名,执法证号,单位,在岗\n王建,35010000001,城关所,也许\n".encode())
        )
    assert [p.path for p in caught.value.problems] == ["rows.2.active"]


def test_conflicts_must_name_known_inspectors_and_entities_and_a_known_reason():
    csv_text = (
        "执法证号,统一社会信用代码,回避事由,说明\n"
        "35010000001,914403001922038216,近亲属关系,配偶在该公司任职\n"
        "35010000009,914403001922038216,同村居住,\n"
        "35010000001,91440300708461136T,看不顺眼,\n"
    )
    with pytest.raises(ValidationError) as caught:
        parse_conflicts(
            read_csv(csv_text.encode()),
            inspectors={"35010000001"},
            entities={"914403001922038216", "91440300708461136T"},
        )
    assert {(p.path, p.code) for p in caught.value.problems} == {
        ("rows.3.inspector", "directory.unknown_inspector"),
        ("rows.4.kind", "directory.bad_choice"),
    }


def test_matters_need_their_legal_basis():
    with pytest.raises(ValidationError) as caught:
        parse_matters(
            read_csv("事项编号,事项名称,法律依据\nSC-01,食品经营许可情况检查,\n".encode())
        )
    assert [p.path for p in caught.value.problems] == ["rows.2.legal_basis"]


def test_a_file_that_is_not_text_is_refused_with_a_clear_error():
    with pytest.raises(ValidationError) as caught:
        read_csv(b"\x80\x81\xfe\xff\x00PK\x03\x04" * 10)
    assert caught.value.code == "directory.bad_encoding"


def test_an_entity_in_a_village_the_town_does_not_have_is_listed_with_the_other_bad_rows():
    text = "名称,统一社会信用代码,类型,地址,所在村,风险等级\n甲,914403001922038217,企业,某地,火星村,低风险\n乙,91440300708461136T,企业,某地,石门村,低风险\n"
    with pytest.raises(ValidationError) as caught:
        parse_entities(read_csv(text.encode()), villages={"石门村", "shimen"})
    assert [p.path for p in caught.value.problems] == ["rows.2.village", "rows.2.credit_code"]
