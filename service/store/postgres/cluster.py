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

log = structlog.get_logger("ponte.postgres")
RETRY = 2.0


async def listen_forever(url: str, on_message: Callable[[str], None]) -> None:
    """LISTEN on channel ``ponte``; call ``on_message(kind)`` for this schema's notifications."""
    while True:
        try:
            await _listen(url, on_message)
        except psycopg.Error as exc:
            _reraise_cancel(exc)
            log.warning("listen_lost", error=type(exc).__name__)
        await asyncio.sleep(RETRY)


def _reraise_cancel(exc: psycopg.Error) -> None:
    """A cancelled task stays cancelled, even when psycopg turned the cancel into its own error.

    psycopg cancels the query on the server when the coroutine waiting for it is cancelled,
    and raises ``QueryCanceled`` (a ``psycopg.Error``) instead of ``CancelledError``: caught
    as a lost connection, the listener would reconnect forever and stop would never return.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from exc


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
