"""The console's store queries on SQLite and PostgreSQL: counts stop at their cap, scans at theirs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.store.open import open_store
from service.store.protocol import Store
from service.store.records import AttemptResult, Filter, NewDelivery, NewEvent

NOW = time.time()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """A fresh store with 6 events: two an hour ago, four now; crm fails on every third."""
    store = open_store(store_url)
    await store.open()
    for i in range(6):
        received = NOW - 3600 if i < 2 else NOW
        body = f'{{"id": "e{i}", "data": {{"buyer": {{"email": "b{i}@example.com"}}}}}}'.encode()
        event = NewEvent("eduzz", f"e{i}", "myeduzz.invoice_paid", None, received, "accepted", {}, body)
        saved = await store.save_event(event, [NewDelivery("crm", "r"), NewDelivery("arquivo", "r")])
        page = await store.list_deliveries(Filter(event_id=saved.event_id), 10, None)
        for d in page.items:
            failed = d.sink == "crm" and i % 3 == 0
            await store.record_attempt(_attempt(d.id, "failed" if failed else "succeeded",
                                                "HTTP 500" if failed else None))
    yield store
    await store.close()


def _attempt(delivery_id: int, status: str, error: str | None) -> AttemptResult:
    return AttemptResult(delivery_id, NOW, 5.0, status, status, NOW, error=error)


async def test_window_counts_and_their_cap(store: Any) -> None:
    """Received since a time, delivered and failed since it, waiting now; each stops at the cap."""
    counts = await store.window_counts(NOW - 7200, 1000)
    assert counts == {"received": 6, "delivered": 10, "failed": 2, "waiting": 0, "disabled": 0}
    assert (await store.window_counts(NOW - 60, 1000))["received"] == 4
    assert (await store.window_counts(NOW - 7200, 3))["delivered"] == 3


async def test_hourly_series(store: Any) -> None:
    """Events per hour by reception; dead letters by the hour they failed."""
    rows = await store.hourly(NOW - 7200, 1000)
    by_hour = {h: (e, f) for h, e, f in rows}
    assert by_hour[int(NOW // 3600) * 3600][0] == 4
    assert sum(f for _, f in by_hour.values()) == 2  # failed "now", by the clock of the writer
    assert by_hour[int((NOW - 3600) // 3600) * 3600][0] == 2


async def test_sink_outcomes_and_failure_groups(store: Any) -> None:
    """Success counts per sink; dead letters grouped by sink and error, newest id kept."""
    outcomes = await store.sink_outcomes(NOW - 60, 1000)
    assert outcomes == {"crm": (4, 2), "arquivo": (6, 0)}
    groups = await store.failure_groups(1000, 10)
    assert [(g.sink, g.error, g.count) for g in groups] == [("crm", "HTTP 500", 2)]
    failed = await store.list_deliveries(Filter(status="failed"), 10, None)
    assert groups[0].newest_id == max(d.id for d in failed.items)


async def test_scan_events_stops_at_its_scan_size_and_goes_on(store: Any) -> None:
    """A body search looks at ``scan`` events and returns where to go on from."""
    page = await store.scan_events(Filter(), "b0@example.com", 50, None, 2)
    assert page.items == [] and page.next == "5"
    found: list[int] = []
    cursor = page.next
    while cursor is not None:
        page = await store.scan_events(Filter(), "b0@example.com", 50, cursor, 2)
        found += [i.event_id for i in page.items]
        cursor = page.next
    assert found == [1]
    failing = await store.scan_events(Filter(status="failed"), None, 50, None, 100)
    assert [i.event_id for i in failing.items] == [4, 1] and failing.next is None


async def test_delivery_summary_and_bounded_count(store: Any) -> None:
    """Statuses per event for the list; a capped count for the bulk-replay confirmation."""
    summary = await store.delivery_summary([1, 2])
    assert summary == {1: {"failed": 1, "succeeded": 1}, 2: {"succeeded": 2}}
    assert await store.delivery_summary([]) == {}
    assert await store.count_deliveries(Filter(status="failed"), 1000) == 2
    assert await store.count_deliveries(Filter(status="succeeded"), 4) == 4
