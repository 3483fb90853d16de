"""The delivery worker end to end: real app, real SQLite, real HTTP endpoints on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from pgkit import query

from conftest import fixture_body, post_signed
from service.keys import STORE

FAST = {"max_attempts": 3, "retry_schedule": ["50ms"], "timeout": "2s"}


class Endpoint:
    """A customer endpoint that answers from a script of statuses and records what arrives."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0,
                 headers: dict[str, str] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.delay = delay
        self.headers = headers or {}
        self.received: list[tuple[float, bytes, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((time.monotonic(), body, dict(request.headers)))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok" if status < 300 else "nope", headers=self.headers)


async def serve(aiohttp_server: Any, endpoint: Endpoint) -> str:
    """Run ``endpoint`` on 127.0.0.1 and return its URL."""
    app = web.Application()
    app.router.add_post("/hook", endpoint.handle)
    server = await aiohttp_server(app)
    return str(server.make_url("/hook"))


async def wait_for(check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``check`` until it is true or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def db(tmp_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read (or change) the database directly, as a second process would."""
    return query(tmp_path, sql, *args)


def webhook_sinks(**urls: str) -> dict[str, Any]:
    """Webhook sinks by name -> url."""
    return {name: {"type": "webhook", "url": url} for name, url in urls.items()}


def route_all(*sinks: str) -> list[dict[str, Any]]:
    """One catch-all route to these sinks."""
    return [{"name": "all", "events": ["*"], "to": list(sinks)}]


async def test_event_reaches_the_webhook_byte_for_byte(tmp_path, settings_for, start, aiohttp_server):
    """A signed Eduzz event is forwarded unchanged to a webhook sink."""
    endpoint = Endpoint()
    url = await serve(aiohttp_server, endpoint)
    settings = settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=FAST)
    client = await start(settings, worker=True)
    body = fixture_body("myeduzz.invoice_paid")
    assert (await post_signed(client, body)).status == 200
    await wait_for(lambda: len(endpoint.received) == 1)
    _, got, headers = endpoint.received[0]
    assert got == body
    assert headers["x-ponte-event"] == "myeduzz.invoice_paid"
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)])


async def test_failing_twice_then_recovering_arrives_on_the_third_attempt(
        tmp_path, settings_for, start, aiohttp_server):
    """503, 503, 200: the delivery succeeds on attempt 3 and every attempt is kept."""
    endpoint = Endpoint([503, 503])
    url = await serve(aiohttp_server, endpoint)
    settings = settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=FAST)
    client = await start(settings, worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)])
    attempts = db(tmp_path, "SELECT number, outcome, status_code FROM attempts ORDER BY number")
    assert attempts == [(1, "retry", 503), (2, "retry", 503), (3, "succeeded", 200)]
    assert len(endpoint.received) == 3


async def test_permanent_failure_fails_while_others_succeed(tmp_path, settings_for, start, aiohttp_server):
    """A 400 ends that delivery as failed after one attempt; another sink is unaffected."""
    bad, good = Endpoint([400] * 10), Endpoint()
    sinks = webhook_sinks(bad=await serve(aiohttp_server, bad), good=await serve(aiohttp_server, good))
    client = await start(settings_for(sinks=sinks, routes=route_all("bad", "good"), delivery=FAST), worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: sorted(db(tmp_path, "SELECT sink, status, attempt_count FROM deliveries"))
                   == [("bad", "failed", 1), ("good", "succeeded", 1)])
    (error,) = db(tmp_path, "SELECT last_error FROM deliveries WHERE sink = 'bad'")[0]
    assert "400" in error


async def test_transient_failures_end_in_dead_letter_after_max_attempts(tmp_path, settings_for, start, aiohttp_server):
    """After max_attempts transient failures the delivery is failed (dead letter)."""
    endpoint = Endpoint([503] * 10)
    url = await serve(aiohttp_server, endpoint)
    settings = settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=FAST)
    client = await start(settings, worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: db(tmp_path, "SELECT status, attempt_count FROM deliveries") == [("failed", 3)])
    outcomes = [o for (o,) in db(tmp_path, "SELECT outcome FROM attempts ORDER BY number")]
    assert outcomes == ["retry", "retry", "failed"]


async def test_retry_after_is_honoured(tmp_path, settings_for, start, aiohttp_server):
    """A 429 with Retry-After: 30 schedules the next attempt about 30 s later, not 50 ms."""
    endpoint = Endpoint([429], headers={"Retry-After": "30"})
    url = await serve(aiohttp_server, endpoint)
    settings = settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=FAST)
    client = await start(settings, worker=True)
    before = time.time()
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: db(tmp_path, "SELECT attempt_count FROM deliveries") == [(1,)])
    (next_at,) = db(tmp_path, "SELECT next_attempt_at FROM deliveries")[0]
    assert 29 <= next_at - before <= 32


async def test_slow_sink_does_not_delay_a_fast_one(tmp_path, settings_for, start, aiohttp_server):
    """A sink that takes 1.5 s per request does not hold back another sink."""
    slow, fast = Endpoint(delay=1.5), Endpoint()
    sinks = webhook_sinks(slow=await serve(aiohttp_server, slow), fast=await serve(aiohttp_server, fast))
    client = await start(settings_for(sinks=sinks, routes=route_all("slow", "fast"), delivery=FAST), worker=True)
    for i in range(5):
        doc = {"id": f"s{i}", "event": "acme.thing", "data": {}}
        await post_signed(client, json.dumps(doc).encode())
    await wait_for(lambda: len(fast.received) == 5, timeout=1.0)
    assert len(slow.received) <= 4


async def test_timeout_is_transient(tmp_path, settings_for, start, aiohttp_server):
    """A receiver slower than the timeout counts as a transient failure."""
    endpoint = Endpoint(delay=1.0)
    url = await serve(aiohttp_server, endpoint)
    delivery = {**FAST, "timeout": "200ms", "max_attempts": 1}
    settings = settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=delivery)
    client = await start(settings, worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("failed",)])
    (error,) = db(tmp_path, "SELECT error FROM attempts")[0]
    assert "timed out" in error.lower() or "timeout" in error.lower()


async def test_breaker_opens_and_deliveries_wait(tmp_path, settings_for, start, aiohttp_server):
    """After N consecutive failures the sink pauses: its deliveries wait instead of burning attempts."""
    endpoint = Endpoint([503] * 100)
    url = await serve(aiohttp_server, endpoint)
    sinks = {"crm": {"type": "webhook", "url": url, "breaker_threshold": 2, "breaker_cooldown": "1h",
                     "concurrency": 1}}
    delivery = {**FAST, "max_attempts": 10}
    client = await start(settings_for(sinks=sinks, routes=route_all("crm"), delivery=delivery), worker=True)
    for i in range(3):
        await post_signed(client, json.dumps({"id": f"b{i}", "event": "acme.x", "data": {}}).encode())
    await wait_for(lambda: len(endpoint.received) >= 2)
    await asyncio.sleep(0.4)
    assert len(endpoint.received) == 2
    assert db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")[0][0] == 3
    metrics = await (await client.get("/metrics")).text()
    assert 'ponte_breaker_open{sink="crm"} 1.0' in metrics


async def test_gone_disables_the_sink(tmp_path, settings_for, start, aiohttp_server):
    """410 Gone fails the delivery and disables the sink; later deliveries wait as disabled."""
    endpoint = Endpoint([410])
    url = await serve(aiohttp_server, endpoint)
    settings = settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=FAST)
    client = await start(settings, worker=True)
    await post_signed(client, json.dumps({"id": "g1", "event": "acme.x", "data": {}}).encode())
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("failed",)])
    await wait_for(lambda: db(tmp_path, "SELECT disabled FROM sink_state WHERE sink = 'crm'") == [(1,)])
    await post_signed(client, json.dumps({"id": "g2", "event": "acme.x", "data": {}}).encode())
    await asyncio.sleep(0.3)
    assert len(endpoint.received) == 1


async def test_deliveries_left_sending_by_a_crash_are_sent_on_start(tmp_path, settings_for, start, aiohttp_server):
    """A delivery a crash left 'sending' goes back to pending at start-up and arrives."""
    endpoint = Endpoint()
    url = await serve(aiohttp_server, endpoint)
    settings = settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=FAST)
    client = await start(settings)  # no worker: the event is stored and planned only
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await client.close()
    db(tmp_path, "UPDATE deliveries SET status = 'sending'")
    await start(settings, worker=True)
    await wait_for(lambda: len(endpoint.received) == 1)
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)])


async def test_ordered_sink_delivers_same_key_in_order(tmp_path, settings_for, start, aiohttp_server):
    """With ordered_by, events sharing a key arrive in the order received, even under retries."""
    endpoint = Endpoint([503, 200, 200, 200])
    url = await serve(aiohttp_server, endpoint)
    sinks = {"crm": {"type": "webhook", "url": url, "ordered_by": "data.id", "concurrency": 8}}
    client = await start(settings_for(sinks=sinks, routes=route_all("crm"), delivery=FAST), worker=True)
    for step in ("opened", "waiting_payment", "paid"):
        doc = {"id": f"o-{step}", "event": f"myeduzz.invoice_{step}", "data": {"id": "inv-1"}}
        await post_signed(client, json.dumps(doc).encode())
    await wait_for(lambda: db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'") == [(3,)])
    arrived = [json.loads(body)["id"] for _, body, _ in endpoint.received]
    assert arrived == ["o-opened", "o-opened", "o-waiting_payment", "o-paid"]


async def test_store_outage_in_worker_does_not_kill_it(tmp_path, settings_for, start, aiohttp_server):
    """The worker survives a failing claim and keeps delivering afterwards."""
    endpoint = Endpoint()
    url = await serve(aiohttp_server, endpoint)
    settings = settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=FAST)
    client = await start(settings, worker=True)
    store = client.app[STORE]
    real = store.claim_due
    calls = {"n": 0}

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return await real(*args, **kwargs)

    store.claim_due = flaky
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: len(endpoint.received) == 1)


async def test_template_failing_at_render_is_a_permanent_failure(tmp_path, settings_for, start, aiohttp_server):
    """A template that raises when rendered fails its delivery for good, with the reason."""
    endpoint = Endpoint()
    url = await serve(aiohttp_server, endpoint)
    routes = [{"name": "r", "events": ["*"], "to": [{"sink": "crm", "template": {"body": "{{ data.n / 0 }}"}}]}]
    client = await start(settings_for(sinks=webhook_sinks(crm=url), routes=routes, delivery=FAST), worker=True)
    await post_signed(client, json.dumps({"id": "t1", "event": "acme.x", "data": {"n": 1}}).encode())
    await wait_for(lambda: db(tmp_path, "SELECT status, attempt_count FROM deliveries") == [("failed", 1)])
    (error,) = db(tmp_path, "SELECT error FROM attempts")[0]
    assert "division" in error
    assert endpoint.received == []


async def test_shutdown_lets_in_flight_deliveries_finish(tmp_path, settings_for, start, aiohttp_server):
    """On shutdown a send in flight finishes within the grace period and is recorded."""
    endpoint = Endpoint(delay=0.5)
    url = await serve(aiohttp_server, endpoint)
    client = await start(settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"),
                                      delivery={**FAST, "shutdown_grace": "5s"}), worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: len(endpoint.received) == 1)
    await client.close()
    assert db(tmp_path, "SELECT status, attempt_count FROM deliveries") == [("succeeded", 1)]


async def test_shutdown_releases_what_does_not_finish_in_time(tmp_path, settings_for, start, aiohttp_server):
    """A send still running after the grace period is released to pending, no attempt counted."""
    endpoint = Endpoint(delay=5)
    url = await serve(aiohttp_server, endpoint)
    client = await start(settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"),
                                      delivery={**FAST, "timeout": "10s", "shutdown_grace": "200ms"}), worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: len(endpoint.received) == 1)
    await client.close()
    assert db(tmp_path, "SELECT status, attempt_count FROM deliveries") == [("pending", 0)]


async def test_reload_that_changes_a_sink_keeps_delivering(tmp_path, settings_for, start, aiohttp_server):
    """Changing a sink's config mid-flight swaps its client; the new lane keeps its full capacity."""
    from service.delivery.worker import WORKER
    from service.keys import HOLDER

    endpoint = Endpoint(delay=0.3)
    url = await serve(aiohttp_server, endpoint)
    sinks = {"crm": {"type": "webhook", "url": url, "concurrency": 1}}
    client = await start(settings_for(sinks=sinks, routes=route_all("crm"), delivery=FAST), worker=True)
    await post_signed(client, json.dumps({"id": "r1", "event": "acme.x", "data": {}}).encode())
    await wait_for(lambda: len(endpoint.received) == 1)
    changed = settings_for(sinks={"crm": {**sinks["crm"], "headers": {"x-v": "2"}}}, routes=route_all("crm"),
                           delivery=FAST)
    client.app[HOLDER].swap(changed)
    await client.app[WORKER].apply(changed)
    for i in range(3):
        await post_signed(client, json.dumps({"id": f"r{i + 2}", "event": "acme.x", "data": {}}).encode())
    await wait_for(lambda: db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'") == [(4,)])
    # the attempt is recorded before its task ends and frees the slot: wait for that too
    await wait_for(lambda: client.app[WORKER].lanes["crm"].inflight == 0)
    assert endpoint.received[-1][2].get("x-v") == "2"
