"""Crash: SIGKILL a real ``ponte serve`` in the middle of a burst, restart it, count what happened.

Promises checked:
- every event answered 200 is in the events table after the crash (nothing acknowledged is lost);
- every stored event reaches the receiver at least once after the restart;
- Eduzz's resends of the unanswered events are stored once (accepted or duplicate), never twice.
The number of events the receiver got more than once is the at-least-once window; it is
printed (run with ``-s``) and kept in the JUnit report as ``crash_duplicates``.
"""

from __future__ import annotations

import asyncio
import random

import aiohttp
import pytest

from failkit import (
    Ponte,
    Receiver,
    event_body,
    free_port,
    post_event,
    query,
    until,
    write_config,
)

pytestmark = pytest.mark.slow

EVENTS = 300
CLIENTS = 20
KILL_AFTER = 150


async def burst(url: str, proc: Ponte, acked: dict[int, int], answered: list[int]) -> None:
    """20 clients send events 0..299; the 150th answer triggers SIGKILL."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(EVENTS):
        queue.put_nowait(i)

    async def client(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            try:
                status, payload = await post_event(http, url, event_body(i), timeout=10)
            except (TimeoutError, aiohttp.ClientError):
                return  # the server is gone: this client stops, as Eduzz's would until its retry
            answered.append(i)
            if status == 200:
                assert payload is not None
                acked[i] = payload["event_id"]
            if len(answered) == KILL_AFTER:
                proc.kill()

    connector = aiohttp.TCPConnector(limit=CLIENTS, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.wait_for(asyncio.gather(*(client(http) for _ in range(CLIENTS))), 60)


async def test_sigkill_mid_burst_loses_nothing_acknowledged(tmp_path, record_property):
    """Kill -9 after ~150 answers; restart; every acknowledged event is stored and delivered."""
    rng = random.Random(7)
    # A receiver that takes 0-40 ms: deliveries are in flight when the kill lands.
    receiver = Receiver(delay=lambda: rng.uniform(0, 0.04))
    hook = await receiver.start()
    port = free_port()
    sinks = {"crm": {"type": "webhook", "url": hook, "concurrency": 8}}
    config = write_config(
        tmp_path, port, sinks=sinks, routes=[{"name": "all", "events": ["*"], "to": ["crm"]}],
        delivery={"max_attempts": 50, "retry_schedule": ["200ms"], "timeout": "5s"},
    )
    db = tmp_path / "ponte.db"
    first = Ponte(tmp_path, config, port, stderr_name="first.log").start()
    second: Ponte | None = None
    try:
        await first.wait_ready()
        acked: dict[int, int] = {}
        answered: list[int] = []
        await burst(first.url, first, acked, answered)
        assert first.proc is not None and first.proc.returncode == -9, "the process was not killed"
        assert KILL_AFTER - 5 <= len(acked) <= EVENTS - 1, f"the kill did not land mid-burst ({len(acked)} acked)"
        arrived_before_restart = sum(receiver.arrivals.values())

        # Every acknowledged event is on disk, under the id the answer gave.
        stored = {ext: eid for eid, ext in query(db, "SELECT id, external_id FROM events")}
        missing = [i for i in acked if f"ev-{i}" not in stored]
        assert not missing, f"acknowledged but not stored: {missing}"
        assert all(stored[f"ev-{i}"] == eid for i, eid in acked.items())
        left_sending = query(db, "SELECT COUNT(*) FROM deliveries WHERE status = 'sending'")[0][0]

        second = Ponte(tmp_path, config, port, stderr_name="second.log").start()
        await second.wait_ready()
        # Eduzz resends what it got no 200 for: each is stored once (accepted or duplicate).
        resent: dict[str, int] = {}
        async with aiohttp.ClientSession() as http:
            for i in range(EVENTS):
                if i not in acked:
                    status, payload = await post_event(http, second.url, event_body(i))
                    assert status == 200 and payload is not None
                    resent[payload["status"]] = resent.get(payload["status"], 0) + 1
        assert set(resent) <= {"accepted", "duplicate"}

        def all_succeeded() -> bool:
            rows = query(db, "SELECT status, COUNT(*) FROM deliveries GROUP BY status")
            return rows == [("succeeded", EVENTS)]

        await until(all_succeeded, 30, "every delivery succeeded after the restart")
        assert query(db, "SELECT COUNT(*) FROM events")[0][0] == EVENTS
        never = [i for i in range(EVENTS) if receiver.arrivals[f"ev-{i}"] == 0]
        assert not never, f"stored but never delivered: {never}"
        duplicates = {k: n for k, n in receiver.arrivals.items() if n > 1}
        assert sum(n - 1 for n in duplicates.values()) <= left_sending, (
            "more duplicates than deliveries the crash left in flight", duplicates, left_sending)
        if left_sending:
            assert '"deliveries_recovered"' in second.stderr(), "the restart did not recover 'sending' rows"
        assert second.terminate() == 0, second.stderr()[-2000:]
        assert "Traceback" not in second.stderr()
    finally:
        first.kill()
        if second is not None:
            second.kill()
        await receiver.stop()

    record_property("crash_duplicates", len(duplicates))
    print(
        f"\n[crash] acked={len(acked)} answered={len(answered)} arrived_before_restart={arrived_before_restart} "
        f"left_sending={left_sending} resent={resent} duplicates={len(duplicates)} "
        f"extra_copies={sum(n - 1 for n in duplicates.values())} ids={sorted(duplicates)}"
    )
