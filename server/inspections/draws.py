"""Draws, step by step: plan, commit, enter the random values (the draw runs and is published).

Each step is one transaction; the ledger entry is appended first. Every step is
safe to retry: repeating it with the same input answers the same draw, and a
different input is refused (``ConflictError``), never silently redrawn.

    planned    the office saved a plan (nothing is fixed yet; it may still change)
    committed  plan, candidates, inspectors, recusals and the named random source
               are fixed and in the ledger (``draw.committed``)
    published  the values were entered after the source published them; the draw
               file is in the ledger (``draw.published``), on the public page, and
               each assigned inspection is in both inspectors' phone feeds
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from server import ledger
from server.accounts.accounts import Actor
from server.inspections import pins
from server.inspections import tables as it
from server.inspections.directory_store import Directories, load
from server.reference import feed as changes
from xuncha_core import ledger_entries
from xuncha_core.canonical import canonical_text
from xuncha_core.errors import ConflictError, NotFoundError, Problem, ValidationError
from xuncha_core.inspections.commitment import randomness_source
from xuncha_core.inspections.draw import Prepared, prepare, run_draw
from xuncha_core.inspections.plans import Plan


def create_plan(conn: Connection, *, data: Any, actor: Actor, at: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError.of(
            [
                Problem(
                    "plan", "plan.invalid", "the plan must be a JSON object", "计划须为 JSON 对象"
                )
            ]
        )
    plan = Plan.from_dict(data, matters=set(load(conn).matters))
    draw_id = f"{at[:10]}-{secrets.token_hex(4)}"
    conn.execute(
        it.draws.insert().values(
            id=draw_id,
            title=plan.title,
            state="planned",
            plan=canonical_text(plan.as_dict()),
            created_by=actor.username,
            created_at=at,
        )
    )
    return get(conn, draw_id)


def commit(conn: Connection, *, draw_id: str, source: Any, at: str) -> dict[str, Any]:
    """Fix the inputs and the named source; answer the draw with its commitment and ledger index."""
    row = _row(conn, draw_id)
    randomness = _randomness(source)
    if row.state != "planned":
        if json.loads(row.commitment)["randomness"] == randomness:
            return get(conn, draw_id)  # a retry of the same commitment
        raise _already(draw_id, row.state)
    dirs = load(conn)
    prepared = prepare(
        Plan.from_dict(json.loads(row.plan), matters=set(dirs.matters)),
        [e for _, e in dirs.entities.values()],
        [i for _, i, _ in dirs.inspectors.values()],
        dirs.conflicts,
    )
    commitment = prepared.commit(randomness, at)
    body = {k: v for k, v in commitment.items() if k != "digest"}
    receipt = ledger.append(
        conn, ledger_entries.draw_committed(draw_id=draw_id, commitment_body=body, at=at)
    )
    commitment["ledger_index"] = receipt.index
    conn.execute(
        it.draws.update()
        .where(it.draws.c.id == draw_id)
        .values(
            state="committed",
            inputs=canonical_text(prepared.as_dict()),
            commitment=canonical_text(commitment),
            ledger_index=receipt.index,
            committed_at=at,
        )
    )
    return get(conn, draw_id)


def enter_values(conn: Connection, *, draw_id: str, values: Any, at: str) -> dict[str, Any]:
    """Run the draw with the source's published values; publish the file and send out the inspections."""
    row = _row(conn, draw_id)
    if row.state == "planned":
        raise ConflictError(
            "draw.not_committed",
            "commit the draw before entering random values",
            "请先提交抽查承诺，再录入随机数",
        )
    if row.state == "published":
        if json.loads(row.random_values) == values:
            return get(conn, draw_id)
        raise ConflictError(
            "draw.already_drawn",
            "this draw already ran with other values; a draw is never run again",
            "该抽查已按其他随机数完成抽取，不能重新抽取",
        )
    commitment = json.loads(row.commitment)
    published_on = commitment["randomness"]["published_on"]
    if at[:10] < published_on:
        raise ConflictError(
            "draw.values_not_published_yet",
            f"the source publishes its numbers on {published_on}; enter them after that",
            f"随机数来源将于 {published_on} 公布号码，请在公布后录入",
        )
    dirs = load(conn)
    file = run_draw(
        commitment=commitment,
        prepared=Prepared.from_dict(json.loads(row.inputs)),
        value_sets=values,
        draw_id=draw_id,
        drawn_at=at,
        entity_names={code: e.name for code, (_, e) in dirs.entities.items()},
    )
    ledger.append(conn, ledger_entries.draw_published(draw_id=draw_id, file=file, at=at))
    _send_tasks(conn, file, dirs)
    conn.execute(
        it.draws.update()
        .where(it.draws.c.id == draw_id)
        .values(
            state="published",
            random_values=canonical_text(values),
            file=canonical_text(file),
            drawn_at=at,
        )
    )
    return get(conn, draw_id)


