"""The PostgreSQL listener stops when cancelled, whatever error psycopg turns the cancel into."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from service.operate import retention
from service.store.postgres import cluster


async def test_a_cancel_turned_into_query_canceled_still_stops_the_listener(monkeypatch):
    """psycopg may answer a cancel with QueryCanceled: the listener must not reconnect forever."""
    listening = asyncio.Event()

    async def listen(url, on_message):
        listening.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise psycopg.errors.QueryCanceled("canceling statement due to user request") from None

    monkeypatch.setattr(cluster, "_listen", listen)
    task = asyncio.create_task(cluster.listen_forever("postgresql://unused", lambda kind: None))
    await listening.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_a_lost_connection_is_retried(monkeypatch):
    """A real connection error (not a cancel) is logged and the listener tries again."""
    calls = 0

    async def listen(url, on_message):
        nonlocal calls
        calls += 1
        raise psycopg.OperationalError("connection lost")

    monkeypatch.setattr(cluster, "_listen", listen)
    monkeypatch.setattr(cluster, "RETRY", 0.01)
    task = asyncio.create_task(cluster.listen_forever("postgresql://unused", lambda kind: None))
    while calls < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_background_loops_stop_when_a_cancel_became_another_error(monkeypatch):
    """Retention's loop (and the others using stop_if_cancelled) ends on cancel, whatever
    error psycopg raised in its place, instead of sleeping for its next round."""
    started = asyncio.Event()

    class Leading:
        async def __aenter__(self):
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise psycopg.OperationalError("connection failed: cancelled") from None

        async def __aexit__(self, *exc):
            return False

    monkeypatch.setattr(retention, "leading", lambda store, name: Leading())
    task = asyncio.create_task(retention.run_forever(object(), lambda: 30))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
