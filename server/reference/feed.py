"""The pull feed: reference data and review decisions, in server sequence order.

Phones pull ``changes`` rows after the last sequence number they stored
(``pull``); a deletion is a tombstone row (``deleted`` true, no payload), so a
phone that was offline for a month still learns that a village was removed.
A row with an ``audience`` reaches only that user (review decisions reach the
record's author); the others reach every signed-in device.

Reference data (villages, scoring sheets, cleaners, the entity and inspector
directories, tasks, settings) is written by ``set_reference`` and
``delete_reference``: one changes row and one ``reference.changed`` ledger entry
in the same transaction. ``current`` folds the feed into the present state.

Why cursors never skip a row: every writer appends its ledger entry *before* it
inserts its changes row. The ledger append serialises writers (SQLite's write
lock, PostgreSQL's advisory lock, both held to commit), so sequence numbers are
handed out in commit order and a reader that has seen ``seq`` N will never later
find a committed row below N.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, func, select

from server import ledger
from server.accounts.accounts import Actor
from server.infra import clock
from server.infra import tables as t
from server.infra.db import inserted_id
from server.reference.shapes import ChangesPage, Item, ItemWritten
from xuncha_core import json_limits, ledger_entries
from xuncha_core.canonical import canonical_bytes, canonical_text
from xuncha_core.errors import NotFoundError, ValidationError

REFERENCE_TOPICS: dict[str, str] = {
    "village": "村（社区）",
    "scoring_sheet": "考核评分表",
    "cleaner": "保洁员",
    "entity": "检查对象",
    "inspector": "执法检查人员",
    "task": "检查任务",
    "setting": "设置",
}
MAX_PAYLOAD_BYTES = json_limits.MAX_DOCUMENT_BYTES
MAX_KEY = 128
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


def publish(
    conn: Connection,
    *,
    topic: str,
    key: str,
    payload: dict[str, Any] | None,
    audience: str | None = None,
) -> int:
    """Add one row to the feed (a tombstone when ``payload`` is None); answer its sequence number.

    The caller must already have appended its ledger entry in this transaction
    (see the module docstring for why).
    """
    result = conn.execute(
        t.changes.insert().values(
            topic=topic,
            key=key,
            audience=audience,
            payload=None if payload is None else canonical_text(payload),
            deleted=payload is None,
            created_at=clock.timestamp(),
        )
    )
    return inserted_id(result)


def pull(conn: Connection, *, username: str, after: int = 0, limit: int = DEFAULT_LIMIT) -> ChangesPage:
    """The next page of the feed for ``username``: ``{changes, next, more}``.

    ``next`` is the cursor to send as ``after`` for the following page (store it
    only once the page itself is stored).
    """
    limit = max(1, min(limit, MAX_LIMIT))
    c = t.changes
    rows = conn.execute(
        select(c.c.seq, c.c.topic, c.c.key, c.c.payload, c.c.deleted)
        .where(c.c.seq > bindparam("after", after, type_=BigInteger), (c.c.audience.is_(None)) | (c.c.audience == username))
        .order_by(c.c.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "changes": [
            {
                "seq": int(r.seq),
                "topic": r.topic,
                "key": r.key,
                "payload": None if r.payload is None else json.loads(r.payload),
                "deleted": bool(r.deleted),
            }
            for r in rows
        ],
        "next": int(rows[-1].seq) if rows else after,
        "more": more,
    }


def current(conn: Connection, *, topic: str) -> list[Item]:
    """The present state of one reference topic: each live key with its latest payload, by key."""
    _check_topic(topic)
    c = t.changes
    latest = (
        select(func.max(c.c.seq).label("seq"))
        .where(c.c.topic == topic, c.c.audience.is_(None))
        .group_by(c.c.key)
        .subquery()
    )
    rows = conn.execute(
        select(c.c.seq, c.c.key, c.c.payload)
        .join(latest, latest.c.seq == c.c.seq)
        .where(c.c.deleted.is_(False))
        .order_by(c.c.key)
    ).all()
    return [{"key": r.key, "seq": int(r.seq), "payload": json.loads(r.payload)} for r in rows]


def set_reference(conn: Connection, *, topic: str, key: str, payload: Any, by: Actor | None) -> tuple[int, ItemWritten]:
    """Set one reference item; answer (201, row) when it changed, (200, row) when it already was so."""
    _check_topic(topic)
    _check_key(key)
    _check_payload(payload)
    latest = _latest(conn, topic=topic, key=key)
    if latest is not None and not latest.deleted and canonical_bytes(json.loads(latest.payload)) == canonical_bytes(payload):
        return 200, _row(latest.seq, topic, key, payload, deleted=False, changed=False)
    seq = _record(conn, topic=topic, key=key, payload=payload, by=by)
    return 201, _row(seq, topic, key, payload, deleted=False, changed=True)


def delete_reference(conn: Connection, *, topic: str, key: str, by: Actor | None) -> ItemWritten:
    """Delete one reference item (a tombstone in the feed); deleting it again is a no-op."""
    _check_topic(topic)
    _check_key(key)
    latest = _latest(conn, topic=topic, key=key)
    if latest is None:
        raise NotFoundError(
            "reference.not_found",
            f"There is no {topic} with key {key!r}.",
            f"没有键为 {key} 的{REFERENCE_TOPICS[topic]}。",
        )
    if latest.deleted:
        return _row(latest.seq, topic, key, None, deleted=True, changed=False)
    seq = _record(conn, topic=topic, key=key, payload=None, by=by)
    return _row(seq, topic, key, None, deleted=True, changed=True)


def _record(conn: Connection, *, topic: str, key: str, payload: dict[str, Any] | None, by: Actor | None) -> int:
    ledger.append(
        conn,
        ledger_entries.reference_changed(
            topic=topic, key=key, payload=payload, by=by.username if by else "cli", at=clock.timestamp()
        ),
    )
    return publish(conn, topic=topic, key=key, payload=payload)


def _latest(conn: Connection, *, topic: str, key: str) -> Any:
    c = t.changes
    return conn.execute(
        select(c.c.seq, c.c.payload, c.c.deleted)
        .where(c.c.topic == topic, c.c.key == key, c.c.audience.is_(None))
        .order_by(c.c.seq.desc())
        .limit(1)
    ).first()


def _row(seq: int, topic: str, key: str, payload: Any, *, deleted: bool, changed: bool) -> ItemWritten:
    return {"seq": int(seq), "topic": topic, "key": key, "payload": payload, "deleted": deleted, "changed": changed}


def _check_topic(topic: str) -> None:
    if topic not in REFERENCE_TOPICS:
        raise NotFoundError(
            "reference.unknown_topic",
            f"Unknown reference topic {topic!r}; use one of {', '.join(REFERENCE_TOPICS)}.",
            f"未知的基础数据类别，可用：{'、'.join(REFERENCE_TOPICS.values())}。",
        )


def _check_key(key: str) -> None:
    if (
        not key
        or len(key) > MAX_KEY
        or json_limits.text_problem(key) is not None
        or any(ord(ch) < 32 or ch == "\x7f" for ch in key)
        or key != key.strip()
    ):
        raise ValidationError(
            "reference.bad_key",
            f"A key must be 1 to {MAX_KEY} printable characters with no leading or trailing spaces.",
            f"键须为 1 到 {MAX_KEY} 个可见字符，首尾不能有空格。",
        )


def _check_payload(payload: Any) -> None:
    """Refuse, before anything is written, a payload that could not be stored, hashed or served
    back in the pull feed: not an object, too deep, too large, or holding text that is not Unicode."""
    if not isinstance(payload, dict):
        raise ValidationError(
            "reference.bad_payload",
            "The payload must be a JSON object.",
            "基础数据内容必须是 JSON 对象。",
        )
    problems = json_limits.document_problems(payload, max_bytes=MAX_PAYLOAD_BYTES)
    if problems:
        summary = "; ".join(f"{p.path or 'payload'}: {p.message}" for p in problems[:3])
        summary_zh = "；".join(f"{p.path or '内容'}：{p.message_zh}" for p in problems[:3])
        raise ValidationError(
            "reference.bad_payload",
            f"The payload cannot be kept: {summary}. Nothing was changed.",
            f"基础数据内容无法保存：{summary_zh}。未做任何更改。",
            {"problems": [p.as_dict() for p in problems]},
        )
