"""Group commit: write jobs queued together share one transaction, yet each is judged alone."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy import Connection, Engine

from server import ledger
from server.infra.writer import GroupWriter
from xuncha_core import ledger_entries
from xuncha_core.canonical import canonical_text
from xuncha_core.ledger_entries import NewEntry


def _entry(name: object) -> NewEntry:
    """A ledger entry named ``name``, the same every time it is built (its salt is fixed)."""
    return ledger_entries.device_revoked(
        device_id=f"d-{name}", reason="test", by="test", at="2025-05-01T08:00:00+00:00",
        salt=str(name).encode().hex().ljust(32, "0")[:32],
    )


def _entries(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r.entry for r in conn.execute(sa.text("SELECT entry FROM ledger_entries ORDER BY idx"))]


def test_a_failing_job_is_rolled_back_alone_while_the_rest_of_its_group_is_committed_together(engine: Engine) -> None:
    writer = GroupWriter(engine)
    gate, waiting = threading.Event(), threading.Event()
    transactions: list[Any] = []

    def hold(conn: Connection) -> None:
        waiting.set()
        gate.wait(10)  # the jobs below queue up meanwhile, so they form one group

    def append(name: str, *, then_fail: bool = False):  # type: ignore[no-untyped-def]
        def job(conn: Connection) -> int:
            transactions.append(conn.get_transaction())
            receipt = ledger.append(conn, _entry(name))
            if then_fail:
                raise ValueError(f"{name} failed after writing")
            return receipt.index

        return job

    def duplicate_index(conn: Connection) -> None:
        transactions.append(conn.get_transaction())
        conn.execute(sa.text("INSERT INTO ledger_entries (idx, entry, leaf_hash, created_at) "
                             "VALUES (0, 'x', :h, 'now')"), {"h": b"\0" * 32})

    first = writer.submit(hold)
    assert waiting.wait(10)
    a = writer.submit(append("a"))
    b = writer.submit(append("b", then_fail=True))
    dup = writer.submit(duplicate_index)
    c = writer.submit(append("c"))
    assert not a.done()  # nothing is answered before its group commits
    gate.set()
    first.result(10)
    assert a.result(10) == 0 and c.result(10) == 1
    with pytest.raises(ValueError, match="b failed"):
        b.result(10)
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        dup.result(10)
    assert _entries(engine) == [canonical_text(_entry(n).committed) for n in ("a", "c")]
    assert len(transactions) >= 4 and all(tx is transactions[0] for tx in transactions)  # one transaction
    writer.close()


def test_many_threads_each_get_their_own_answer_and_every_answer_is_committed(engine: Engine) -> None:
    writer = GroupWriter(engine)
    answers: dict[int, int] = {}
    lock = threading.Lock()

    def work(i: int) -> None:
        index = writer.run(lambda conn: ledger.append(conn, _entry(i)).index)
        with lock:
            answers[i] = index

    threads = [threading.Thread(target=work, args=(i,)) for i in range(40)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    writer.close()
    stored = _entries(engine)
    assert len(stored) == 40 == len(answers)
    for i, index in answers.items():
        assert stored[index] == canonical_text(_entry(i).committed)


def test_a_closed_writer_refuses_new_jobs(engine: Engine) -> None:
    writer = GroupWriter(engine)
    assert writer.run(lambda conn: ledger.append(conn, _entry("only")).index) == 0
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(lambda conn: None)
