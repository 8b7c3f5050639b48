"""The console's pure parts: the red and black list with trend, the assessment table, revision
diffs and the dashboard's figures (issue 10)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from server.console import overview, revision_diff, standings
from xuncha_core.rectification import OrderStatus
from xuncha_core.scoring import RankingPolicy
from xuncha_core.workdays import CHINA


def _c(v: str, m: str, s: str) -> standings.CheckScore:
    return standings.CheckScore(v, m, Decimal(s))


def test_the_ranking_averages_a_months_checks_and_shows_the_change_since_the_last_scored_month() -> None:
    checks = [
        _c("shimen", "2025-03", "90"), _c("shimen", "2025-03", "85"),  # mean 87.5
        _c("shimen", "2025-01", "80"),  # February unchecked: the change is against January
        _c("puhua", "2025-03", "70"), _c("puhua", "2025-02", "75"),
        _c("lin-e", "2025-03", "95"),
    ]
    ranked = standings.monthly_ranking(
        standings.monthly_means(checks), "2025-03", RankingPolicy(red_top=1, black_bottom=1), trend_months=3
    )
    assert [(r.village_id, r.position, r.standing) for r in ranked] == [
        ("lin-e", 1, "red"), ("shimen", 2, ""), ("puhua", 3, "black")
    ]
    shimen = ranked[1]
    assert shimen.score == Decimal("87.50") and shimen.checks == 2
    assert shimen.change == Decimal("7.50")
    assert shimen.trend == (Decimal("80.00"), None, Decimal("87.50"))
    assert ranked[0].change is None and ranked[2].change == Decimal("-5.00")


def test_months_up_to_crosses_the_year() -> None:
    assert standings.months_up_to("2025-02", 3) == ["2024-12", "2025-01", "2025-02"]


def test_the_assessment_table_takes_each_cleaners_latest_rating_and_scores_it() -> None:
    rated = [
        standings.RatedCleaner("shimen", "2025-03-02T09:00:00+08:00", "r1", {"cleaner_id": "c1", "absent_days": 2}),
        standings.RatedCleaner("shimen", "2025-03-20T09:00:00+08:00", "r2",
                               {"cleaner_id": "c1", "absent_days": 1, "late_minutes": 25, "dirty_spots": 3}),
        standings.RatedCleaner("lin-e", "2025-03-05T09:00:00+08:00", "r3", {"cleaner_id": "c9", "left_post_times": 1}),
    ]
    rows = standings.assessment_table(rated)
    assert [r.cleaner_id for r in rows] == ["c9", "c1"]
    c1 = rows[1]
    assert (c1.attendance, c1.on_post, c1.cleanliness, c1.score) == (15, 18, 57, 90)
    assert c1.record_id == "r2"


def test_a_revision_diff_names_each_changed_added_and_removed_value() -> None:
    before = {"content": {"note": "a", "deductions": [{"count": 1}, {"count": 2}]}, "photos": ["x"]}
    after = {"content": {"note": "b", "deductions": [{"count": 1}], "total_score": 90}, "photos": ["x", "y"]}
    changes = {(c.path, c.kind, c.before, c.after) for c in revision_diff.envelope_changes(before, after)}
    assert changes == {
        ("content.note", "changed", "a", "b"),
        ("content.total_score", "added", None, 90),
        ("content.deductions.1.count", "removed", 2, None),
        ("photos.1", "added", None, "y"),
    }


def test_the_dashboard_counts_states_orders_publications_and_warns_of_next_years_calendar() -> None:
    def order(state: str) -> OrderStatus:
        return OrderStatus("o", "r", "v", "2025-03", "t", "p", date(2025, 3, 1), state, 0)

    figures = overview.overview(
        {"submitted": 4, "sent_back": 2, "approved": 9, "legal_review": 1},
        [order("open"), order("overdue"), order("overdue"), order("closed")],
        ["due", "overdue", "published", "published_late", "due"],
        today=date(2026, 12, 1),
        known_years=CHINA.years,
    )
    assert (figures.submitted, figures.sent_back, figures.legal_review) == (4, 2, 1)
    assert (figures.orders_open, figures.orders_overdue) == (3, 2)
    assert (figures.publication_due, figures.publication_overdue) == (2, 1)  # published results are not counted
    assert figures.calendar_missing == 2027


def test_every_key_a_template_names_is_in_the_catalogue_and_templates_hold_no_chinese_text() -> None:
    import re
    from pathlib import Path

    from server.console import catalogue

    templates = Path(catalogue.__file__).parent / "templates"
    named: set[str] = set()
    for path in templates.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r"""\bt\(\s*'([a-z_.]+)'""", text))
        assert not re.search(r"[\u4e00-\u9fff]", text), f"{path.name} holds literal Chinese text"
    prefixes = {k for k in named if k.endswith(".")}  # t('kind.' ~ r.kind): a family of keys
    missing = sorted(k for k in named - prefixes if k not in catalogue.CATALOGUE)
    missing += sorted(p for p in prefixes if not any(key.startswith(p) for key in catalogue.CATALOGUE))
    assert not missing, missing
    assert all(zh and en for zh, en in catalogue.CATALOGUE.values())


def test_a_score_is_read_from_the_text_after_its_key_and_anything_else_is_no_score() -> None:
    assert standings.score_of('99.5,"village_id":"v1"}') == Decimal("99.5")
    assert standings.score_of("100}") == Decimal("100")
    assert standings.score_of("1e2,") == Decimal("100")
    assert standings.score_of('"x"') is None and standings.score_of("") is None and standings.score_of("2000,") is None


def test_every_record_kind_has_a_name_in_both_languages() -> None:
    """The review queue names every kind a phone can send; a new kind without its words made
    the queue answer 500 (the random inspection's on-site record, when issues 10 and 11 met)."""
    from server.console.catalogue import CATALOGUE
    from xuncha_core.records import RECORD_KINDS

    assert [k for k in RECORD_KINDS if f"kind.{k}" not in CATALOGUE] == []


def test_an_xlsx_export_opens_with_openpyxl_every_value_as_written_and_no_formula() -> None:
    import io
    from datetime import date

    from openpyxl import load_workbook

    from server.console import exports, workbook

    rows = [
        ["石门村 <b>&amp;", 3, Decimal("99.50"), date(2026, 12, 2), True, None, "=HYPERLINK(\"http://x\")"],
        ["  前后有空格 ", 0, 1.5, float("nan"), False, "", "控制\x01字符\x1f"],
    ]
    data = exports.xlsx_bytes(["名称", "n", "分数", "日期", "是", "空", "备注"], rows, title="records-2026-12")
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet.title == "records-2026-12"
    got = [[c.value for c in row] for row in sheet.iter_rows()]
    assert got[0] == ["名称", "n", "分数", "日期", "是", "空", "备注"]
    assert got[1][:5] == ["石门村 <b>&amp;", 3, 99.5, datetime(2026, 12, 2), "✓"] and got[1][6] == '=HYPERLINK("http://x")'
    assert sheet["G2"].data_type == "s"  # text, never a formula
    assert got[2][0] == "  前后有空格 " and got[2][1:3] == [0, 1.5] and got[2][3] == "nan" and got[2][6] == "控制字符"
    assert [c.value for c in sheet[3]][4:6] == [None, None]
    assert [workbook.column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
