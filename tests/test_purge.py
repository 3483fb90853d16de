"""Purging never deletes work still waiting: a delivery held as ``disabled`` keeps its event."""

from __future__ import annotations

import time

from conftest import fixture_body, post_signed
from service.keys import STORE
from service.operate import retention

AUTH = {"Authorization": "Bearer adm"}


async def test_purge_keeps_events_whose_delivery_waits_as_disabled(settings_for, start):
    """An event planned while its sink is disabled survives a purge, and is sent on enable."""
    client = await start(settings_for(server={"admin_token": "adm"}))
    assert (await client.post("/api/sinks/arquivo/disable", headers=AUTH)).status == 200
    resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    event_id = (await resp.json())["event_id"]
    store = client.app[STORE]
    assert (await store.counts()) == {"disabled": 1}
    purged = await retention.prune(store, 1, now=time.time() + 10 * 86400)
    assert purged == 0
    assert (await client.get(f"/api/events/{event_id}", headers=AUTH)).status == 200
    assert (await client.post("/api/sinks/arquivo/enable", headers=AUTH)).status == 200
    assert (await store.counts()) == {"pending": 1}