def get(conn: Connection, draw_id: str) -> dict[str, Any]:
    row = _row(conn, draw_id)
    return {
        "id": row.id,
        "title": row.title,
        "state": row.state,
        "plan": json.loads(row.plan),
        "commitment": json.loads(row.commitment) if row.commitment else None,
        "random_values": json.loads(row.random_values) if row.random_values else None,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "committed_at": row.committed_at,
        "drawn_at": row.drawn_at,
    }


def listing(conn: Connection, *, published_only: bool = False) -> list[dict[str, Any]]:
    d = it.draws.c
    query = select(d.id, d.title, d.state, d.drawn_at, d.created_at).order_by(
        d.created_at.desc(), d.id
    )
    if published_only:
        query = query.where(d.state == "published")
    return [dict(r._mapping) for r in conn.execute(query)]


def published_file(conn: Connection, draw_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(it.draws.c.file).where(it.draws.c.id == draw_id, it.draws.c.state == "published")
    ).first()
    if row is None:
        raise _not_found(draw_id)
    return dict(json.loads(row.file))


def _send_tasks(conn: Connection, file: dict[str, Any], dirs: Directories) -> None:
    """Each assigned inspection to both inspectors' phones (a feed row each, only for them), with
    each one's PIN hash for the other's phone (``pins``)."""
    plan = file["commitment"]["plan"]
    matters = [
        {"id": m.code, "name": m.name, "basis": m.legal_basis}
        for code in plan["matters"]
        if (m := dirs.matters.get(code)) is not None
    ]
    for assigned in file["assignments"]["entities"]:
        key, entity = dirs.entities[assigned["entity"]]
        team = [dirs.inspectors[c] for c in assigned["inspectors"]]
        payload = {
            "task_id": f"{file['id']}/{entity.credit_code}",
            "kind": "inspection",
            "draw_id": file["id"],
            "plan_id": file["id"],
            "title": file["title"],
            "deadline": plan["deadline"],
            "entity": {
                "id": key,
                "name": entity.name,
                "credit_code": entity.credit_code,
                "address": entity.address,
                "village_id": entity.village,
            },
            "matters": matters,
            "inspectors": [
                {"id": k, "name": i.name, "cert_no": i.certificate, "username": u} for k, i, u in team
            ],
            "short_by": assigned["short_by"],
        }
        members = [username for _, _, username in team if username]
        for username in members:
            changes.publish(conn, topic="task", key=payload["task_id"], payload=payload, audience=username)
        pins.send_for_team(conn, members)


def _randomness(source: Any) -> dict[str, Any]:
    problems: list[Problem] = []
    if not isinstance(source, dict):
        source = {}
    try:
        published_on = date.fromisoformat(str(source.get("published_on")))
    except ValueError:
        published_on = None
        problems.append(
            Problem(
                "randomness.published_on",
                "draw.bad_date",
                "the day the source publishes its numbers must be a date as YYYY-MM-DD",
                "随机数公布日期须为 YYYY-MM-DD 格式",
            )
        )
    if problems or published_on is None:
        raise ValidationError.of(problems, code="draw.invalid_commitment")
    return randomness_source(
        str(source.get("description") or ""), published_on, source.get("value_sets")
    )


def _row(conn: Connection, draw_id: str) -> Any:
    row = conn.execute(select(it.draws).where(it.draws.c.id == draw_id)).first()
    if row is None:
        raise _not_found(draw_id)
    return row


def _not_found(draw_id: str) -> NotFoundError:
    return NotFoundError(
        "draw.not_found", f"there is no published draw {draw_id!r}", f"没有编号为 {draw_id} 的抽查"
    )


def _already(draw_id: str, state: str) -> ConflictError:
    return ConflictError(
        "draw.already_committed",
        f"draw {draw_id} is already {state} with another random source; it cannot change",
        f"抽查 {draw_id} 已按其他随机数来源提交，不能更改",
    )
