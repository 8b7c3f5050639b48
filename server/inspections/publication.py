"""Inspection results on their way to the public page (一公开).

An ``inspection_result`` or ``random_inspection`` record appears on the public page once the office approves
it; it is due there within 20 working days of the inspection
(``xuncha_core.inspections.publication``). The office sees each result with its due
date and whether it is due, overdue, published or published late. The public rows
carry only what the rule requires: the entity, the inspecting authority, the kind of
check, the date and the result; no inspector, finding, photo or location.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, func, select

from server.infra import tables as t
from server.inspections.directory_store import load
from xuncha_core.inspection_results import RESULT_CATEGORIES
from xuncha_core.inspections.publication import publication_due
from xuncha_core.workdays import WorkCalendar

# Results entered by the office, and inspections recorded on site by two officers' phone.
RESULT_KINDS = ("inspection_result", "random_inspection")


def inspected_at(content: dict[str, Any]) -> str:
    """When the inspection took place: ``inspected_at``, or a recorded inspection's start."""
    return str(content.get("inspected_at") or content.get("started_at") or "")


def _results(conn: Connection) -> list[dict[str, Any]]:
    r, v, rv = t.records.c, t.record_revisions.c, t.reviews.c
    approved_at = (
        select(rv.record_id, func.max(rv.created_at).label("at"))
        .where(rv.action == "approve")
        .group_by(rv.record_id)
        .subquery()
    )
    rows = conn.execute(
        select(r.record_id, r.review_state, v.envelope, approved_at.c.at)
        .join(t.record_revisions, and_(v.record_id == r.record_id, v.revision == r.head_revision))
        .outerjoin(approved_at, approved_at.c.record_id == r.record_id)
        .where(r.kind.in_(RESULT_KINDS), r.review_state != "rejected")
    ).all()
    out = []
    for row in rows:
        content = json.loads(row.envelope)["content"]
        out.append(
            {
                "record_id": row.record_id,
                "state": row.review_state,
                "content": content,
                "approved_at": row.at if row.review_state == "approved" else None,
            }
        )
    return out


def office_view(conn: Connection, *, today: date, calendar: WorkCalendar) -> list[dict[str, Any]]:
    """Every result not rejected, with its publication due date and status on ``today`` (the town's
    date), soonest due first; due dates counted with ``calendar``
    (``server.reference.calendar.work_calendar``: the built-in years and the office's)."""
    out = []
    for item in _results(conn):
        inspected = date.fromisoformat(inspected_at(item["content"])[:10])
        due = publication_due(inspected, calendar)
        published = date.fromisoformat(item["approved_at"][:10]) if item["approved_at"] else None
        out.append(
            {
                "record_id": item["record_id"],
                "entity_credit_code": item["content"].get("entity_credit_code"),
                "inspected_on": inspected.isoformat(),
                "due": due.due.isoformat(),
                "estimated": due.estimated,
                "status": due.status(today, published),
            }
        )
    return sorted(out, key=lambda x: (x["due"], x["record_id"]))


def public_rows(conn: Connection) -> list[dict[str, Any]]:
    """Approved results as the public page shows them, newest first."""
    dirs = load(conn)
    units = {key: i.unit for key, i, _ in dirs.inspectors.values()}
    names = {code: e.name for code, (_, e) in dirs.entities.items()}
    rows = []
    for item in _results(conn):
        if item["approved_at"] is None:
            continue
        c = item["content"]
        result = RESULT_CATEGORIES.get(c.get("result"), (c.get("result"), c.get("result")))
        inspectors = c.get("inspectors") or []
        rows.append(
            {
                "entity": names.get(c.get("entity_credit_code"), ""),
                "credit_code": c.get("entity_credit_code"),
                "authority": units.get(inspectors[0], "") if inspectors else "",
                "random": "/" in str(c.get("task_id", "")) or bool(c.get("plan_id")),
                "date": inspected_at(c)[:10],
                "result_zh": result[0],
                "result_en": result[1],
            }
        )
    return sorted(rows, key=lambda x: (x["date"], x["credit_code"] or ""), reverse=True)
