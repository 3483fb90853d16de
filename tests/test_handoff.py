"""Claim at save (``service.ingest.handoff``): ingest hands a delivery to the worker in the
event's own commit when its sink has a free slot and nothing waiting, so the worker sends
it without a claim transaction of its own. On PostgreSQL (claims name a replica and hold a
lease) every delivery still goes through ``claim_due``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pgkit import uses_postgres

from conftest import fixture_body, post_signed
from service.delivery.worker import SCAN, WORKER
from service.keys import STORE
from service.store.records import NewDelivery, NewEvent
from test_delivery import FAST, Endpoint, db, route_all, serve, wait_for, webhook_sinks


def spy_claims(client: Any, calls: list[str] | None = None) -> list[int]:
    """Every delivery id ``claim_due`` hands the worker (a spy on the store seam); ``calls``
    gets the sink of every call, empty ones included."""
    store = client.app[STORE]
    claimed: list[int] = []
    original = store.claim_due

    async def claim_due(sink: str, *args: Any) -> Any:
        if calls is not None:
            calls.append(sink)
        batch = await original(sink, *args)
        claimed.extend(c.id for c in batch)
        return batch

    store.claim_due = claim_due
    return claimed


def body(n: int) -> bytes:
    """A distinct paid-invoice event."""
    return fixture_body("myeduzz.invoice_paid").replace(b'"id": "', f'"id": "h{n}-'.encode(), 1)


async def started(settings_for: Any, start: Any, aiohttp_server: Any, endpoint: Endpoint,
                  sink: dict[str, Any] | None = None) -> Any:
    url = await serve(aiohttp_server, endpoint)
    sinks = {"crm": {"type": "webhook", "url": url, **(sink or {})}}
    client = await start(settings_for(sinks=sinks, routes=route_all("crm"), delivery=FAST), worker=True)
    await wait_for(lambda: not client.app[WORKER].lanes["crm"].more)  # the first round has claimed
    return client


async def test_a_delivery_is_saved_claimed_and_sent_without_a_claim(
        tmp_path, settings_for, start, aiohttp_server):
    """With a free slot the 200 finds the delivery already ``sending``; claim_due never sees it."""
    endpoint = Endpoint(delay=0.3)
    client = await started(settings_for, start, aiohttp_server, endpoint)
    claimed = spy_claims(client)
    assert (await post_signed(client, body(1))).status == 200
    (delivery_id, status), = db(tmp_path, "SELECT id, status FROM deliveries")
    await wait_for(lambda: db(tmp_path, "SELECT status, attempt_count FROM deliveries") == [("succeeded", 1)])
    assert len(endpoint.received) == 1
    if uses_postgres(tmp_path):
        assert claimed == [delivery_id]  # pending or, if the claim was quick, sending already
    else:
        assert status == "sending" and claimed == []
    assert client.app[WORKER].lanes["crm"].inflight == 0


async def test_a_full_lane_leaves_the_next_delivery_to_the_claim(
        tmp_path, settings_for, start, aiohttp_server):
    """Concurrency 1: the second event, saved while the first is in flight, waits pending."""
    endpoint = Endpoint(delay=0.3)
    client = await started(settings_for, start, aiohttp_server, endpoint, {"concurrency": 1})
    claimed = spy_claims(client)
    await post_signed(client, body(1))
    await post_signed(client, body(2))
    rows = db(tmp_path, "SELECT id, status FROM deliveries ORDER BY id")
    await wait_for(lambda: len(endpoint.received) == 2)
    await wait_for(lambda: db(tmp_path, "SELECT DISTINCT status FROM deliveries") == [("succeeded",)])
    if not uses_postgres(tmp_path):
        assert [s for _, s in rows] == ["sending", "pending"]
        assert claimed == [rows[1][0]]


async def test_ordered_sinks_always_go_through_the_claim(tmp_path, settings_for, start, aiohttp_server):
    """``ordered_by``: the claim query checks the order, so nothing is handed over."""
    endpoint = Endpoint()
    client = await started(settings_for, start, aiohttp_server, endpoint, {"ordered_by": "data.buyer.email"})
    claimed = spy_claims(client)
    for n in range(3):
        await post_signed(client, body(n))
    await wait_for(lambda: len(endpoint.received) == 3)
    ids = [r[0] for r in db(tmp_path, "SELECT id FROM deliveries ORDER BY id")]
    assert sorted(claimed) == ids


async def test_a_duplicate_gives_its_slots_back(tmp_path, settings_for, start, aiohttp_server):
    """The same event twice: one delivery, and the second request's held slot is freed."""
    endpoint = Endpoint(delay=0.2)
    client = await started(settings_for, start, aiohttp_server, endpoint)
    first, again = await asyncio.gather(post_signed(client, body(1)), post_signed(client, body(1)))
    outcomes = sorted([(await first.json())["status"], (await again.json())["status"]])
    assert outcomes == ["accepted", "duplicate"]
    await wait_for(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)])
    await wait_for(lambda: client.app[WORKER].lanes["crm"].inflight == 0)
    assert len(endpoint.received) == 1


