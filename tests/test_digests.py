"""Digests through the real app: a burst becomes digests, rules survive reloads, clocks jump."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web
from digestkit import FakeClock, lines, paid_body, start_app, tick
from structlog.testing import capture_logs

from conftest import post_signed
from service.batches.scheduler import close_due
from service.config.load import parse_config
from service.config.settings import build_settings
from service.delivery.worker import WORKER
from service.ingest.planning import plan_deliveries
from service.keys import HOLDER, STORE
from service.store.open import open_store
from service.store.records import Filter, NewEvent


def _settings(tmp_path, digest, **extra):
    raw = {
        "storage": {"url": f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": ["test-secret"]}},
        "sinks": {
            "chat": {"type": "file", "path": str(tmp_path / "chat.jsonl"), "format": "slack"}
        },
        "routes": [
            {"name": "vendas", "events": ["myeduzz.*"], "to": [{"sink": "chat", "digest": digest}]}
        ],
        **extra,
    }
    return build_settings(parse_config(raw, env={}))


async def _wait_lines(path, count):
    for _ in range(200):  # bounded: 10 s at most
        if len(lines(path)) >= count:
            return lines(path)
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} lines, got {len(lines(path))}")


async def _counts(client):
    return await client.app[STORE].counts()


async def test_a_burst_becomes_one_digest_after_wait_then_one_per_interval(
    tmp_path, aiohttp_client, store_url
):
    """Seven sales in a burst: nothing before wait, one digest at wait, later sales at interval."""
    clock = FakeClock()
    client = await start_app(
        aiohttp_client,
        _settings(tmp_path, {"wait": "30s", "interval": "2m"}, storage={"url": store_url}),
        clock,
    )
    for i in range(5):
        assert (await post_signed(client, paid_body(i))).status == 200
    await tick(client)  # opens the group
    clock.advance(29)
    await tick(client)
    assert lines(tmp_path / "chat.jsonl") == []
    assert (await _counts(client)).get("grouped") == 5
    clock.advance(2)
    await tick(client)
    first = await _wait_lines(tmp_path / "chat.jsonl", 1)
    assert first[0]["event"] == "ponte.digest"
    assert first[0]["message"]["blocks"][0]["text"]["text"].startswith("📦 5 ×")
    for i in range(5, 7):
        await post_signed(client, paid_body(i))
    clock.advance(60)
    await tick(client)
    assert len(lines(tmp_path / "chat.jsonl")) == 1  # interval not over yet
    clock.advance(61)
    await tick(client)
    both = await _wait_lines(tmp_path / "chat.jsonl", 2)
    assert both[1]["body"]["data"]["count"] == 2
    counts = await _counts(client)
    assert counts.get("digested") == 7 and "grouped" not in counts


async def test_group_by_splits_digests_and_over_max_items_says_how_many_more(
    tmp_path, aiohttp_client
):
    """group_by [data.items.0.name]: one digest per product; max_items lists the first only."""
    clock = FakeClock()
    digest = {"group_by": ["data.items.0.name"], "wait": "10s", "interval": "1m", "max_items": 3}
    client = await start_app(aiohttp_client, _settings(tmp_path, digest), clock)
    for i in range(8):
        await post_signed(client, paid_body(i, product="Curso A" if i < 6 else "Curso B"))
    await tick(client)
    clock.advance(11)
    await tick(client)
    got = await _wait_lines(tmp_path / "chat.jsonl", 2)
    by_key = {tuple(g["body"]["data"]["key"]): g["body"]["data"] for g in got}
    assert by_key[("Curso A",)]["count"] == 6 and len(by_key[("Curso A",)]["items"]) == 3
    assert by_key[("Curso A",)]["more"] == 3 and by_key[("Curso B",)]["count"] == 2
    text = next(g for g in got if g["body"]["data"]["key"] == ["Curso A"])["message"]["blocks"]
    assert any(
        "… e mais 3" in b.get("text", {}).get("text", "") for b in text if b["type"] == "section"
    )


async def test_when_busy_sends_singly_until_the_rate_passes(tmp_path, aiohttp_client):
    """when_busy: 3/min: the first three go one by one, the rest wait for a digest."""
    clock = FakeClock()
    client = await start_app(aiohttp_client, _settings(tmp_path, {"when_busy": "3/min"}), clock)
    for i in range(7):
        await post_signed(client, paid_body(i))
    singles = await _wait_lines(tmp_path / "chat.jsonl", 3)
    assert [s["event"] for s in singles] == ["myeduzz.invoice_paid"] * 3
    assert (await _counts(client)).get("grouped") == 4
    await tick(client)
    clock.advance(61)
    await tick(client)
    got = await _wait_lines(tmp_path / "chat.jsonl", 4)
    assert got[3]["event"] == "ponte.digest" and got[3]["body"]["data"]["count"] == 4


async def test_reload_that_removes_the_digest_sends_waiting_items_under_the_old_rule(
    tmp_path, aiohttp_client
):
    """Items waiting when a reload removes the digest are still sent, once, as a digest."""
    clock = FakeClock()
    client = await start_app(
        aiohttp_client, _settings(tmp_path, {"wait": "30s", "interval": "1m"}), clock
    )
    for i in range(3):
        await post_signed(client, paid_body(i))
    await tick(client)
    plain = _settings(tmp_path, None)
    client.app[HOLDER].swap(plain)
    await client.app[WORKER].apply(plain)
    await post_signed(client, paid_body(99))  # no digest any more: sent on its own
    clock.advance(31)
    await tick(client)
    got = await _wait_lines(tmp_path / "chat.jsonl", 2)
    digest = next(g for g in got if g["event"] == "ponte.digest")
    assert digest["body"]["data"]["count"] == 3
    assert sum(1 for g in got if g["event"] == "myeduzz.invoice_paid") == 1


async def test_a_clock_that_jumps_back_does_not_strand_items(tmp_path, aiohttp_client):
    """A clock set back a day restarts the wait instead of leaving the group due a day later."""
    clock = FakeClock()
    client = await start_app(
        aiohttp_client, _settings(tmp_path, {"wait": "30s", "interval": "1m"}), clock
    )
    await post_signed(client, paid_body(1))
    await tick(client)
    clock.advance(-86400)
    await tick(client)  # notices the jump: due again in 30 s of the new time
    clock.advance(31)
    await tick(client)
    got = await _wait_lines(tmp_path / "chat.jsonl", 1)
    assert got[0]["body"]["data"]["count"] == 1


async def test_a_clock_that_jumps_forward_sends_once(tmp_path, aiohttp_client):
    """A jump of a week sends the waiting items in one digest, not one per missed interval."""
    clock = FakeClock()
    client = await start_app(
        aiohttp_client, _settings(tmp_path, {"wait": "30s", "interval": "1m"}), clock
    )
    for i in range(4):
        await post_signed(client, paid_body(i))
    await tick(client)
    clock.advance(7 * 86400)
    for _ in range(3):
        await tick(client)
    got = await _wait_lines(tmp_path / "chat.jsonl", 1)
    await asyncio.sleep(0.2)
    assert len(lines(tmp_path / "chat.jsonl")) == 1 and got[0]["body"]["data"]["count"] == 4


async def test_the_api_shows_a_digest_with_its_events(tmp_path, aiohttp_client, store_url):
    """GET /api/deliveries/<id> of a digest lists the event ids it carried; items say digested."""
    clock = FakeClock()
    settings = _settings(
        tmp_path,
        {"wait": "1s", "interval": "1m"},
        server={"admin_token": "tok"},
        storage={"url": store_url},
    )
    client = await start_app(aiohttp_client, settings, clock)
    ids = [(await (await post_signed(client, paid_body(i))).json())["event_id"] for i in range(3)]
    await tick(client)
    clock.advance(2)
    await tick(client)
    got = await _wait_lines(tmp_path / "chat.jsonl", 1)
    auth = {"Authorization": "Bearer tok"}
    for _ in range(100):  # the attempt is recorded just after the line is written
        resp = await client.get(f"/api/deliveries/{got[0]['delivery_id']}", headers=auth)
        delivery = await resp.json()
        if delivery["status"] == "succeeded":
            break
        await asyncio.sleep(0.05)
    assert delivery["digest_events"] == ids and delivery["status"] == "succeeded"
    assert delivery["attempts"][0]["outcome"] == "succeeded"
    items = await (await client.get("/api/deliveries?status=digested", headers=auth)).json()
    assert sorted(d["event_id"] for d in items["items"]) == ids


async def test_ten_thousand_events_in_one_window_make_one_digest(tmp_path, store_url):
    """10,000 grouped sales close into exactly one digest delivery of bounded size."""
    settings = _settings(tmp_path, {"wait": "30s", "interval": "2m", "max_items": 50})
    store = open_store(store_url)
    await store.open()
    try:

        async def save(i):
            body = paid_body(i)
            doc = json.loads(body)
            event = NewEvent(
                "eduzz", doc["id"], doc["event"], None, 1000.0 + i, "accepted", {}, body
            )
            return await store.save_event(event, plan_deliveries(settings, doc["event"], doc))

        for start in range(0, 10_000, 500):
            await asyncio.gather(*(save(i) for i in range(start, start + 500)))
        assert (await store.counts()) == {"grouped": 10_000}
        assert await close_due(store, settings, 0.0, 1.0) == 0  # opens the group
        assert await close_due(store, settings, 31.0, 2.0) == 1
        assert await close_due(store, settings, 32.0, 3.0) == 0
        counts = await store.counts()
        assert counts == {"digested": 10_000, "pending": 1}
        page = await store.list_deliveries(Filter(status="pending"), 10, None)
        event = await store.get_event(page.items[0].event_id)
        assert event.event == "ponte.digest" and len(event.body) < 300_000
        assert json.loads(event.body)["data"]["count"] == 10_000
    finally:
        await store.close()


async def test_a_digest_is_retried_and_replayed_like_any_delivery(
    tmp_path, aiohttp_client, aiohttp_server
):
    """A 503 is retried (two attempts recorded); a replay sends the same items again."""
    answers, bodies = [503], []

    async def hook(request):
        bodies.append(await request.json())
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = await aiohttp_server(app)
    raw_sinks = {"crm": {"type": "webhook", "url": str(server.make_url("/hook"))}}
    settings = build_settings(parse_config({**_raw_with(tmp_path, raw_sinks)}, env={}))
    clock = FakeClock()
    client = await start_app(aiohttp_client, settings, clock)
    for i in range(2):
        await post_signed(client, paid_body(i))
    await tick(client)
    clock.advance(2)
    await tick(client)
    store = client.app[STORE]
    for _ in range(200):
        page = await store.list_deliveries(Filter(status="succeeded"), 10, None)
        if page.items:
            break
        await asyncio.sleep(0.05)
    digest = await store.get_delivery(page.items[0].id)
    assert [a.outcome for a in digest.attempts] == ["retry", "succeeded"]
    await store.reschedule(Filter(event_id=digest.event_id), time.time(), {"crm"})
    for _ in range(200):
        if len(bodies) == 3:
            break
        await asyncio.sleep(0.05)
    assert len(bodies) == 3 and bodies[0] == bodies[2]
    assert [i["external_id"] for i in bodies[2]["data"]["items"]] == [
        "ev-myeduzz.invoice_paid-0",
        "ev-myeduzz.invoice_paid-1",
    ]


def _raw_with(tmp_path, sinks):
    return {
        "storage": {"url": f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": ["test-secret"]}},
        "sinks": sinks,
        "routes": [
            {
                "name": "vendas",
                "events": ["myeduzz.*"],
                "to": [{"sink": "crm", "digest": {"wait": "1s", "interval": "1m"}}],
            }
        ],
        "delivery": {"retry_schedule": ["100ms"]},
    }


async def test_reload_that_changes_the_digest_keeps_each_item_on_its_own_rule(
    tmp_path, aiohttp_client
):
    """Before a reload: sent after the old 30 s wait; after it: the new 5 min wait applies."""
    clock = FakeClock()
    client = await start_app(aiohttp_client, _settings(tmp_path, {"wait": "30s"}), clock)
    for i in range(2):
        await post_signed(client, paid_body(i))
    await tick(client)
    client.app[HOLDER].swap(_settings(tmp_path, {"wait": "5m", "interval": "10m"}))
    for i in range(2, 5):
        await post_signed(client, paid_body(i))
    await tick(client)
    clock.advance(31)
    await tick(client)
    first = await _wait_lines(tmp_path / "chat.jsonl", 1)
    assert first[0]["body"]["data"]["count"] == 2 and first[0]["body"]["data"]["rule"]["wait"] == 30
    assert (await _counts(client)).get("grouped") == 3  # the new rule's items still wait
    clock.advance(270)
    await tick(client)
    both = await _wait_lines(tmp_path / "chat.jsonl", 2)
    assert both[1]["body"]["data"]["count"] == 3 and both[1]["body"]["data"]["rule"]["wait"] == 300


async def test_an_item_replayed_while_its_digest_closes_undoes_the_close(tmp_path, store_url):
    """If an item leaves 'grouped' mid-close, nothing is committed; the next pass sends the rest."""
    from service.batches.digests import parse_key
    from service.batches.scheduler import digest_doc
    from service.store.records import DigestClose

    settings = _settings(tmp_path, {"wait": "1s", "interval": "1m"})
    store = open_store(store_url)
    await store.open()
    try:
        ids = []
        for i in range(3):
            doc = json.loads(paid_body(i))
            event = NewEvent(
                "eduzz", doc["id"], doc["event"], None, 1.0, "accepted", {}, paid_body(i)
            )
            ids.append(
                (
                    await store.save_event(event, plan_deliveries(settings, doc["event"], doc))
                ).event_id
            )
        [group] = await store.digest_groups()
        items, envelope = await digest_doc(store, settings, group, parse_key(group.digest)[0], 5.0)
        await store.reschedule(Filter(event_id=ids[1]), 2.0, {"chat"})  # an operator's replay
        event = NewEvent(
            "ponte",
            envelope["id"],
            "ponte.digest",
            None,
            3.0,
            "accepted",
            {},
            json.dumps(envelope).encode(),
        )
        assert await store.close_digest(DigestClose(group, items, event, 60.0, 3.0)) is None
        assert await store.counts() == {"grouped": 2, "pending": 1}
        assert await close_due(store, settings, 10.0, 4.0) == 0  # opens the group
        assert await close_due(store, settings, 12.0, 5.0) == 1
        assert await store.counts() == {"digested": 2, "pending": 2}
    finally:
        await store.close()


async def test_an_unreadable_digest_key_does_not_hold_back_other_groups(tmp_path, store_url):
    """A grouped row whose key this Ponte cannot read is left alone; other groups still close."""
    from service.store.records import NewDelivery

    settings = _settings(tmp_path, {"wait": "1s", "interval": "1m"})
    store = open_store(store_url)
    await store.open()
    try:
        doc = json.loads(paid_body(1))
        good = NewEvent("eduzz", "a", doc["event"], None, 1.0, "accepted", {}, paid_body(1))
        await store.save_event(good, plan_deliveries(settings, doc["event"], doc))
        bad = NewEvent("eduzz", "b", doc["event"], None, 1.0, "accepted", {}, paid_body(2))
        await store.save_event(bad, [NewDelivery("chat", "vendas", None, "grouped", "{not json")])
        await close_due(store, settings, 0.0, 1.0)
        assert await close_due(store, settings, 2.0, 2.0) == 1
        assert await store.counts() == {"digested": 1, "grouped": 1, "pending": 1}
    finally:
        await store.close()


async def test_a_digest_for_a_disabled_sink_waits_disabled(tmp_path, store_url):
    """Items grouped before the sink was disabled close into a digest that waits for enable."""
    from dataclasses import replace

    settings = _settings(tmp_path, {"wait": "1s", "interval": "1m"})
    store = open_store(store_url)
    await store.open()
    try:
        doc = json.loads(paid_body(1))
        event = NewEvent("eduzz", "a", doc["event"], None, 1.0, "accepted", {}, paid_body(1))
        await store.save_event(event, plan_deliveries(settings, doc["event"], doc))
        disabled = replace(settings, disabled_sinks=frozenset({"chat"}))
        await close_due(store, disabled, 0.0, 1.0)
        assert await close_due(store, disabled, 2.0, 2.0) == 1
        assert await store.counts() == {"digested": 1, "disabled": 1}
        await store.set_sink_disabled("chat", False, None)
        assert await store.counts() == {"digested": 1, "pending": 1}
    finally:
        await store.close()


async def test_a_target_template_renders_its_digests_with_items_and_totals(
    tmp_path, aiohttp_client
):
    """An always-grouping target's template sees data.count, data.totals and data.items."""
    clock = FakeClock()
    template = {
        "text": "{{ data.count }} vendas, {{ data.totals.paid.amounts.BRL | brl }}: "
        "{% for i in data.items %}{{ i.external_id }} {% endfor %}"
    }
    raw = {
        "storage": {"url": f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": ["test-secret"]}},
        "sinks": {
            "chat": {"type": "file", "path": str(tmp_path / "chat.jsonl"), "format": "slack"}
        },
        "routes": [
            {
                "name": "vendas",
                "events": ["myeduzz.invoice_paid"],
                "to": [{"sink": "chat", "template": template, "digest": {"wait": "1s"}}],
            }
        ],
    }
    client = await start_app(aiohttp_client, build_settings(parse_config(raw, env={})), clock)
    for i in range(2):
        await post_signed(client, paid_body(i, 1000.5))
    await tick(client)
    clock.advance(2)
    await tick(client)
    got = await _wait_lines(tmp_path / "chat.jsonl", 1)
    assert got[0]["message"] == {
        "text": "2 vendas, R$ 2.001,00: ev-myeduzz.invoice_paid-0 ev-myeduzz.invoice_paid-1 "
    }


async def test_group_by_with_unbounded_values_folds_past_max_groups_into_outros(
    tmp_path, aiohttp_client
):
    """Ten products with ``max_groups: 3``: three product digests and one "outros" with the rest."""
    clock = FakeClock()
    digest = {"group_by": ["data.items.0.name"], "wait": "10s", "interval": "1m", "max_groups": 3}
    client = await start_app(aiohttp_client, _settings(tmp_path, digest), clock)
    with capture_logs() as logs:
        for i in range(10):
            await post_signed(client, paid_body(i, product=f"Curso {i}"))
    await tick(client)
    clock.advance(11)
    await tick(client)
    got = await _wait_lines(tmp_path / "chat.jsonl", 4)
    by_key = {tuple(g["body"]["data"]["key"]): g["body"]["data"]["count"] for g in got}
    assert by_key == {("Curso 0",): 1, ("Curso 1",): 1, ("Curso 2",): 1, ("outros",): 7}
    warned = [e for e in logs if e["event"] == "digest_groups_capped"]
    assert len(warned) == 1 and warned[0]["max_groups"] == 3 and warned[0]["route"] == "vendas"
