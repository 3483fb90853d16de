"""A sink disabled or enabled offline (``ponte sinks disable`` without ``--url``, or another
replica) reaches every running process within 5 s, on SQLite and PostgreSQL (issue 19, item 10)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from conftest import fixture_body, post_signed
from service.keys import HOLDER, STORE
from service.store.open import open_store
from service.store.records import Filter

APPLY_WITHIN = 5.0


async def _seconds_until(check: Any) -> float:
    """How long until ``check()`` holds (fails past 2 × APPLY_WITHIN)."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < 2 * APPLY_WITHIN, "never applied"
        await asyncio.sleep(0.05)
    return time.monotonic() - began


async def _offline(url: str, disabled: bool) -> None:
    """What ``ponte sinks disable|enable arquivo`` does without ``--url``: the database only."""
    store = open_store(url)
    await store.open()
    try:
        await store.set_sink_disabled("arquivo", disabled, "disabled by an operator" if disabled else None)
    finally:
        await store.close()


async def test_a_sink_disabled_offline_stops_receiving_within_5_s(settings_for, start, store_url, tmp_path: Path):
    """The running service sees the flag within 5 s: new events wait as disabled, none is written."""
    client = await start(settings_for(), worker=True)
    await _offline(store_url, True)
    took = await _seconds_until(lambda: "arquivo" in client.app[HOLDER].settings.disabled_sinks)
    assert took <= APPLY_WITHIN
    event_id = int((await (await post_signed(client, fixture_body("myeduzz.invoice_paid"))).json())["event_id"])
    await asyncio.sleep(0.5)
    page = await client.app[STORE].list_deliveries(Filter(event_id=event_id), 10, None)
    assert [d.status for d in page.items] == ["disabled"]
    assert not (tmp_path / "out.jsonl").exists()
    await _offline(store_url, False)
    await _seconds_until(lambda: "arquivo" not in client.app[HOLDER].settings.disabled_sinks)
    await _seconds_until(lambda: (tmp_path / "out.jsonl").exists())
