"""The SQLite Store: WAL, ``synchronous=FULL``, one writer thread with group commit, one reader.

Writes go through ``Writer`` (one shared transaction per batch, a SAVEPOINT per job); the
jobs are in ``jobs.py``, the digest and report ones in ``digests.py``.
Reads use an aiosqlite connection of their own; WAL lets them run beside the writer.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from service.errors import StorageCorrupt, StorageUnavailable
from service.store.records import (
    AttemptResult,
    Claimed,
    DeliveryDetail,
    DeliveryRecord,
    EventDetail,
    EventRecord,
    Filter,
    NewDelivery,
    NewEvent,
    Page,
    Saved,
)
from service.store.rows import (
    attempt_record,
    delivery_detail,
    delivery_record,
    event_detail,
    event_record,
    page_of,
)
from service.store.sqlite.console import ConsoleQueries
from service.store.sqlite.console_reader import ConsoleReader
from service.store.sqlite.digest_verbs import DigestVerbs
from service.store.sqlite.filters import delivery_where, event_where
from service.store.sqlite.followups import cancel_others, promote
from service.store.sqlite.jobs import PURGEABLE, RecordJob, SaveJob, claim, probe, purge, reschedule
from service.store.sqlite.schema import check_ownership, migrate
from service.store.sqlite.sessions import SessionVerbs
from service.store.sqlite.writer import Writer, is_unavailable, unavailable

_CLAIM = """
UPDATE deliveries SET status = 'sending', updated_at = :now
WHERE id IN (
    SELECT d.id FROM deliveries d INDEXED BY deliveries_claim
    WHERE d.sink = :sink AND d.status = 'pending' AND d.next_attempt_at <= :now {ordered}
    ORDER BY d.tries > 0, d.next_attempt_at, d.id
    LIMIT :limit
)
RETURNING id
"""
_ORDERED = """AND NOT EXISTS (
        SELECT 1 FROM deliveries p WHERE p.sink = d.sink AND p.order_key = d.order_key
        AND p.id < d.id AND p.status IN ('pending', 'sending'))"""
_SCHEDULED = ("SELECT MIN(next_attempt_at) AS due FROM deliveries INDEXED BY deliveries_scheduled "
              "WHERE status = 'scheduled'")
_DUE_NOW = ("SELECT 1 FROM deliveries INDEXED BY deliveries_scheduled "
            "WHERE status = 'scheduled' AND next_attempt_at <= ? LIMIT 1")
_DELIVERY_COLUMNS = (
    "d.id, d.event_id, d.sink, d.route, d.status, d.attempt_count, d.next_attempt_at, "
    "d.last_error, e.event, e.source, e.external_id, d.created_at, d.updated_at, d.due_at"
)


class SQLiteStore(DigestVerbs, ConsoleQueries, SessionVerbs):
    """The Store on one SQLite file."""

    claims_at_save = True  # one process holds the file (its lock), so every claim is ours

    def __init__(self, path: str, *, max_pages: int | None = None, exclusive: bool = False) -> None:
        self.path = path
        self._max_pages = max_pages
        self._exclusive = exclusive
        self._lock: int | None = None
        self._writer = Writer(self._connect)
        self._reader: aiosqlite.Connection | None = None
        self._console: ConsoleReader | None = None  # the console's reads, apart (budgeted)

    # --- life cycle ----------------------------------------------------------------

    async def open(self) -> None:
        """Create or upgrade the database file, then start the writer and the reader."""
        parent = Path(self.path).parent
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create {parent}: {exc.strerror}") from None
        _private(self.path)
        if self._exclusive:
            self._lock = _lock(self.path)
        await self._writer.start()
        self._reader = await aiosqlite.connect(self.path)
        self._reader.row_factory = sqlite3.Row
        await self._reader.execute("PRAGMA query_only = ON")
        self._console = await ConsoleReader.open(self.path)

    async def close(self) -> None:
        """Commit what is queued and close both connections."""
        await self._writer.stop()
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        if self._console is not None:
            await self._console.close()
            self._console = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            check_ownership(conn)  # before any PRAGMA: a foreign file is left as it was
            _configure(conn, self._max_pages)
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            if is_unavailable(exc):
                raise StorageUnavailable(f"cannot open {self.path}: {exc}") from None
            raise StorageCorrupt(f"{self.path} is not a usable Ponte database: {exc}") from None
        except StorageCorrupt as exc:
            raise StorageCorrupt(f"{self.path}: {exc}") from None
        return conn

    async def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers a query and takes writes.

        While the last write failed (full disk, read-only file), a small probe write
        decides: ready again as soon as one succeeds.
        """
        try:
            await self._read_one("SELECT 1")
        except (sqlite3.Error, ValueError) as exc:
            raise unavailable(exc) from None
        if self._writer.failing is not None:
            await self._writer.run(probe)

    # --- ingest --------------------------------------------------------------------

    async def save_event(self, event: NewEvent, deliveries: list[NewDelivery]) -> Saved:
        """Store the event and its deliveries in one transaction, or find the original."""
        return await self._writer.run(SaveJob(event, deliveries))

    # --- worker --------------------------------------------------------------------

    async def recover(self) -> int:
        """Put deliveries a crash left ``sending`` back to ``pending``; return how many."""
        now = time.time()
        sql = "UPDATE deliveries SET status = 'pending', updated_at = ? WHERE status = 'sending'"
        return await self._writer.run(lambda conn: conn.execute(sql, (now,)).rowcount)

    async def claim_due(self, sink: str, now: float, limit: int, ordered: bool) -> list[Claimed]:
        """Mark up to ``limit`` due deliveries of ``sink`` as sending and return them."""
        sql = _CLAIM.format(ordered=_ORDERED if ordered else "")
        args = {"sink": sink, "now": now, "limit": limit}
        return await self._writer.run(lambda conn: claim(conn, sql, args))

    async def record_attempt(self, result: AttemptResult) -> None:
        """Keep the attempt and move its delivery to its new status, in one transaction.

        Lazy: it shares the next commit (the next event's, or a claim's) if one comes
        within a few milliseconds (``writer.LAZY``)."""
        await self._writer.run(RecordJob(result), lazy=True)

    async def release(self, delivery_ids: list[int]) -> None:
        """Give claimed deliveries back (shutdown, paused sink) without counting an attempt."""
        sql = "UPDATE deliveries SET status = 'pending' WHERE id = ? AND status = 'sending'"
        rows = [(i,) for i in delivery_ids]
        await self._writer.run(lambda conn: conn.executemany(sql, rows).rowcount)

    async def next_due(self, sinks: list[str]) -> float | None:
        """The earliest ``next_attempt_at`` of a pending delivery of these sinks."""
        if not sinks:
            return None
        # one MIN per (sink, first try or retry): each is a single step down deliveries_claim
        one = ("SELECT MIN(next_attempt_at) AS due FROM deliveries INDEXED BY deliveries_claim "
               "WHERE sink = ? AND status = 'pending' AND (tries > 0) = ?")
        sql = f"SELECT MIN(due) FROM ({' UNION ALL '.join([one] * (2 * len(sinks)))} UNION ALL {_SCHEDULED})"
        row = await self._read_one(sql, [v for sink in sinks for retry in (0, 1) for v in (sink, retry)])
        return row[0] if row else None

    # --- follow-ups (service.routing.followups) --------------------------------------

    async def promote_due(self, now: float, limit: int) -> tuple[int, int]:
        """Make due scheduled deliveries pending (disabled while their sink is); (done, late)."""
        # the usual case: nothing due, so no write at all. One step down the index: wrapping
        # MIN() in a subquery loses SQLite's min/max shortcut and scans every scheduled row
        # (40 ms a round with 300,000 of them, on every worker round; bench/followups.py)
        found = await self._read_one(_DUE_NOW, [now])
        if found is None:
            return 0, 0
        return await self._writer.run(lambda conn: promote(conn, now, limit))

    async def cancel_scheduled(self, keep: list[tuple[str, str]], reason: str) -> int:
        """Cancel scheduled deliveries of any (route, sink) not in ``keep``; return how many."""
        now = time.time()
        return await self._writer.run(lambda conn: cancel_others(conn, keep, reason, now))

    async def forget_cancellations(self, before: float) -> int:
        """Drop the cancelling keys kept from events received before ``before``."""
        sql = "DELETE FROM cancellations WHERE received_at < ?"
        return await self._writer.run(lambda conn: conn.execute(sql, (before,)).rowcount)

    # --- operations ----------------------------------------------------------------

    async def list_events(self, flt: Filter, limit: int, cursor: str | None) -> Page[EventRecord]:
        """Events, newest first, one page at a time."""
        where, args = event_where(flt, cursor)
        sql = (
            "SELECT id, source, external_id, event, sent_date, received_at, status, schema_error "
            f"FROM events e WHERE {where} ORDER BY id DESC LIMIT ?"
        )
        rows = await self._read_all(sql, [*args, limit + 1])
        return page_of([event_record(r) for r in rows], limit)

    async def get_event(self, event_id: int) -> EventDetail | None:
        """An event with its raw body, headers, deliveries and every attempt."""
        row = await self._read_one("SELECT * FROM events WHERE id = ?", [event_id])
        if row is None:
            return None
        page = await self.list_deliveries(Filter(event_id=event_id), 1000, None)
        return event_detail(row, [await self._with_attempts(d) for d in reversed(page.items)])

    async def list_deliveries(
        self, flt: Filter, limit: int, cursor: str | None
    ) -> Page[DeliveryRecord]:
        """Deliveries, newest first, one page at a time."""
        where, args = delivery_where(flt, cursor)
        sql = (
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id "
            f"WHERE {where} ORDER BY d.id DESC LIMIT ?"
        )
        rows = await self._read_all(sql, [*args, limit + 1])
        return page_of([delivery_record(r) for r in rows], limit)

    async def get_delivery(self, delivery_id: int) -> DeliveryDetail | None:
        """One delivery with its attempts (a digest's: and the events it carried)."""
        sql = (f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id "
               "WHERE d.id = ?")
        row = await self._read_one(sql, [delivery_id])
        if row is None:
            return None
        delivery = delivery_record(row)
        if delivery.event == "ponte.digest":
            return await self._with_attempts(delivery, await self.digest_contents(delivery_id))
        return await self._with_attempts(delivery)

    async def _with_attempts(
        self, delivery: DeliveryRecord, digest_events: list[int] | msgspec.UnsetType = msgspec.UNSET
    ) -> DeliveryDetail:
        sql = (
            "SELECT number, started_at, duration_ms, outcome, status_code, error, response "
            "FROM attempts WHERE delivery_id = ? ORDER BY number"
        )
        rows = await self._read_all(sql, [delivery.id])
        return delivery_detail(delivery, [attempt_record(r) for r in rows], digest_events)

    async def reschedule(self, flt: Filter, now: float, sinks: set[str]) -> tuple[int, int]:
        """Make matching deliveries pending now with a fresh retry budget.

        Deliveries of sinks not in ``sinks`` (removed from the config) are left alone.
        Returns (rescheduled, skipped).
        """
        where, args = delivery_where(flt, None)
        return await self._writer.run(lambda conn: reschedule(conn, where, args, now, sinks))

    async def set_sink_disabled(self, sink: str, disabled: bool, reason: str | None) -> int:
        """Disable a sink (its pending deliveries become ``disabled``) or enable it again.

        Returns how many deliveries changed status.
        """
        sql = (
            "INSERT INTO sink_state (sink, disabled, reason, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sink) DO UPDATE SET disabled = excluded.disabled, "
            "reason = excluded.reason, updated_at = excluded.updated_at"
        )
        now = time.time()
        args = (sink, int(disabled), reason, now)
        flip = ("UPDATE deliveries SET status = 'disabled', updated_at = ? WHERE sink = ? AND status = 'pending'"
                if disabled else
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ? "
                "WHERE sink = ? AND status = 'disabled'")
        flip_args = (now, sink) if disabled else (now, now, sink)

        def job(conn: sqlite3.Connection) -> int:
            conn.execute(sql, args)
            return conn.execute(flip, flip_args).rowcount

        return await self._writer.run(job)

    async def sink_states(self) -> dict[str, tuple[bool, str | None]]:
        """Every sink's stored disabled flag and reason."""
        rows = await self._read_all("SELECT sink, disabled, reason FROM sink_state", [])
        return {r["sink"]: (bool(r["disabled"]), r["reason"]) for r in rows}

    async def backlog(self) -> list[tuple[str, int, float | None]]:
        """Per sink: deliveries not yet done (pending or sending) and the oldest one's creation."""
        sql = (
            # by status first: the work follows the backlog, not the whole table
            "SELECT sink, COUNT(*), MIN(created_at) FROM deliveries INDEXED BY deliveries_status "
            "WHERE status IN ('pending', 'sending') GROUP BY sink"
        )
        return [(r[0], r[1], r[2]) for r in await self._read_all(sql, [])]

    async def dead_letters(self) -> dict[str, int]:
        """Per sink: deliveries that failed for good (status ``failed``)."""
        sql = "SELECT sink, COUNT(*) FROM deliveries WHERE status = 'failed' GROUP BY sink"
        return {r[0]: r[1] for r in await self._read_all(sql, [])}

    async def purge(self, before: float, batch: int) -> int:
        """Delete up to ``batch`` events received before ``before`` with nothing waiting
        (no delivery pending, sending, or disabled: waiting for its sink to be enabled)."""
        return await self._writer.run(lambda conn: purge(conn, before, batch))

    async def count_purgeable(self, before: float) -> int:
        """How many events ``purge`` would delete for ``before`` (a dry run)."""
        row = await self._read_one(f"SELECT COUNT(*) FROM events e WHERE {PURGEABLE}", [before])
        return int(row[0]) if row else 0

    async def size_bytes(self) -> int:
        """The size of the database file and its WAL."""
        return sum(_size(self.path + suffix) for suffix in ("", "-wal"))

    async def counts(self) -> dict[str, int]:
        """Deliveries by status (for status pages and tests)."""
        rows = await self._read_all("SELECT status, COUNT(*) FROM deliveries GROUP BY status", [])
        return {r[0]: r[1] for r in rows}

    async def count_status(self, status: str, cap: int) -> int:
        """How many deliveries are in ``status``, up to ``cap`` (on the main reader)."""
        sql = ("SELECT COUNT(*) FROM (SELECT 1 FROM deliveries INDEXED BY deliveries_status "
               "WHERE status = ? LIMIT ?)")
        row = await self._read_one(sql, [status, cap])
        return int(row[0]) if row else 0

    # --- reading -------------------------------------------------------------------

    async def _read_all(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        if self._reader is None:
            raise StorageUnavailable("database is closed")
        async with self._reader.execute(sql, args) as cur:
            return list(await cur.fetchall())

    async def _read_one(self, sql: str, args: list[Any] | None = None) -> sqlite3.Row | None:
        rows = await self._read_all(sql, args or [])
        return rows[0] if rows else None


# --- connection set-up ------------------------------------------------------------------


def _lock(path: str) -> int:
    """Hold ``<path>.lock`` so a second ``ponte serve`` on the same file refuses to start.

    Two services on one database would both recover and send the same deliveries.
    The kernel drops the lock when the process dies, so a crash never leaves it behind.
    """
    try:
        fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StorageUnavailable(f"cannot open {path}.lock: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StorageUnavailable(f"another Ponte is already serving {path}") from None
    return fd


def _private(path: str) -> None:
    """Create a missing database file 0600 (it holds buyers' personal data); SQLite gives
    its -wal and -shm files the same mode. An existing file is left as it is."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        pass  # it exists, or cannot be created here: then sqlite3.connect says why


def _configure(conn: sqlite3.Connection, max_pages: int | None) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    if max_pages is not None:
        conn.execute(f"PRAGMA max_page_count = {int(max_pages)}")


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
