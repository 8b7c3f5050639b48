"""What several pages derive from the same reads: the month in the town, orders, names.

Each function reads through ``queries`` and hands the rows to the pure rules (the core's
rectification and scoring, the console's ``standings`` and ``overview``), so a page and
its export, the dashboard and the report, agree by construction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from server.console import queries, standings
from server.console.wording import Names
from server.infra.clock import town_date
from server.inspections import publication
from xuncha_core.errors import XunchaError
from xuncha_core.rectification import OrderStatus, order_statuses
from xuncha_core.scoring import RankingPolicy
from xuncha_core.sheet import parse_sheet
from xuncha_core.workdays import WorkCalendar

ORDER_WINDOW_MONTHS = 6


def this_month(moment: datetime) -> str:
    return town_date(moment).strftime("%Y-%m")


def valid_month(value: str | None, fallback: str) -> str:
    if value and len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit() and 1 <= int(value[5:]) <= 12:
        return value
    return fallback


def names(conn: Connection) -> Names:
    return Names(
        villages=queries.reference_map(conn, "village"),
        cleaners=queries.reference_map(conn, "cleaner"),
        inspectors=queries.reference_map(conn, "inspector"),
        entities=queries.reference_map(conn, "entity"),
        sheets=queries.reference_map(conn, "scoring_sheet"),
        users=queries.user_names(conn),
    )


def orders(conn: Connection, *, on: date, months: list[str] | None = None, village_id: str | None = None) -> tuple[list[OrderStatus], dict[str, Any]]:
    """Every rectification order of the checks in ``months`` (default: the last six), with
    its state on ``on``; and the checks and re-checks by record id (for their photos)."""
    months = months or standings.months_up_to(on.strftime("%Y-%m"), ORDER_WINDOW_MONTHS)
    checks = queries.head_envelopes(
        conn, kind="remediation_check", months=months, states=("submitted", "legal_review", "approved"),
        village_id=village_id, with_orders=True,
    )
    later = sorted({*months, *standings.months_up_to(on.strftime("%Y-%m"), ORDER_WINDOW_MONTHS)})
    rechecks = queries.head_envelopes(conn, kind="recheck", months=later, states=("submitted", "legal_review", "approved"))
    statuses = order_statuses(
        [(rid, env["content"]) for rid, env, _ in checks], [(rid, env["content"]) for rid, env, _ in rechecks], today=on
    )
    by_id = {rid: env for rid, env, _ in (*checks, *rechecks)}
    return statuses, by_id


def ranking_policy(conn: Connection) -> RankingPolicy:
    """The ranking policy of the scoring sheet in use (the first one), else the default."""
    for payload in queries.reference_map(conn, "scoring_sheet").values():
        try:
            return parse_sheet(payload).ranking
        except XunchaError:  # a broken sheet must not take the ranking down
            continue
    return RankingPolicy()


def ranking(conn: Connection, month: str) -> list[standings.VillageStanding]:
    sums = queries.approved_score_sums(conn, standings.months_up_to(month))
    return standings.monthly_ranking(standings.means_of_sums(sums), month, ranking_policy(conn))


def assessment(conn: Connection, month: str) -> list[standings.AssessmentRow]:
    rated = []
    for kind, at_key in (("remediation_check", "inspected_at"), ("routine_assessment", "assessed_at")):
        for rid, env, _ in queries.head_envelopes(conn, kind=kind, months=[month], states=("approved",)):
            content = env["content"]
            for rating in content.get("cleaner_ratings") or []:
                rated.append(standings.RatedCleaner(str(content.get("village_id", "")), str(content.get(at_key, "")), rid, rating))
    return standings.assessment_table(rated)


def publication_statuses(conn: Connection, *, on: date, work: WorkCalendar) -> list[str]:
    """Each inspection result's publication status on ``on``: ``due`` or ``overdue`` while it is
    not published yet (awaiting the office or the legal reviewer, or sent back), ``published`` or
    ``published_late`` once approved, since approving a result puts it on the public page."""
    return [item["status"] for item in publication.office_view(conn, today=on, calendar=work)]
