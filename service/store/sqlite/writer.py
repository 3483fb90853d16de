"""Group commit: one writer thread, one SQLite connection, many requests per commit.

Callers submit jobs (functions of a ``sqlite3.Connection``). The writer takes whatever
is queued as soon as the previous commit has returned, runs each job inside its own
SAVEPOINT (so one job's failure never rolls back another's rows), commits once, and
only then resolves every caller. With ``synchronous=FULL`` a resolved job is on disk.

Jobs that carry a ``many(conn, jobs)`` function (saving events) run together in a
few multi-row statements: the ``sqlite3`` module hands the GIL back and forth at every
statement, so fewer statements leave more of the GIL to the event loop. If such a group
fails, it is rolled back and run job by job, so still only the failing job fails.

A job may be ``lazy`` (recording a finished attempt): it does not start a transaction of
its own at once, but rides with the next job that does, or goes after ``LAZY`` seconds. At a
steady trickle of events each attempt's record then shares the next event's commit instead
of costing one of its own; the caller waits a few milliseconds longer for its answer.

The writer remembers whether its last batch could be written (``failing``): a full disk
or a read-only file makes ``/readyz`` answer 503 until a write succeeds again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from service.errors import StorageUnavailable

log = structlog.get_logger("ponte.storage")
T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
LAZY = 0.005  # seconds a lazy job waits for company before it commits alone

_UNAVAILABLE = ("full", "i/o", "readonly", "read-only", "unable to open", "locked", "closed")


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean the database cannot take writes now (not a bug of ours)."""
    if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc):
        return True
    return isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc).lower() for word in _UNAVAILABLE
    )


def unavailable(exc: BaseException) -> StorageUnavailable:
    """A StorageUnavailable naming the cause (SQLite messages never carry secrets)."""
    return StorageUnavailable(f"database unavailable: {exc}")


class Writer:
    """Runs write jobs on a dedicated thread, committing everything queued together."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="ponte-sqlite-writer")
        self._queue: list[tuple[Job, asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None  # commits lazy jobs left alone
        self.batches = 0
        self.failing: str | None = None  # why the last batch could not be written, if it could not

    async def start(self) -> None:
        """Open the connection on the writer thread and start committing."""
        loop = asyncio.get_running_loop()
        try:
            self._conn = await loop.run_in_executor(self._thread, self._connect)
        except BaseException:
            self._thread.shutdown(wait=False)
            raise
        self._task = asyncio.create_task(self._run(), name="ponte-sqlite-writer")

    async def stop(self) -> None:
        """Finish what is queued, then close the connection."""
        if self._task is not None:
            self._queue.append((_STOP, asyncio.get_running_loop().create_future()))
            self._wake.set()
            await self._task
            self._task = None
        if self._conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._conn.close)
            self._conn = None
        self._thread.shutdown(wait=True)

    async def run(self, job: Callable[[sqlite3.Connection], T], *, lazy: bool = False) -> T:
        """Run ``job`` in the next shared transaction; return once it is committed.

        ``lazy``: no hurry; it joins the next transaction another job starts, or one of its
        own after ``LAZY`` seconds."""
        if self._task is None:
            raise StorageUnavailable("database is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((job, future))
        if not lazy:
            self._wake.set()
        elif self._timer is None:
            self._timer = loop.call_later(LAZY, self._wake.set)
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._timer is not None:  # every lazy job queued so far goes now
                self._timer.cancel()
                self._timer = None
            batch, self._queue = self._queue, []
            stop = any(job is _STOP for job, _ in batch)
            batch = [(job, fut) for job, fut in batch if job is not _STOP]
            if batch:
                jobs = [job for job, _ in batch]
                try:
                    outcomes = await loop.run_in_executor(self._thread, self._commit, jobs)
                except Exception as exc:  # noqa: BLE001 - the writer must outlive any batch
                    outcomes = [(False, unavailable(exc))] * len(batch)
                _resolve(batch, outcomes)
                self._note(outcomes)
                self.batches += 1
            if stop:
                return

    def _note(self, outcomes: list[tuple[bool, Any]]) -> None:
        """Remember whether writes succeed (``/readyz`` reports it); log each change once."""
        if any(ok for ok, _ in outcomes):
            if self.failing is not None:
                log.info("storage_writes_recovered")
            self.failing = None
            return
        refused = next((v for ok, v in outcomes if isinstance(v, StorageUnavailable)), None)
        if refused is not None:
            if self.failing is None:
                log.error("storage_writes_failing", error=str(refused))
            self.failing = str(refused)

    def _commit(self, jobs: list[Job]) -> list[tuple[bool, Any]]:
        conn = self._conn
        assert conn is not None
        groups = _groups(jobs)
        try:
            conn.execute("BEGIN IMMEDIATE")
            whole = len(groups) == 1
            outcomes = [o for group in groups for o in _run_group(conn, group, whole=whole)]
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            return [(False, _wrap(exc))] * len(jobs)
        return outcomes


def _groups(jobs: list[Job]) -> list[list[Job]]:
    """Consecutive jobs that can run as one (same ``many`` function) grouped together."""
    groups: list[list[Job]] = []
    for job in jobs:
        many = getattr(job, "many", None)
        if groups and many is not None and getattr(groups[-1][0], "many", None) is many:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


def _run_group(conn: sqlite3.Connection, group: list[Job], *, whole: bool = False) -> list[tuple[bool, Any]]:
    """A group in a few statements; if any of it fails, each job alone (so only it fails).

    ``whole``: the group is the transaction's only content (the usual batch of saves), so
    the transaction itself is what gets undone, and no SAVEPOINT is needed.
    """
    if len(group) == 1:
        return [_run_job(conn, group[0])]
    if not whole:
        conn.execute("SAVEPOINT batch")
    try:
        results = group[0].many(conn, group)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - retried job by job below
        if not conn.in_transaction:
            raise
        for undo in ("ROLLBACK", "BEGIN IMMEDIATE") if whole else ("ROLLBACK TO batch", "RELEASE batch"):
            conn.execute(undo)
        return [_run_job(conn, job) for job in group]
    if not whole:
        conn.execute("RELEASE batch")
    return [(True, r) for r in results]


def _run_job(conn: sqlite3.Connection, job: Job) -> tuple[bool, Any]:
    conn.execute("SAVEPOINT job")
    try:
        result = job(conn)
    except Exception as exc:  # noqa: BLE001 - handed to the caller, who re-raises it
        if not conn.in_transaction:  # SQLite rolled the whole batch back (e.g. disk full)
            raise
        conn.execute("ROLLBACK TO job")
        conn.execute("RELEASE job")
        return False, _wrap(exc)
    conn.execute("RELEASE job")
    return True, result


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _wrap(exc: BaseException) -> BaseException:
    return unavailable(exc) if is_unavailable(exc) else exc


def _resolve(batch: list[tuple[Job, asyncio.Future[Any]]], outcomes: list[tuple[bool, Any]]) -> None:
    for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _STOP(conn: sqlite3.Connection) -> None:
    """Marker job: the writer stops after the batch that holds it."""
