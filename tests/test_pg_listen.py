"""The PostgreSQL listener stops when cancelled, whatever error psycopg turns the cancel into."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

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
