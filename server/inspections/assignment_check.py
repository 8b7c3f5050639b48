"""A ``random_inspection`` record is accepted only from the inspectors the draw assigned.

Record intake (``server.records.intake``) calls ``check_assignment`` for every revision of
that kind, inside its write transaction. The inspection sent to the author's phone (the
``task`` feed row for them) is the assignment: the author must be one of its inspectors,
the confirming co-inspector the other, and the record must name the same draw, entity,
inspectors and matters. An author with no such inspection gets 403 (nothing is said
about whose it is); a record that differs from its inspection gets 422 naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from server.infra import tables as t
from xuncha_core.errors import ForbiddenError, Problem, ValidationError
from xuncha_core.records import RecordRevision


def check_assignment(conn: Connection, record: RecordRevision) -> None:
    """Nothing, or ForbiddenError ``inspection.not_assigned`` / ValidationError ``inspection.not_as_assigned``."""
    content = record.content
    task = _task_for(conn, content.get("task_id"), record.author)
    members = {m.get("username"): m.get("id") for m in task.get("inspectors", []) if m.get("username")}
    if record.author not in members:
        raise _not_assigned()
    problems = _differences(content, task, members, record.author)
    if problems:
        raise ValidationError.of(problems, code="inspection.not_as_assigned")


def _task_for(conn: Connection, task_id: Any, username: str) -> dict[str, Any]:
    c = t.changes.c
    row = conn.execute(
        select(c.payload, c.deleted)
        .where(c.topic == "task", c.key == str(task_id), c.audience == username)
        .order_by(c.seq.desc())
        .limit(1)
    ).first()
    if row is None or row.deleted:
        raise _not_assigned()
    payload: dict[str, Any] = json.loads(row.payload)
    return payload


def _differences(content: dict[str, Any], task: dict[str, Any], members: dict[Any, Any], author: str) -> list[Problem]:
    entity = task.get("entity", {})
    expected = {
        "draw_id": task.get("draw_id"),
        "entity_id": entity.get("id"),
        "entity_credit_code": entity.get("credit_code"),
    }
    problems = [
        _differs(key, f"{key} must be {value!r}, as in the inspection sent to your phone", f"{key} 与下发的检查任务不一致")
        for key, value in expected.items()
        if content.get(key) != value
    ]
    if sorted(content.get("inspectors") or []) != sorted(members.values()):
        problems.append(_differs("inspectors", "list the inspectors the draw assigned", "执法人员与抽取结果不一致"))
    matters = {m.get("id") for m in task.get("matters", [])}
    if not set(content.get("matter_ids") or []) <= matters:
        problems.append(_differs("matter_ids", "check only the matters of this inspection", "检查事项不在本次任务之内"))
    co = content.get("co_inspector") or {}
    if co.get("username") == author or members.get(co.get("username")) != co.get("inspector_id"):
        problems.append(
            _differs(
                "co_inspector",
                "the co-inspector who confirms must be the other inspector assigned, with their own PIN",
                "确认人须为本次任务的另一名执法人员并输入其本人密码",
            )
        )
    return problems


def _differs(path: str, message: str, message_zh: str) -> Problem:
    return Problem(path, "inspection.not_as_assigned", message, message_zh)


def _not_assigned() -> ForbiddenError:
    return ForbiddenError(
        "inspection.not_assigned",
        "This inspection was not assigned to you; only its assigned inspectors may record it. "
        "Sync to receive your inspections.",
        "该检查任务未分派给您，只有被抽取的执法人员可以记录。请同步以获取您的任务。",
    )
