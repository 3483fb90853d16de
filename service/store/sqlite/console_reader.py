"""The console's own SQLite read connection: one query at a time, each within its budget.

Probes, metrics and the worker read on the store's main reader, so a console scan never
queues in front of them; a scan past ``budget.SECONDS`` is interrupted by SQLite's
progress handler (``ConsoleBusy``).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import time
from typing import Any

import aiosqlite

from service.store import budget

_CHECK_EVERY = 1000  # SQLite VM steps between two looks at the clock


class ConsoleReader:
    """One read-only connection for the console, budgeted per query."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._slots = asyncio.Semaphore(1)
        self._deadline = math.inf

    @classmethod
    async def open(cls, path: str) -> ConsoleReader:
        """Connect read-only, with the budget's progress handler installed."""
        conn = await aiosqlite.connect(path)
        conn.row_factory = sqlite3.Row
        await conn.execute("PRAGMA query_only = ON")
        reader = cls(conn)
        await conn.set_progress_handler(reader._over, _CHECK_EVERY)
        return reader

    def _over(self) -> int:
        # runs in the connection's thread: non-zero interrupts the query
        return 1 if time.monotonic() > self._deadline else 0

    async def read(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        """All rows of one query, or ConsoleBusy past the queue wait or the budget."""
        async with budget.slot(self._slots):
            self._deadline = time.monotonic() + budget.SECONDS
            try:
                async with self._conn.execute(sql, args) as cur:
                    return list(await cur.fetchall())
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc):
                    raise budget.busy() from None
                raise
            finally:
                self._deadline = math.inf

    async def close(self) -> None:
        """Close the connection."""
        await self._conn.close()