def _event(n: int) -> NewEvent:
    return NewEvent(source="eduzz", external_id=f"x{n}", event="myeduzz.invoice_paid", sent_date=None,
                    received_at=1.0, status="accepted", headers={}, body=b"{}")


async def test_a_save_that_stored_nothing_frees_the_slots(tmp_path, settings_for, start, aiohttp_server):
    """A refused save (``saved`` None) gives every held slot back; nothing is sent."""
    endpoint = Endpoint()
    client = await started(settings_for, start, aiohttp_server, endpoint, {"concurrency": 2})
    worker = client.app[WORKER]
    held = worker.reserve([NewDelivery("crm", "all"), NewDelivery("crm", "all"), NewDelivery("crm", "all")])
    if uses_postgres(tmp_path):
        assert held is None
        return
    assert [d.status for d in held.deliveries] == ["sending", "sending", "pending"]  # two slots
    assert worker.lanes["crm"].inflight == 2
    held.settle(_event(1), None)
    held.settle(_event(1), None)  # once only
    assert worker.lanes["crm"].inflight == 0
    assert worker.lanes["crm"].more  # the third one, had it been saved, waits for a claim


async def test_a_reload_between_reserve_and_commit_puts_the_delivery_back(
        tmp_path, settings_for, start, aiohttp_server):
    """The sink changed while the event was being saved: its row goes back to pending and
    the new lane claims and sends it."""
    old, new = Endpoint(), Endpoint()
    client = await started(settings_for, start, aiohttp_server, old)
    if uses_postgres(tmp_path):
        return
    worker, store = client.app[WORKER], client.app[STORE]
    held = worker.reserve([NewDelivery("crm", "all")])
    assert held is not None
    url = await serve(aiohttp_server, new)
    await worker.apply(settings_for(sinks=webhook_sinks(crm=url), routes=route_all("crm"), delivery=FAST))
    saved = await store.save_event(_event(2), held.deliveries)
    assert len(saved.sending) == 1
    held.settle(_event(2), saved)
    await wait_for(lambda: len(new.received) == 1)
    await wait_for(lambda: db(tmp_path, "SELECT status, attempt_count FROM deliveries") == [("succeeded", 1)])
    assert old.received == []


async def test_rows_saved_claimed_are_recovered_after_a_crash(tmp_path, settings_for, start, aiohttp_server):
    """``Saved.sending`` names the claimed rows in order; a crash before their record leaves
    them to ``recover`` at the next start, as any claim."""
    if uses_postgres(tmp_path):
        return
    nowhere = "http://127.0.0.1:9/"
    sinks = webhook_sinks(a=nowhere, b=nowhere, c=nowhere)
    client = await start(settings_for(sinks=sinks, routes=route_all("a", "b", "c")))
    store = client.app[STORE]
    planned = [NewDelivery("a", "all", status="sending"), NewDelivery("b", "all"),
               NewDelivery("c", "all", status="sending")]
    saved = await store.save_event(_event(3), planned)
    rows = db(tmp_path, "SELECT id, sink, status FROM deliveries ORDER BY id")
    assert saved.sending == (rows[0][0], rows[2][0])
    assert [(r, s) for _, r, s in rows] == [("a", "sending"), ("b", "pending"), ("c", "sending")]
    again = await store.save_event(_event(3), planned)
    assert again.duplicate and again.sending == ()
    assert await store.recover() == 2
    assert db(tmp_path, "SELECT DISTINCT status FROM deliveries") == [("pending",)]


async def test_finished_sends_ask_for_no_empty_claims(tmp_path, settings_for, start, aiohttp_server):
    """Twenty events one after another: on SQLite every delivery was handed over at save and
    a finished send (a nudge, not a wake) made the worker claim nothing; only the once-a-
    ``SCAN`` look for due retries claims (before, each of the 20 sends cost a claim)."""
    endpoint = Endpoint()
    client = await started(settings_for, start, aiohttp_server, endpoint)
    calls: list[str] = []
    spy_claims(client, calls)
    began = time.monotonic()
    for n in range(20):
        await post_signed(client, body(100 + n))
        await wait_for(lambda n=n: len(endpoint.received) == n + 1)
    await wait_for(lambda: db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'") == [(20,)])
    if uses_postgres(tmp_path):
        assert len(calls) >= 20  # claims as before
    else:
        assert len(calls) <= (time.monotonic() - began) / SCAN + 1
