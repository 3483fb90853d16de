"""Probes and metrics keep their own cheap path while console scans run (issue 19, item 8):
with 10,000 stored events and 8 parallel buyer-e-mail searches, ``/readyz`` and
``/metrics`` answer well inside a Kubernetes probe's 1 s, and a scan gets a bounded budget."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import pytest
from console_helpers import console_sections, log_in

from service.keys import STORE
from service.store.records import NewDelivery, NewEvent

EVENTS = 10_000
SEARCHERS = 8
FILLER = "x" * 3000  # a few KB per body, as a real invoice with items and UTMs


async def _seed(store: Any) -> None:
    """10,000 stored sales (bodies of a few KB), as months of a seller's traffic."""
    for i in range(EVENTS):
        body = json.dumps({"id": f"v{i}", "event": "myeduzz.invoice_paid",
                           "data": {"buyer": {"email": f"buyer{i}@example.com"}, "notes": FILLER}})
        event = NewEvent("eduzz", f"v{i}", "myeduzz.invoice_paid", None, time.time(), "accepted",
                         {}, body.encode())
        await store.save_event(event, [NewDelivery("arquivo", "tudo", status="succeeded")] if i % 50 == 0 else [])


async def _timed(client: Any, path: str) -> float:
    began = time.perf_counter()
    resp = await client.get(path)
    await resp.read()
    assert resp.status == 200, path
    return time.perf_counter() - began


async def _search(client: Any, stop: asyncio.Event, done: list[int]) -> None:
    """Search for an e-mail no event has: every search scans its whole budget."""
    while not stop.is_set():
        resp = await client.get("/ui/eventos?email=ninguem@example.com")
        await resp.read()
        assert resp.status in (200, 503)
        done.append(resp.status)


@pytest.mark.slow
async def test_probes_and_metrics_stay_fast_under_8_parallel_console_searches(settings_for, start):
    """p50 and worst /readyz, and worst /metrics, stay far under the probes' 1 s timeout."""
    client = await start(settings_for(**console_sections()))
    await _seed(client.app[STORE])
    await log_in(client)
    stop, done = asyncio.Event(), []
    searchers = [asyncio.create_task(_search(client, stop, done)) for _ in range(SEARCHERS)]
    await asyncio.sleep(0.5)  # the searches are under way
    readyz, metrics = [], []
    for _ in range(20):
        readyz.append(await _timed(client, "/readyz"))
        metrics.append(await _timed(client, "/metrics"))
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*searchers)
    assert len(done) >= SEARCHERS  # the searches really ran alongside
    assert statistics.median(readyz) < 0.1 and max(readyz) < 0.5, readyz
    assert max(metrics) < 0.5, metrics


@pytest.mark.sqlite_only
async def test_a_console_scan_past_its_budget_stops_with_a_clear_message(settings_for, start, monkeypatch):
    """A search that runs out of its budget is interrupted: the page says to narrow it (pt-BR)."""
    from service.store import budget

    client = await start(settings_for(**console_sections()))
    store = client.app[STORE]
    for i in range(200):
        body = json.dumps({"id": f"v{i}", "event": "myeduzz.invoice_paid", "data": {"notes": FILLER}})
        await store.save_event(NewEvent("eduzz", f"v{i}", "myeduzz.invoice_paid", None, time.time(),
                                        "accepted", {}, body.encode()), [])
    await log_in(client)
    monkeypatch.setattr(budget, "SECONDS", 0.0)
    html = await (await client.get("/ui/eventos?email=ninguem@example.com")).text()
    assert "a busca passou do limite" in html
    monkeypatch.setattr(budget, "SECONDS", 3.0)
    assert "a busca passou do limite" not in await (await client.get("/ui/eventos?email=x@example.com")).text()
    assert (await client.get("/readyz")).status == 200
