"""Follow-ups across a SIGKILL of a real ``ponte serve``: scheduled rows, not timers.

Two follow-up routes: ``cedo`` (due 2 s after its event) and ``tarde`` (due 8 s after). The
process is killed right after the events are acknowledged (before anything is due) and
stays down past ``cedo``'s due time. After the restart every follow-up not paid for is
sent exactly once: ``cedo`` at once, ``tarde`` at its due time and not
before; the ones cancelled by a payment before the kill are never sent.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from failkit import Ponte, Receiver, event_body, free_port, post_event, query, until, write_config

pytestmark = pytest.mark.slow

N = 12  # follow-ups per route
PAID = (0, 3, 7)  # cancelled before the kill (on both routes)
EARLY, LATE = 2.0, 8.0


def follow_up(name: str, event: str, after: float) -> dict[str, object]:
    return {"name": name, "events": [event], "to": [{"sink": "crm", "after": f"{after:g}s",
            "unless": {"events": ["acme.paid"], "same": ["data.n"]}}]}


async def test_sigkill_before_due_then_sent_exactly_once_after_the_restart(tmp_path):
    receiver = Receiver()
    hook = await receiver.start()
    port = free_port()
    config = write_config(
        tmp_path, port, sinks={"crm": {"type": "webhook", "url": hook, "concurrency": 4}},
        routes=[follow_up("cedo", "acme.early", EARLY), follow_up("tarde", "acme.late", LATE)],
        delivery={"max_attempts": 5, "retry_schedule": ["200ms"], "timeout": "5s"},
    )
    db = tmp_path / "ponte.db"
    first = Ponte(tmp_path, config, port, stderr_name="first.log").start()
    second: Ponte | None = None
    try:
        await first.wait_ready()
        async with aiohttp.ClientSession() as http:
            started = time.monotonic()
            for i in range(N):
                for kind, event in (("e", "acme.early"), ("l", "acme.late")):
                    status, _ = await post_event(http, first.url, event_body(f"{kind}{i}", event, n=str(i)))
                    assert status == 200
            posted = time.monotonic()
            for i in PAID:
                status, payload = await post_event(http, first.url, event_body(f"paid-{i}", "acme.paid", n=str(i)))
                assert status == 200 and payload is not None
        assert posted - started < EARLY, "the machine is too slow to post before the first due time"
        first.kill()
        assert receiver.arrivals == {}, "a follow-up went out before it was due"
        rows = dict(query(db, "SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
        assert rows == {"scheduled": 2 * (N - len(PAID)), "cancelled": 2 * len(PAID)}

        await asyncio.sleep(max(0.0, started + EARLY + 0.5 - time.monotonic()))  # down past 'cedo' due
        restarted = time.monotonic()
        second = Ponte(tmp_path, config, port, stderr_name="second.log").start()
        await second.wait_ready()
        want = {f"ev-{kind}{i}" for kind in "el" for i in range(N) if i not in PAID}
        await until(lambda: set(receiver.arrivals) >= want, LATE + 30, "every unpaid follow-up sent")
        await asyncio.sleep(1.5)  # anything sent twice would have arrived by now
        assert dict(receiver.arrivals) == dict.fromkeys(want, 1)
        late_times = [t for body, t in zip(receiver.bodies, receiver.times, strict=True) if b'"ev-l' in body]
        assert min(late_times) >= started + LATE - 0.05, "a 'tarde' follow-up went out before its due time"
        rows = dict(query(db, "SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
        assert rows == {"succeeded": 2 * (N - len(PAID)), "cancelled": 2 * len(PAID)}
        early_times = [t for body, t in zip(receiver.bodies, receiver.times, strict=True) if b'"ev-e' in body]
        assert min(early_times) >= restarted  # 'cedo' came due while the process was down
        assert second.terminate() == 0, second.stderr()[-2000:]
        assert "Traceback" not in first.stderr() + second.stderr()
    finally:
        first.kill()
        if second is not None:
            second.kill()
        await receiver.stop()
