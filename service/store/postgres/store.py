"""The PostgreSQL Store: psycopg 3 with its async pool; any number of replicas on one database.

Each call is one short transaction on a pooled connection. What makes replicas safe is in
the SQL (``sql.py``): dedup by the unique key (``ON CONFLICT DO NOTHING``), claims with
``FOR UPDATE SKIP LOCKED`` and a lease this process renews while it sends, order keys
checked against committed rows. A serving store (``exclusive=True``) runs one keeper task:
it renews its own leases and hands back claims whose lease ran out (a replica died).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from service.errors import StorageUnavailable
from service.store.followups import LATE, lock_id
from service.store.postgres import sql as q
from service.store.postgres.batch import Batcher
from service.store.postgres.cluster import leadership, listen_forever
from service.store.postgres.console import PgConsole
from service.store.postgres.digests import PgDigestVerbs
from service.store.postgres.reads import Conn
from service.store.postgres.schema import migrate
from service.store.postgres.sessions import PgSessions
from service.store.postgres.url import describe, one_line, split_prepare
from service.store.records import AttemptResult, Claimed, Filter, NewDelivery, NewEvent, Saved

log = structlog.get_logger("ponte.postgres")


class PostgresStore(PgDigestVerbs, PgConsole, PgSessions):
    """The Store on one PostgreSQL database (or one schema of it, by ``search_path``)."""

    claims_at_save = False  # a claim names its replica and holds a lease: only claim_due makes one

    def __init__(self, url: str, *, exclusive: bool = False, lease: float = 30.0,
                 pool_size: int = 10, timeout: float = 5.0) -> None:
        self.url, self._prepare = split_prepare(url)
        self.owner = uuid.uuid4().hex[:16]  # this process, in ``claimed_by``
        self.lease = lease
        self._serving = exclusive
        self._timeout = timeout
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._pool_size = pool_size
        self._tasks: list[asyncio.Task[None]] = []
        # group commit: ingest's saves, the worker's attempt records
        self._saves = Batcher(q.SAVE, self._conn, lambda a: (a["source"], a["external_id"], a["event"]),
                              prelude=lock_keys)
        self._records = Batcher(q.RECORD, self._conn, lambda a: a["id"])

    # --- life cycle ----------------------------------------------------------------

    async def open(self) -> None:
        """Connect, apply missing migrations under the migration lock, start the keeper."""
        try:  # one plain attempt first: a wrong password or host fails at once, in one line
            async with await psycopg.AsyncConnection.connect(
                    self.url, connect_timeout=max(1, int(self._timeout))) as conn:
                applied = await migrate(conn)
        except psycopg.Error as exc:
            raise StorageUnavailable(
                f"cannot connect to PostgreSQL {describe(self.url)}: {one_line(exc, self.url)}") from None
        if applied:
            log.info("schema_migrated", versions=applied)
        self._pool = AsyncConnectionPool(
            self.url, min_size=1, max_size=self._pool_size, open=False, timeout=self._timeout,
            name="ponte", reconnect_timeout=3600 * 24 * 365,
            kwargs={"autocommit": True, "prepare_threshold": self._prepare})
        await self._pool.open()
        self._saves.start()
        self._records.start()
        if self._serving:
            self._tasks.append(asyncio.create_task(self._keep_leases(), name="ponte-leases"))

    async def close(self) -> None:
        """Stop the keeper and listeners, then close every connection."""
        await self._saves.stop()
        await self._records.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers a query."""
        await self._one("SELECT 1")

    # --- ingest --------------------------------------------------------------------

    async def save_event(self, event: NewEvent, deliveries: list[NewDelivery]) -> Saved:
        """Store the event and its deliveries in one transaction, or find the original."""
        args = {"source": _text(event.source), "external_id": _text(event.external_id),
                "event": _text(event.event), "sent_date": _text(event.sent_date),
                "t": event.received_at, "status": event.status,
                "headers": msgspec.json.encode(event.headers).decode(),
                "schema_error": _text(event.schema_error), "body": event.body,
                "sinks": [d.sink for d in deliveries], "routes": [d.route for d in deliveries],
                "statuses": [d.status for d in deliveries],
                "keys": [d.order_key for d in deliveries],
                "digests": [d.digest for d in deliveries],
                "dues": [d.due_at for d in deliveries], "ckeys": [d.cancel_key for d in deliveries],
                "cancel_keys": [c.key for c in event.cancels],
                "whys": [_text(c.why) for c in event.cancels]}
        row = await self._saves.run(args)
        if row is not None:
            return Saved(row[0], duplicate=False, cancelled=int(row[2]))
        found = await self._one(q.FIND, (args["source"], args["external_id"], args["event"]))
        if found is None:  # stored and purged in between: vanishingly rare, but never wrong
            raise StorageUnavailable("the event was stored and removed meanwhile; retry")
        return Saved(found[0], duplicate=True)

    # --- worker --------------------------------------------------------------------

    async def recover(self) -> int:
        """Put back to ``pending`` the claims whose lease ran out; live replicas' claims stay."""
        return await self._count(q.REAP, (time.time(),))

    async def claim_due(self, sink: str, now: float, limit: int, ordered: bool) -> list[Claimed]:
        """Mark up to ``limit`` due deliveries of ``sink`` as sending (leased to us); return them."""
        sql = q.CLAIM.format(ordered=q.ORDERED if ordered else "")
        args = {"sink": sink, "now": now, "limit": limit, "owner": self.owner, "lease": self.lease}
        rows = await self._all(sql, args)
        rows.sort(key=lambda r: (r[5] > 0, r[12], r[0]))
        return [_claimed(r) for r in rows]

    async def record_attempt(self, result: AttemptResult) -> None:
        """Keep the attempt and move its delivery to its new status, in one transaction."""
        r = result
        await self._records.run({
            "status": r.status, "reset": r.reset_tries, "next": r.next_attempt_at,
            "error": r.error, "now": time.time(), "id": r.delivery_id, "started": r.started_at,
            "ms": r.duration_ms, "outcome": r.outcome, "code": r.status_code,
            "response": r.response})

    async def release(self, delivery_ids: list[int]) -> None:
        """Give claimed deliveries back (shutdown, paused sink) without counting an attempt."""
        await self._count(q.RELEASE, (delivery_ids,))

    async def next_due(self, sinks: list[str]) -> float | None:
        """The earliest ``next_attempt_at`` of a pending delivery of these sinks."""
        if not sinks:
            return None
        row = await self._one(q.NEXT_DUE, (sinks,))
        return None if row is None else row[0]

    # --- follow-ups (service.routing.followups) --------------------------------------

    async def promote_due(self, now: float, limit: int) -> tuple[int, int]:
        """Make due scheduled deliveries pending (by the earlier clock: ours, the database's)."""
        rows = await self._all(q.PROMOTE, {"now": now, "limit": limit})
        if rows:
            await self.notify("work")
        return len(rows), sum(1 for due, at in rows if at - due > LATE)

    async def cancel_scheduled(self, keep: list[tuple[str, str]], reason: str) -> int:
        """Cancel scheduled deliveries of any (route, sink) not in ``keep``; return how many."""
        routes, sinks = [r for r, _ in keep], [k for _, k in keep]
        return await self._count(q.CANCEL_OTHERS, (reason, time.time(), routes, sinks))

    async def forget_cancellations(self, before: float) -> int:
        """Drop the cancelling keys kept from events received before ``before``."""
        return await self._count("DELETE FROM cancellations WHERE received_at < %s", (before,))

    async def renew_leases(self) -> int:
        """Extend the lease of every claim this process holds; return how many."""
        return await self._count(q.RENEW, (self.lease, self.owner))

    async def _keep_leases(self) -> None:
        """Renew this replica's leases and take back expired ones, every third of a lease."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.renew_leases()
                reaped = await self.recover()
            except StorageUnavailable as exc:
                log.warning("lease_renewal_failed", error=str(exc))
                continue
            if reaped:
                log.warning("deliveries_recovered", count=reaped, reason="lease expired")

    # --- cluster helpers (PostgreSQL only) -----------------------------------------

    async def reserve_rate(self, sink: str, per_second: float) -> float:
        """Reserve the sink's next start, cluster-wide; return how many seconds to wait for it."""
        row = await self._one(q.RESERVE, {"sink": sink, "gap": 1.0 / per_second})
        return max(0.0, row[0]) if row else 0.0

    async def busy_hit(self, target: str, limit: int, window: float) -> bool:
        """Count one event for a when_busy ``target``, cluster-wide (the database's clock);
        True when more than ``limit`` fell within the last ``window`` seconds."""
        args = {"target": target, "window": window}
        async with self._conn() as conn, conn.transaction():
            for step in (q.BUSY_LOCK, q.BUSY_FORGET, q.BUSY_MARK):
                await conn.execute(step, args)
            row = await (await conn.execute(q.BUSY_COUNT, args)).fetchone()
        return row is not None and int(row[0]) > limit

    async def notify(self, kind: str) -> None:
        """Tell every replica (LISTEN/NOTIFY) that ``kind`` changed: work, sinks, reload."""
        async with self._conn() as conn:
            await conn.execute(q.NOTIFY, (kind,))

    def listen(self, on_message: Callable[[str], None]) -> None:
        """Call ``on_message(kind)`` for every notification of this schema (a hint, not a queue)."""
        self._tasks.append(asyncio.create_task(listen_forever(self.url, on_message),
                                               name="ponte-listen"))

    def lead(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """``async with store.lead("retention") as leading``: True in one replica at a time."""
        return leadership(self.url, name)

    # --- operations ----------------------------------------------------------------

    async def reschedule(self, flt: Filter, now: float, sinks: set[str]) -> tuple[int, int]:
        """Make matching deliveries pending now with a fresh retry budget.

        Deliveries of sinks not in ``sinks`` (removed from the config) are left alone.
        Returns (rescheduled, skipped).
        """
        where, args = q.delivery_where(flt, None)
        match = f"FROM deliveries d JOIN events e ON e.id = d.event_id WHERE {where} AND d.status != 'sending'"
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                f"UPDATE deliveries SET status = 'pending', tries = 0, next_attempt_at = %s, "
                f"updated_at = %s WHERE id IN (SELECT d.id {match} AND d.sink = ANY(%s))",
                [now, now, *args, sorted(sinks)])
            done = cur.rowcount
            cur = await conn.execute(f"SELECT COUNT(*) {match} AND NOT d.sink = ANY(%s)",
                                     [*args, sorted(sinks)])
            skipped = (await cur.fetchone() or (0,))[0]
            if done:
                await conn.execute(q.NOTIFY, ("work",))
        return done, int(skipped)

    async def set_sink_disabled(self, sink: str, disabled: bool, reason: str | None) -> int:
        """Disable a sink (its pending deliveries become ``disabled``) or enable it again.

        Returns how many deliveries changed status. Every replica is told (``sinks``).
        """
        now = time.time()
        flip = ("UPDATE deliveries SET status = 'disabled', updated_at = %s "
                "WHERE sink = %s AND status = 'pending'" if disabled else
                "UPDATE deliveries SET status = 'pending', next_attempt_at = %s, updated_at = %s "
                "WHERE sink = %s AND status = 'disabled'")
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO sink_state (sink, disabled, reason, updated_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (sink) DO UPDATE SET disabled = EXCLUDED.disabled, "
                "reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at",
                (sink, disabled, reason, now))
            cur = await conn.execute(flip, (now, sink) if disabled else (now, now, sink))
            await conn.execute(q.NOTIFY, ("sinks",))
            return cur.rowcount

    async def purge(self, before: float, batch: int) -> int:
        """Delete up to ``batch`` events received before ``before`` with nothing left to send."""
        return await self._count(q.PURGE, (before, batch))

    async def count_purgeable(self, before: float) -> int:
        """How many events ``purge`` would delete for ``before`` (a dry run)."""
        row = await self._one(q.COUNT_PURGEABLE, (before,))
        return int(row[0]) if row else 0

    async def dead_letters(self) -> dict[str, int]:
        """Per sink: deliveries that failed for good (status ``failed``)."""
        return {r[0]: int(r[1]) for r in await self._all(q.DEAD_LETTERS, [])}

def lock_keys(batch: list[dict[str, Any]]) -> tuple[str, tuple[Any, ...]] | None:
    """The statement that locks a batch's correlation keys, in one order (None: no keys)."""
    keys = {k for args in batch for k in (*args["ckeys"], *args["cancel_keys"]) if k is not None}
    return (q.LOCK_KEYS, (sorted(lock_id(k) for k in keys),)) if keys else None


def _claimed(r: tuple[Any, ...]) -> Claimed:
    return Claimed(id=r[0], event_id=r[1], sink=r[2], route=r[3], attempt_count=r[4], tries=r[5],
                   source=r[6], event=r[7], external_id=r[8], sent_date=r[9], received_at=r[10],
                   body=bytes(r[11]))


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL (SQLite can): it becomes U+FFFD; the raw body keeps it."""
    return value.replace("\x00", "\ufffd") if value is not None and "\x00" in value else value
