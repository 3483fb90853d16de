"""Bounded read queries for the web console: window counts, per-hour series, failure groups.

Every query here is bounded: counts stop at ``cap`` rows (the console shows "100.000+"),
scans stop after ``scan`` rows and hand back a cursor to go on from, and each query has a
time budget on a connection of its own (``service.store.budget``). They are part of
the ``Store`` protocol (``service.store.protocol``); on SQLite they are ``ConsoleQueries``,
mixed into ``SQLiteStore``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from service.errors import StorageUnavailable
from service.store.records import EventRecord, FailureGroup, Filter, Page
from service.store.rows import scanned_page
from service.store.sqlite.console_reader import ConsoleReader
from service.store.sqlite.filters import delivery_where, event_where

_OUTCOME_SINCE = (
    "SELECT sink, status FROM deliveries INDEXED BY deliveries_status "
    "WHERE status = ? AND updated_at >= ? LIMIT ?"
)


class ConsoleQueries:
    """The console's reads on SQLite, on a connection of their own, within the budget."""

    _console: ConsoleReader | None

    async def _console_read(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        if self._console is None:
            raise StorageUnavailable("database is closed")
        return await self._console.read(sql, args)

    async def window_counts(self, since: float, cap: int) -> dict[str, int]:
        """Events received and deliveries succeeded/failed since ``since``; waiting now.

        Each count stops at ``cap``.
        """
        received = ("SELECT COUNT(*) FROM (SELECT 1 FROM events INDEXED BY events_received "
                    "WHERE received_at >= ? LIMIT ?)")
        by_status = ("SELECT COUNT(*) FROM (SELECT 1 FROM deliveries INDEXED BY deliveries_status "
                     "WHERE status = ? AND updated_at >= ? LIMIT ?)")
        out = {"received": (await self._console_read(received, [since, cap]))[0][0]}
        for status, key, start in (("succeeded", "delivered", since), ("failed", "failed", since),
                                   ("pending", "waiting", 0.0), ("disabled", "disabled", 0.0)):
            out[key] = (await self._console_read(by_status, [status, start, cap]))[0][0]
        return out

    async def hourly(self, since: float, cap: int) -> list[tuple[int, int, int]]:
        """Per hour since ``since`` (hour start, unix seconds): events received, dead letters.

        At most ``cap`` newest rows of each kind are counted.
        """
        events = ("SELECT CAST(received_at / 3600 AS INTEGER) AS h, COUNT(*) FROM ("
                  "SELECT received_at FROM events INDEXED BY events_received WHERE received_at >= ? "
                  "ORDER BY received_at DESC LIMIT ?) GROUP BY h")
        failed = ("SELECT CAST(updated_at / 3600 AS INTEGER) AS h, COUNT(*) FROM ("
                  "SELECT updated_at FROM deliveries INDEXED BY deliveries_status WHERE status = 'failed' "
                  "AND updated_at >= ? ORDER BY updated_at DESC LIMIT ?) GROUP BY h")
        got_e = {r[0]: r[1] for r in await self._console_read(events, [since, cap])}
        got_f = {r[0]: r[1] for r in await self._console_read(failed, [since, cap])}
        return [(h * 3600, got_e.get(h, 0), got_f.get(h, 0)) for h in sorted(set(got_e) | set(got_f))]

    async def sink_outcomes(self, since: float, cap: int) -> dict[str, tuple[int, int]]:
        """Per sink: deliveries succeeded and failed since ``since`` (each kind capped)."""
        out: dict[str, list[int]] = {}
        for index, status in enumerate(("succeeded", "failed")):
            sql = f"SELECT sink, COUNT(*) FROM ({_OUTCOME_SINCE}) GROUP BY sink"
            for row in await self._console_read(sql, [status, since, cap]):
                out.setdefault(row[0], [0, 0])[index] = row[1]
        return {sink: (ok, bad) for sink, (ok, bad) in out.items()}

    async def failure_groups(self, cap: int, limit: int) -> list[FailureGroup]:
        """Dead letters (the newest ``cap``) grouped by sink and error, largest group first."""
        sql = ("SELECT sink, last_error, COUNT(*) AS n, MAX(id) FROM ("
               "SELECT id, sink, last_error FROM deliveries INDEXED BY deliveries_status "
               "WHERE status = 'failed' ORDER BY updated_at DESC LIMIT ?) "
               "GROUP BY sink, last_error ORDER BY n DESC, sink LIMIT ?")
        rows = await self._console_read(sql, [cap, limit])
        return [FailureGroup(r[0], r[1], r[2], r[3]) for r in rows]

    async def scan_events(self, flt: Filter, contains: str | None, limit: int,
                          cursor: str | None, scan: int) -> Page[EventRecord]:
        """Events newest first matching ``flt`` (``status``: any of their deliveries has it)
        and whose body contains ``contains``, looking at no more than ``scan`` events.

        ``next`` is where to go on from, even when this page came back short.
        """
        where, args = event_where(flt, cursor)
        sql = ("SELECT id, source, external_id, event, sent_date, received_at, status, schema_error, "
               f"{_hit(flt, contains)} AS hit FROM events e WHERE {where} ORDER BY id DESC LIMIT ?")
        rows = await self._console_read(sql, [*_hit_args(flt, contains), *args, scan])
        return scanned_page(rows, limit, scan)

    async def delivery_summary(self, event_ids: list[int]) -> dict[int, dict[str, int]]:
        """For each event: how many of its deliveries are in each status."""
        if not event_ids:
            return {}
        marks = ",".join("?" * len(event_ids))
        sql = (f"SELECT event_id, status, COUNT(*) FROM deliveries WHERE event_id IN ({marks}) "
               "GROUP BY event_id, status")
        out: dict[int, dict[str, int]] = {}
        for row in await self._console_read(sql, list(event_ids)):
            out.setdefault(row[0], {})[row[1]] = row[2]
        return out

    async def event_bodies(self, event_ids: list[int], max_bytes: int) -> dict[int, bytes]:
        """The raw bodies of these events that are at most ``max_bytes`` long."""
        if not event_ids:
            return {}
        marks = ",".join("?" * len(event_ids))
        sql = f"SELECT id, body FROM events WHERE id IN ({marks}) AND length(body) <= ?"
        return {r[0]: bytes(r[1]) for r in await self._console_read(sql, [*event_ids, max_bytes])}

    async def count_deliveries(self, flt: Filter, cap: int) -> int:
        """How many deliveries match ``flt`` (what a bulk replay would touch), up to ``cap``."""
        where, args = delivery_where(flt, None)
        sql = ("SELECT COUNT(*) FROM (SELECT 1 FROM deliveries d JOIN events e ON e.id = d.event_id "
               f"WHERE {where} LIMIT ?)")
        return int((await self._console_read(sql, [*args, cap]))[0][0])


def _hit(flt: Filter, contains: str | None) -> str:
    parts = ["1"]
    if contains:
        parts.append("instr(e.body, CAST(? AS BLOB)) > 0")
    if flt.status:
        parts.append("EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = ?)")
    return " AND ".join(parts)


def _hit_args(flt: Filter, contains: str | None) -> list[Any]:
    return [v for v in (contains or None, flt.status) if v]
