"""The one writer: every write of the server goes through it (group commit).

``write(engine, work)`` runs ``work(conn)`` in a write transaction of the engine's one
writer and answers its result once committed (or raises its error, nothing of it kept).
There is no other way to write: no plain write transactions, no retry loops elsewhere.

A request that writes hands its job (a function of the write connection) to the
``GroupWriter`` and waits. The writer takes every job queued so far, runs each
inside its own savepoint of ONE write transaction, commits once (one fsync for
all of them) and only then answers each waiter. So:

- every answer is given after the commit that made it durable: a job is never
  acknowledged before its rows and its ledger entry are on disk;
- each job is judged alone: a job that raises is rolled back to its savepoint and
  its waiter gets the exception, while the jobs before and after it are kept;
- a job sees the jobs before it in the same group (the same record sent twice
  at once is stored once, the second answer is a replay or a conflict);
- a unique-key refusal (a writer outside this process took the key first) rolls
  back the job's savepoint and judges it again, now seeing the other writer's row;
- if the transaction itself fails (the commit, the disk, the connection), every
  waiter of the group gets that error and nothing of the group is acknowledged.

On SQLite this also ends lock contention between request threads: concurrent
writers no longer sleep in SQLite's busy handler waiting for the write lock.
The thread and its connection go away after ``IDLE_SECONDS`` without work and come
back with the next job, so an engine that is no longer used holds nothing open.
A job must not itself call ``write``: it already runs on the writer's thread.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy.exc
from sqlalchemy import Connection, Engine

from server.infra.db import writer_connection

_T = TypeVar("_T")
MAX_GROUP = 64  # jobs per transaction: bounds how long the first waiter of a group waits
IDLE_SECONDS = 5.0
_ATTEMPTS = 3


@dataclass
class _Job:
    work: Callable[[Connection], Any]
    future: Future[Any] = field(default_factory=Future)


class GroupWriter:
    """A single writer thread for one engine; ``run`` and ``submit`` may be called from any thread."""

    def __init__(self, engine: Engine, *, max_group: int = MAX_GROUP) -> None:
        self._engine = weakref.ref(engine)  # the engine owns its writer, not the other way round
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._conn: Connection | None = None  # the writer thread's own, kept between groups

    @property
    def engine(self) -> Engine:
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the writer's engine is gone")
        return engine

    def run(self, work: Callable[[Connection], _T]) -> _T:
        """Run ``work`` in a group transaction; its result once committed, or its exception."""
        return self.submit(work).result()

    def submit(self, work: Callable[[Connection], _T]) -> Future[_T]:
        """Queue ``work``; the future completes after the commit (or with the job's error).

        A future cancelled before the writer reaches it is skipped: nothing of it is written.
        """
        job = _Job(work)
        with self._lock:
            if self._closed:
                raise RuntimeError("the group writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="group-writer", daemon=True)
                self._thread.start()
            self._queue.put(job)
        return job.future

    def close(self) -> None:
        """Finish the queued jobs, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if not self._queue.empty():
                        continue
                    self._thread = None  # the next submit starts a new one
                self._drop_connection()
                return
            if first is None:
                self._drop_connection()
                return
            jobs, stop = [first], False
            while len(jobs) < self.max_group:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                jobs.append(nxt)
            self._run_group([j for j in jobs if j.future.set_running_or_notify_cancel()])
            if stop:
                self._drop_connection()
                return

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: the pool discards it
                conn.close()

    def _run_group(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        outcomes: list[tuple[bool, Any]] = []
        try:
            if self._conn is None:
                self._conn = writer_connection(self.engine)
            with self._conn.begin():
                for job in jobs:
                    outcomes.append(_run_job(self._conn, job.work))
        except BaseException as exc:  # the transaction failed: no job of it is acknowledged
            self._drop_connection()  # it may be broken: the next group starts on a fresh one
            for job in jobs:
                job.future.set_exception(exc)
            return
        for job, (ok, value) in zip(jobs, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)


def _run_job(conn: Connection, work: Callable[[Connection], Any]) -> tuple[bool, Any]:
    """(True, result) with the job's writes kept, or (False, exception) with them rolled back."""
    for attempt in range(_ATTEMPTS):
        # Plain SQL savepoints (both backends): SQLAlchemy's nested transactions cost more than the job.
        conn.exec_driver_sql("SAVEPOINT group_job")
        try:
            result = work(conn)
        except Exception as exc:  # handed to the job's waiter
            conn.exec_driver_sql("ROLLBACK TO SAVEPOINT group_job")
            conn.exec_driver_sql("RELEASE SAVEPOINT group_job")
            if isinstance(exc, sqlalchemy.exc.IntegrityError) and attempt < _ATTEMPTS - 1:
                continue  # someone else took the key: judge again, now seeing their row
            return False, exc
        conn.exec_driver_sql("RELEASE SAVEPOINT group_job")
        return True, result
    raise AssertionError("unreachable")


_writers: weakref.WeakKeyDictionary[Engine, GroupWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def writer_for(engine: Engine) -> GroupWriter:
    """The engine's one writer (made on first use)."""
    with _writers_lock:
        writer = _writers.get(engine)
        if writer is None:
            writer = _writers[engine] = GroupWriter(engine)
        return writer


def write(engine: Engine, work: Callable[[Connection], _T]) -> _T:
    """Run ``work`` in a write transaction of the engine's one writer; its result once committed."""
    return writer_for(engine).run(work)
