"""Replica coordination on PostgreSQL: wake-up hints (LISTEN/NOTIFY) and leadership.

Notifications are hints: a replica that misses one (reconnecting, or behind PgBouncer in
transaction mode, where LISTEN does not work) still finds the work by polling. Leadership
is a session advisory lock on a connection of its own: the lock goes when the job ends or
the replica dies, so another replica takes over at its next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import psycopg
import structlog

from service.cluster import stop_if_cancelled

log = structlog.get_logger("ponte.postgres")
RETRY = 2.0


async def listen_forever(url: str, on_message: Callable[[str], None]) -> None:
    """LISTEN on channel ``ponte``; call ``on_message(kind)`` for this schema's notifications."""
    while True:
        try:
            await _listen(url, on_message)
        except psycopg.Error as exc:
            stop_if_cancelled()  # psycopg may answer a cancel with its own error
            log.warning("listen_lost", error=type(exc).__name__)
        stop_if_cancelled()
        await asyncio.sleep(RETRY)


async def _listen(url: str, on_message: Callable[[str], None]) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute("SELECT current_schema()")
        row = await cur.fetchone()
        prefix = f"{row[0] if row else ''} "
        await conn.execute("LISTEN ponte")
        on_message("work")  # listening now; something may have happened while deaf: look once
        async for note in conn.notifies():
            if note.payload.startswith(prefix):
                on_message(note.payload[len(prefix):])


@contextlib.asynccontextmanager
async def leadership(url: str, name: str) -> AsyncIterator[bool]:
    """Yield True if this replica holds the ``name`` lock (one at a time), else False."""
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    except psycopg.Error:
        stop_if_cancelled()  # a cancel during the connect is not "not leading"
        yield False
        return
    async with conn:
        key = "hashtext(current_schema() || '/lead/' || %s)"
        cur = await conn.execute(f"SELECT pg_try_advisory_lock({key})", (name,))
        row = await cur.fetchone()
        leading = bool(row and row[0])
        try:
            yield leading
        finally:
            if leading and not conn.closed:
                with contextlib.suppress(psycopg.Error):
                    await conn.execute(f"SELECT pg_advisory_unlock({key})", (name,))
