"""``when_busy`` counted across replicas on PostgreSQL, as ``rate_per_second`` is
(issue 19, item 9): two replicas share one count, so a launch burst is grouped."""

from __future__ import annotations

import json

from conftest import fixture_body, post_signed
from service.keys import STORE
from service.store.records import Filter

ROUTES = [{"name": "vendas", "events": ["myeduzz.invoice_paid"],
           "to": [{"sink": "arquivo", "digest": {"when_busy": "15/min"}}]}]


def _sale(i: int) -> bytes:
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["id"] = f"venda-{i}"
    return json.dumps(doc).encode()


async def _statuses(client) -> list[str]:
    page = await client.app[STORE].list_deliveries(Filter(sink="arquivo"), 100, None)
    return [d.status for d in page.items]


async def test_two_replicas_share_one_when_busy_count(pg_url, settings_for, start):
    """24 sales in a burst through two replicas at 15/min: 15 go alone, the other 9 are grouped."""
    one = await start(settings_for(storage={"url": pg_url}, routes=ROUTES))  # each its own process state
    two = await start(settings_for(storage={"url": pg_url}, routes=ROUTES))
    for i in range(24):
        assert (await post_signed(one if i % 2 else two, _sale(i))).status == 200
    statuses = await _statuses(one)
    assert statuses.count("pending") == 15 and statuses.count("grouped") == 9


async def test_one_sqlite_process_counts_when_busy_as_before(settings_for, start):
    """On SQLite (one serving process per file) the count stays in that process."""
    client = await start(settings_for(routes=ROUTES))
    for i in range(17):
        await post_signed(client, _sale(i))
    statuses = await _statuses(client)
    assert statuses.count("pending") == 15 and statuses.count("grouped") == 2
