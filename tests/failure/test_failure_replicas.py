"""Two real ``ponte serve`` replicas on one PostgreSQL schema; one is SIGKILLed.

Promises checked, mid-burst and mid-drain:
- every event answered 200 (by either replica) is stored once;
- every delivery ends ``succeeded``, the dead replica's claims done by the survivor once
  their lease ran out;
- receivers get each event at least once; extra copies are bounded by what was in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from failkit import Ponte, Receiver, event_body, free_port, post_event, until, write_config

pytestmark = pytest.mark.slow

EVENTS = 200


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the shared database directly."""
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def pair(tmp_path: Path, pg_url: str, hook: str) -> tuple[Ponte, Ponte]:
    """Two replicas with the same config (and a 1 s lease) on one schema."""
    sinks = {"crm": {"type": "webhook", "url": hook, "concurrency": 4}}
    replicas = []
    for name in ("a", "b"):
        port = free_port()
        config = write_config(
            tmp_path, port, name=f"{name}.yaml", storage={"url": pg_url, "lease": "1s"}, sinks=sinks,
            routes=[{"name": "all", "events": ["*"], "to": ["crm"]}],
            delivery={"max_attempts": 50, "retry_schedule": ["200ms"], "timeout": "5s"})
        replicas.append(Ponte(tmp_path, config, port, stderr_name=f"{name}.log"))
    return replicas[0], replicas[1]


async def send_all(a: Ponte, b: Ponte, kill_after: int | None) -> dict[int, int]:
    """Post events 0..EVENTS-1 alternately to both; a refused post goes to the survivor."""
    acked: dict[int, int] = {}
    answered = itertools.count(1)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(EVENTS):
        queue.put_nowait(i)

    async def client(http: aiohttp.ClientSession, n: int) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            for target in ((a, b) if (i + n) % 2 else (b, a)):
                try:
                    status, payload = await post_event(http, target.url, event_body(i), timeout=10)
                except (TimeoutError, aiohttp.ClientError):
                    continue  # that replica is gone: Eduzz's retry reaches the other one
                if status == 200 and payload is not None:
                    acked[i] = payload["event_id"]
                    break
            if next(answered) == kill_after:
                a.kill()

    connector = aiohttp.TCPConnector(limit=10, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.wait_for(asyncio.gather(*(client(http, n) for n in range(10))), 120)
    return acked


async def check_everything_delivered(pg_url: str, receiver: Receiver, in_flight: int) -> None:
    """All deliveries succeed, each event arrives, extra copies stay within what was in flight."""
    def done() -> bool:
        return rows(pg_url, "SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [
            ("succeeded", EVENTS)]

    await until(done, 60, "every delivery succeeded on the survivor")
    never = [i for i in range(EVENTS) if receiver.arrivals[f"ev-{i}"] == 0]
    assert not never, f"stored but never delivered: {never}"
    extra = sum(n - 1 for n in receiver.arrivals.values() if n > 1)
    assert extra <= in_flight, (extra, in_flight)


async def test_replica_killed_mid_burst_loses_nothing(tmp_path, pg_url):
    """SIGKILL one replica after 80 answers; the other stores and delivers everything."""
    rng = random.Random(3)
    receiver = Receiver(delay=lambda: rng.uniform(0, 0.03))
    a, b = pair(tmp_path, pg_url, await receiver.start())
    try:
        a.start()
        b.start()
        await a.wait_ready()
        await b.wait_ready()
        acked = await send_all(a, b, kill_after=80)
        assert a.proc is not None and a.proc.returncode == -9, "replica a was not killed"
        assert len(acked) == EVENTS, "the survivor did not take the rest"
        in_flight = rows(pg_url, "SELECT COUNT(*) FROM deliveries WHERE status = 'sending'")[0][0]
        stored = dict(rows(pg_url, "SELECT external_id, id FROM events"))
        assert all(stored[f"ev-{i}"] == eid for i, eid in acked.items())
        assert len(stored) == EVENTS
        await check_everything_delivered(pg_url, receiver, in_flight)
        assert b.terminate() == 0, b.stderr()[-2000:]
        assert "Traceback" not in b.stderr()
    finally:
        a.kill()
        b.kill()
        await receiver.stop()


async def test_replica_killed_mid_drain_its_claims_go_to_the_survivor(tmp_path, pg_url):
    """SIGKILL one replica while both drain a backlog; its claims are finished by the other."""
    receiver = Receiver(delay=0.05)
    a, b = pair(tmp_path, pg_url, await receiver.start())
    try:
        a.start()
        b.start()
        await a.wait_ready()
        await b.wait_ready()
        assert len(await send_all(b, b, kill_after=None)) == EVENTS

        def draining() -> bool:
            return sum(receiver.arrivals.values()) >= 40

        await until(draining, 30, "the backlog started draining")
        a.kill()
        held = [r[0] for r in rows(pg_url, "SELECT id FROM deliveries WHERE status = 'sending'")]
        await check_everything_delivered(pg_url, receiver, len(held))
        left = rows(pg_url, "SELECT COUNT(*) FROM deliveries WHERE status <> 'succeeded'")
        assert left == [(0,)]
        assert '"deliveries_recovered"' in b.stderr() or not held, "no claim was taken back"
        assert b.terminate() == 0, b.stderr()[-2000:]
    finally:
        a.kill()
        b.kill()
        await receiver.stop()
