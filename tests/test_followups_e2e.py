"""Follow-ups end to end: the real app, signed Eduzz webhooks, a local receiver."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import yaml

from conftest import base_config, fixture_body, post_signed
from service.config.load import parse_config
from service.config.settings import build_settings
from service.keys import STORE
from service.operate.reload import reload_from_file
from service.store.records import Filter
from test_delivery import Endpoint, serve, wait_for

AFTER = 1.5


def invoice(event: str, invoice_id: str) -> bytes:
    """An Eduzz fixture for one invoice (its envelope id follows the invoice)."""
    doc = json.loads(fixture_body(event))
    doc["id"] = f"{event}-{invoice_id}"
    doc["data"]["id"] = invoice_id
    return json.dumps(doc).encode()


def followup_routes(url_sink: str = "crm", **target: Any) -> list[dict[str, Any]]:
    """One route: waiting-payment invoices get a follow-up unless paid or cancelled."""
    rule = {"sink": url_sink, "after": f"{AFTER}s",
            "unless": {"events": ["myeduzz.invoice_paid", "myeduzz.invoice_canceled"], "same": ["data.id"]}}
    return [{"name": "pix", "events": ["myeduzz.invoice_waiting_payment"], "to": [rule | target]}]


async def received_ids(endpoint: Endpoint) -> list[str]:
    """The invoice ids the receiver got."""
    return [json.loads(body)["data"]["id"] for _, body, _ in endpoint.received]


async def app_for(settings_for: Any, start: Any, aiohttp_server: Any, **target: Any) -> tuple[Any, Endpoint]:
    crm = Endpoint()
    sinks = {"crm": {"type": "webhook", "url": await serve(aiohttp_server, crm)}}
    client = await start(settings_for(sinks=sinks, routes=followup_routes(**target)), worker=True)
    return client, crm


async def test_sent_after_the_delay_not_before(settings_for, start, aiohttp_server):
    """The follow-up waits ``after`` (scheduled), then goes out once."""
    client, crm = await app_for(settings_for, start, aiohttp_server)
    sent_at = time.monotonic()
    assert (await post_signed(client, invoice("myeduzz.invoice_waiting_payment", "A1"))).status == 200
    page = await client.app[STORE].list_deliveries(Filter(status="scheduled"), 10, None)
    assert len(page.items) == 1 and page.items[0].due_at is not None
    await asyncio.sleep(AFTER * 0.6)
    assert crm.received == []
    await wait_for(lambda: crm.received, timeout=AFTER + 5)
    assert crm.received[0][0] - sent_at >= AFTER
    await asyncio.sleep(1.5)
    assert await received_ids(crm) == ["A1"]


async def test_cancelled_by_payment_of_the_same_invoice_only(settings_for, start, aiohttp_server):
    """Paying invoice A cancels A's follow-up; B's is still sent."""
    client, crm = await app_for(settings_for, start, aiohttp_server)
    for invoice_id in ("A", "B"):
        await post_signed(client, invoice("myeduzz.invoice_waiting_payment", invoice_id))
    paid = await (await post_signed(client, invoice("myeduzz.invoice_paid", "A"))).json()
    await wait_for(lambda: crm.received, timeout=AFTER + 5)
    await asyncio.sleep(1.0)
    assert await received_ids(crm) == ["B"]
    page = await client.app[STORE].list_deliveries(Filter(status="cancelled"), 10, None)
    assert [d.external_id for d in page.items] == ["myeduzz.invoice_waiting_payment-A"]
    assert page.items[0].last_error.startswith(f"cancelled by event #{paid['event_id']} myeduzz.invoice_paid")
    assert "data.id=A" in page.items[0].last_error


async def test_cancelled_by_a_payment_that_arrived_first(settings_for, start, aiohttp_server):
    """Webhooks arrive out of order: the payment first still cancels the follow-up."""
    client, crm = await app_for(settings_for, start, aiohttp_server)
    await post_signed(client, invoice("myeduzz.invoice_paid", "C"))
    await post_signed(client, invoice("myeduzz.invoice_waiting_payment", "C"))
    await asyncio.sleep(AFTER + 1.5)
    assert crm.received == []
    page = await client.app[STORE].list_deliveries(Filter(status="cancelled"), 10, None)
    assert len(page.items) == 1 and "myeduzz.invoice_paid" in (page.items[0].last_error or "")


async def test_quiet_hours_hold_a_due_message(settings_for, start, aiohttp_server):
    """Due inside the window (now ± 2 h, UTC), the follow-up waits until the window ends."""
    now = datetime.now(UTC)
    begin, end = (now - timedelta(hours=2)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    client, crm = await app_for(settings_for, start, aiohttp_server,
                                quiet_hours={"from": begin, "to": end, "timezone": "UTC"})
    await post_signed(client, invoice("myeduzz.invoice_waiting_payment", "Q"))
    await asyncio.sleep(AFTER + 1.0)
    assert crm.received == []
    page = await client.app[STORE].list_deliveries(Filter(status="scheduled"), 10, None)
    due = datetime.fromisoformat(page.items[0].next_attempt_at.replace("Z", "+00:00"))
    assert timedelta(hours=1, minutes=58) < due - now <= timedelta(hours=2)
    assert due.strftime("%H:%M") == end


async def test_reload_removing_the_route_cancels_its_followups(tmp_path, start, aiohttp_server, store_url):
    """A reload without the route cancels what it scheduled, with that reason; nothing is sent."""
    crm = Endpoint()
    raw = base_config(tmp_path, storage={"url": store_url},
                      sinks={"crm": {"type": "webhook", "url": await serve(aiohttp_server, crm)}},
                      routes=followup_routes())
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(raw))
    settings = build_settings(parse_config(yaml.safe_load(path.read_text()), env={}, path=str(path)))
    client = await start(settings, worker=True)
    await post_signed(client, invoice("myeduzz.invoice_waiting_payment", "R"))
    raw["routes"] = [{"name": "outra", "events": ["myeduzz.invoice_paid"], "to": ["crm"]}]
    path.write_text(yaml.safe_dump(raw))
    assert await reload_from_file(client.app) == []
    await asyncio.sleep(AFTER + 1.0)
    assert crm.received == []
    page = await client.app[STORE].list_deliveries(Filter(status="cancelled"), 10, None)
    assert page.items[0].last_error == "cancelled: its route or target was removed by a reload"


async def test_same_sale_order_id_cancels_like_the_invoice_id(settings_for, start, aiohttp_server):
    """``same: [sale.order_id]`` (the one sale model) correlates the invoice and its payment."""
    crm = Endpoint()
    sinks = {"crm": {"type": "webhook", "url": await serve(aiohttp_server, crm)}}
    routes = followup_routes()
    routes[0]["to"][0]["unless"]["same"] = ["sale.order_id"]
    client = await start(settings_for(sinks=sinks, routes=routes), worker=True)
    for invoice_id in ("A", "B"):
        await post_signed(client, invoice("myeduzz.invoice_waiting_payment", invoice_id))
    await post_signed(client, invoice("myeduzz.invoice_paid", "A"))
    await wait_for(lambda: crm.received, timeout=AFTER + 5)
    await asyncio.sleep(1.0)
    assert await received_ids(crm) == ["B"]
    page = await client.app[STORE].list_deliveries(Filter(status="cancelled"), 10, None)
    assert [d.external_id for d in page.items] == ["myeduzz.invoice_waiting_payment-A"]
    assert "sale.order_id=A" in page.items[0].last_error


async def test_two_replicas_half_cancelled_through_the_other_exactly_half_sent(
        pg_url, settings_for, start, aiohttp_server):
    """Two replicas (workers on) on one PostgreSQL schema: N follow-ups planned alternately on
    each; half paid through the *other* replica, some after their invoice and some at the
    same instant (the advisory lock serialises them): exactly N/2 sent, each once."""
    n = 24
    crm = Endpoint()
    sinks = {"crm": {"type": "webhook", "url": await serve(aiohttp_server, crm), "concurrency": 4}}
    settings = settings_for(storage={"url": pg_url}, sinks=sinks, routes=followup_routes())
    replicas = [await start(settings, worker=True), await start(settings, worker=True)]

    async def waiting(i: int) -> Any:
        return await post_signed(replicas[i % 2], invoice("myeduzz.invoice_waiting_payment", f"I{i}"))

    async def pay(i: int) -> Any:
        return await post_signed(replicas[(i + 1) % 2], invoice("myeduzz.invoice_paid", f"I{i}"))

    together = [i for i in range(n) if i % 4 == 2]  # invoice and payment at the same instant
    answers = await asyncio.gather(*(waiting(i) for i in range(n) if i not in together),
                                   *(x for i in together for x in (waiting(i), pay(i))))
    answers += await asyncio.gather(*(pay(i) for i in range(n) if i % 4 == 0))
    assert [a.status for a in answers] == [200] * len(answers)
    unpaid = {f"I{i}" for i in range(n) if i % 2}
    await wait_for(lambda: len(crm.received) >= n // 2, timeout=AFTER + 20)
    await asyncio.sleep(AFTER + 1.0)  # a second copy, or a cancelled one, would arrive by now
    ids = await received_ids(crm)
    assert sorted(ids) == sorted(unpaid) and len(ids) == n // 2
    with psycopg.connect(pg_url) as conn:
        rows = dict(conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())
    assert rows == {"succeeded": n // 2, "cancelled": n // 2}
