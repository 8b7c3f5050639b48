"""The demo town's random-inspection directories and one completed, published draw.

Adds the entities and conflicts of ``assets/config/demo_inspections.json`` to the demo
town, then plans, commits and runs a draw through the same code as a real office:
committed 30 days before the demo's today, the named lottery published two days
later, the values entered the day after. Its inspections reach the officers' phones.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from server import ledger
from server.accounts.accounts import Actor
from server.inspections import draws
from server.inspections import tables as it
from server.reference import feed as changes
from xuncha_core import ledger_entries

DATA = Path(__file__).resolve().parents[2] / "assets" / "config" / "demo_inspections.json"
OFFICE = Actor(0, "zhou.hb", "周海波", "office_reviewer", "demo")


def fill(conn: Connection, *, today: date) -> dict[str, Any]:
    """Write the directories and the published draw; answer the draw."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for e in data["entities"]:
        changes.set_reference(
            conn,
            topic="entity",
            key=e["id"],
            payload={k: v for k, v in e.items() if k != "id"},
            by=None,
        )
    committed = today - timedelta(days=30)
    stamp = _stamp(committed)
    for c in data["conflicts"]:
        ledger.append(
            conn,
            ledger_entries.conflict_changed(
                inspector=c["inspector"],
                entity=c["entity"],
                kind=c["kind"],
                note=c["note"],
                by=OFFICE.username,
                at=stamp,
            ),
        )
        conn.execute(
            it.conflicts.insert().values(**c, updated_by=OFFICE.username, updated_at=stamp)
        )
    plan = {
        **data["plan"],
        "title": data["plan"]["title"].format(year=committed.year),
        "deadline": (committed + timedelta(days=90)).isoformat(),
    }
    draw = draws.create_plan(conn, data=plan, actor=OFFICE, at=stamp)
    published_on = committed + timedelta(days=2)
    source = {
        **data["randomness"],
        "published_on": published_on.isoformat(),
        "description": f"{data['randomness']['description']}，{published_on:%Y年%m月%d日}开奖",
    }
    draws.commit(conn, draw_id=draw["id"], source=source, at=stamp)
    return draws.enter_values(
        conn,
        draw_id=draw["id"],
        values=data["random_values"],
        at=_stamp(published_on + timedelta(days=1)),
    )


def _stamp(day: date) -> str:
    return (
        datetime.combine(day, time(9, 30), tzinfo=UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )
