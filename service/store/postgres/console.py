"""The web console's bounded reads on PostgreSQL (part of the ``Store`` protocol).

As on SQLite: every count stops at ``cap`` rows (a ``LIMIT`` inside the count), every
list is a page, and ``scan_events`` looks at no more than ``scan`` events per call.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg.rows import dict_row

from service.store import budget
from service.store.postgres import sql as q
from service.store.postgres.reads import Reads
from service.store.records import EventRecord, FailureGroup, Filter, Page
from service.store.rows import scanned_page

_RECEIVED = "SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE received_at >= %s LIMIT %s) AS c"
_BY_STATUS = ("SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE status = %s "
              "AND updated_at >= %s LIMIT %s) AS c")
_HOURLY_EVENTS = """
SELECT floor(received_at / 3600)::bigint AS h, COUNT(*) FROM (
    SELECT received_at FROM events WHERE received_at >= %s ORDER BY received_at DESC LIMIT %s
) AS r GROUP BY h
"""
_HOURLY_FAILED = """
SELECT floor(updated_at / 3600)::bigint AS h, COUNT(*) FROM (
    SELECT updated_at FROM deliveries WHERE status = 'failed' AND updated_at >= %s
    ORDER BY updated_at DESC LIMIT %s
) AS r GROUP BY h
"""
_OUTCOMES = """
SELECT sink, COUNT(*) FROM (
    SELECT sink FROM deliveries WHERE status = %s AND updated_at >= %s LIMIT %s
) AS r GROUP BY sink
"""
_FAILURE_GROUPS = """
SELECT sink, last_error, COUNT(*) AS n, MAX(id) FROM (
    SELECT id, sink, last_error FROM deliveries WHERE status = 'failed'
    ORDER BY updated_at DESC LIMIT %s
) AS r GROUP BY sink, last_error ORDER BY n DESC, sink LIMIT %s
"""
_SUMMARY = ("SELECT event_id, status, COUNT(*) FROM deliveries WHERE event_id = ANY(%s) "
            "GROUP BY event_id, status")

_TIMEOUT = "SET LOCAL statement_timeout = {ms}"
_BODIES = "SELECT id, body FROM events WHERE id = ANY(%s) AND octet_length(body) <= %s"


class PgConsole(Reads):
    """Window counts, per-hour series, failure groups and event scans for the console, each
    within the console's budget (``service.store.budget``)."""

    _console_slots: asyncio.Semaphore | None = None

    async def window_counts(self, since: float, cap: int) -> dict[str, int]:
        """Events received and deliveries succeeded/failed since ``since``; waiting now.

        Each count stops at ``cap``.
        """
        out = {"received": await self._scalar(_RECEIVED, (since, cap))}
        for status, key, start in (("succeeded", "delivered", since), ("failed", "failed", since),
                                   ("pending", "waiting", 0.0), ("disabled", "disabled", 0.0)):
            out[key] = await self._scalar(_BY_STATUS, (status, start, cap))
        return out

    async def hourly(self, since: float, cap: int) -> list[tuple[int, int, int]]:
        """Per hour since ``since`` (hour start, unix seconds): events received, dead letters.

        At most ``cap`` newest rows of each kind are counted.
        """
        got_e = {int(r[0]): int(r[1]) for r in await self._console_all(_HOURLY_EVENTS, (since, cap))}
        got_f = {int(r[0]): int(r[1]) for r in await self._console_all(_HOURLY_FAILED, (since, cap))}
        return [(h * 3600, got_e.get(h, 0), got_f.get(h, 0)) for h in sorted(set(got_e) | set(got_f))]

    async def sink_outcomes(self, since: float, cap: int) -> dict[str, tuple[int, int]]:
        """Per sink: deliveries succeeded and failed since ``since`` (each kind capped)."""
        out: dict[str, list[int]] = {}
        for index, status in enumerate(("succeeded", "failed")):
            for row in await self._console_all(_OUTCOMES, (status, since, cap)):
                out.setdefault(row[0], [0, 0])[index] = int(row[1])
        return {sink: (ok, bad) for sink, (ok, bad) in out.items()}

    async def failure_groups(self, cap: int, limit: int) -> list[FailureGroup]:
        """Dead letters (the newest ``cap``) grouped by sink and error, largest group first."""
        rows = await self._console_all(_FAILURE_GROUPS, (cap, limit))
        return [FailureGroup(r[0], r[1], int(r[2]), int(r[3])) for r in rows]

    async def scan_events(self, flt: Filter, contains: str | None, limit: int,
                          cursor: str | None, scan: int) -> Page[EventRecord]:
        """Events newest first matching ``flt`` (``status``: any of their deliveries has it)
        and whose body contains ``contains``, looking at no more than ``scan`` events.

        ``next`` is where to go on from, even when this page came back short.
        """
        where, args = q.event_where(flt, cursor)
        hit, hit_args = _hit(flt, contains)
        sql = ("SELECT id, source, external_id, event, sent_date, received_at, status, "
               f"schema_error, {hit} AS hit FROM events e WHERE {where} ORDER BY id DESC LIMIT %s")
        rows = await self._console_dicts(sql, [*hit_args, *args, scan])
        return scanned_page(rows, limit, scan)

    async def delivery_summary(self, event_ids: list[int]) -> dict[int, dict[str, int]]:
        """For each event: how many of its deliveries are in each status."""
        if not event_ids:
            return {}
        out: dict[int, dict[str, int]] = {}
        for row in await self._console_all(_SUMMARY, (list(event_ids),)):
            out.setdefault(row[0], {})[row[1]] = int(row[2])
        return out

    async def event_bodies(self, event_ids: list[int], max_bytes: int) -> dict[int, bytes]:
        """The raw bodies of these events that are at most ``max_bytes`` long."""
        if not event_ids:
            return {}
        rows = await self._console_all(_BODIES, (list(event_ids), max_bytes))
        return {r[0]: bytes(r[1]) for r in rows}

    async def count_deliveries(self, flt: Filter, cap: int) -> int:
        """How many deliveries match ``flt`` (what a bulk replay would touch), up to ``cap``."""
        where, args = q.delivery_where(flt, None)
        sql = ("SELECT COUNT(*) FROM (SELECT 1 FROM deliveries d JOIN events e ON e.id = d.event_id "
               f"WHERE {where} LIMIT %s) AS c")
        return await self._scalar(sql, [*args, cap])

    async def _scalar(self, sql: str, args: Any) -> int:
        rows = await self._console_all(sql, args)
        return int(rows[0][0]) if rows else 0

    async def _console_all(self, sql: str, args: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self._console_rows(sql, args, None)]

    async def _console_dicts(self, sql: str, args: Any) -> list[dict[str, Any]]:
        return await self._console_rows(sql, args, dict_row)

    async def _console_rows(self, sql: str, args: Any, factory: Any) -> list[Any]:
        """A console query on at most ``budget.SLOTS`` pool connections at once, each stopped
        by ``statement_timeout`` after ``budget.SECONDS`` (ConsoleBusy)."""
        if self._console_slots is None:
            self._console_slots = asyncio.Semaphore(budget.SLOTS)
        async with budget.slot(self._console_slots), self._conn() as conn, conn.transaction():
            await conn.execute(_TIMEOUT.format(ms=int(budget.SECONDS * 1000)).encode())
            cur = conn.cursor(row_factory=factory) if factory else conn.cursor()
            try:
                await cur.execute(sql, args)
            except psycopg.errors.QueryCanceled:
                raise budget.busy() from None
            return list(await cur.fetchall())


def _hit(flt: Filter, contains: str | None) -> tuple[str, list[Any]]:
    """The per-row match (body bytes contain ``contains``; a delivery has ``status``)."""
    parts: list[str] = ["true"]
    args: list[Any] = []
    if contains:
        parts.append("position(%s::bytea IN e.body) > 0")
        args.append(contains.encode())
    if flt.status:
        parts.append("EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = %s)")
        args.append(flt.status)
    return " AND ".join(parts), args
