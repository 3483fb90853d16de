"""The PostgreSQL store's connection handling and its reads (the admin lists and gauges).

``PostgresStore`` (``store.py``) adds the life cycle and every write to this base.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout

from service.errors import StorageUnavailable
from service.store.postgres import sql as q
from service.store.postgres.url import one_line
from service.store.records import (
    DeliveryDetail,
    DeliveryRecord,
    EventDetail,
    EventRecord,
    Filter,
    Page,
)
from service.store.rows import (
    attempt_record,
    delivery_detail,
    delivery_record,
    event_detail,
    event_record,
    page_of,
)

_FAULTS = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, PoolClosed)
Conn = psycopg.AsyncConnection[Any]


class Reads:
    """Pooled connections, the query helpers, and every read of the Store protocol."""

    url: str
    _pool: AsyncConnectionPool[Conn] | None

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[Conn]:
        """A pooled autocommit connection; connection faults become StorageUnavailable.

        One statement is one transaction; ``conn.transaction()`` groups several.
        """
        if self._pool is None:
            raise StorageUnavailable("database is closed")
        try:
            async with self._pool.connection() as conn:
                yield conn
        except _FAULTS as exc:
            raise StorageUnavailable(f"database unavailable: {one_line(exc, self.url)}") from None

    # --- reads ---------------------------------------------------------------------

    async def list_events(self, flt: Filter, limit: int, cursor: str | None) -> Page[EventRecord]:
        """Events, newest first, one page at a time."""
        where, args = q.event_where(flt, cursor)
        sql = ("SELECT id, source, external_id, event, sent_date, received_at, status, "
               f"schema_error FROM events e WHERE {where} ORDER BY id DESC LIMIT %s")
        rows = await self._dicts(sql, [*args, limit + 1])
        return page_of([event_record(r) for r in rows], limit)

    async def get_event(self, event_id: int) -> EventDetail | None:
        """An event with its raw body, headers, deliveries and every attempt."""
        rows = await self._dicts("SELECT * FROM events WHERE id = %s", [event_id])
        if not rows:
            return None
        page = await self.list_deliveries(Filter(event_id=event_id), 1000, None)
        return event_detail(rows[0], [await self._with_attempts(d) for d in reversed(page.items)])

    async def list_deliveries(
        self, flt: Filter, limit: int, cursor: str | None
    ) -> Page[DeliveryRecord]:
        """Deliveries, newest first, one page at a time."""
        where, args = q.delivery_where(flt, cursor)
        sql = (f"SELECT {q.DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id "
               f"WHERE {where} ORDER BY d.id DESC LIMIT %s")
        rows = await self._dicts(sql, [*args, limit + 1])
        return page_of([delivery_record(r) for r in rows], limit)

    async def get_delivery(self, delivery_id: int) -> DeliveryDetail | None:
        """One delivery with its attempts."""
        sql = (f"SELECT {q.DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id "
               "WHERE d.id = %s")
        rows = await self._dicts(sql, [delivery_id])
        if not rows:
            return None
        delivery = delivery_record(rows[0])
        if delivery.event == "ponte.digest":
            return await self._with_attempts(delivery, await self.digest_contents(delivery_id))
        return await self._with_attempts(delivery)

    async def digest_contents(self, delivery_id: int) -> list[int]:
        """The event ids a digest delivery carried (empty for any other delivery)."""
        rows = await self._all(
            "SELECT event_id FROM deliveries WHERE digest_id = %s ORDER BY id", [delivery_id])
        return [r[0] for r in rows]

    async def _with_attempts(
        self, delivery: DeliveryRecord, digest_events: list[int] | msgspec.UnsetType = msgspec.UNSET
    ) -> DeliveryDetail:
        sql = ("SELECT number, started_at, duration_ms, outcome, status_code, error, response "
               "FROM attempts WHERE delivery_id = %s ORDER BY number")
        rows = await self._dicts(sql, [delivery.id])
        return delivery_detail(delivery, [attempt_record(r) for r in rows], digest_events)

    async def sink_states(self) -> dict[str, tuple[bool, str | None]]:
        """Every sink's stored disabled flag and reason."""
        rows = await self._all("SELECT sink, disabled, reason FROM sink_state", [])
        return {r[0]: (bool(r[1]), r[2]) for r in rows}

    async def backlog(self) -> list[tuple[str, int, float | None]]:
        """Per sink: deliveries not yet done (pending or sending) and the oldest one's creation."""
        sql = ("SELECT sink, COUNT(*), MIN(created_at) FROM deliveries "
               "WHERE status IN ('pending', 'sending') GROUP BY sink")
        return [(r[0], int(r[1]), r[2]) for r in await self._all(sql, [])]

    async def size_bytes(self) -> int:
        """The size of Ponte's tables and indexes in this schema."""
        row = await self._one(q.SIZE)
        return int(row[0]) if row else 0

    async def counts(self) -> dict[str, int]:
        """Deliveries by status (for status pages and tests)."""
        rows = await self._all("SELECT status, COUNT(*) FROM deliveries GROUP BY status", [])
        return {r[0]: int(r[1]) for r in rows}

    async def count_status(self, status: str, cap: int) -> int:
        """How many deliveries are in ``status``, up to ``cap`` (not the console's budget)."""
        sql = "SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE status = %s LIMIT %s) AS c"
        row = await self._one(sql, (status, cap))
        return int(row[0]) if row else 0

    async def _all(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        async with self._conn() as conn:
            cur = await conn.execute(sql, args)
            return list(await cur.fetchall())

    async def _one(self, sql: str, args: Any = None) -> tuple[Any, ...] | None:
        rows = await self._all(sql, args)
        return rows[0] if rows else None

    async def _dicts(self, sql: str, args: Any) -> list[dict[str, Any]]:
        async with self._conn() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql, args)
            return list(await cur.fetchall())

    async def _count(self, sql: str, args: Any) -> int:
        async with self._conn() as conn:
            cur = await conn.execute(sql, args)
            return cur.rowcount
