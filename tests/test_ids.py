"""Ids are never reused (AUTOINCREMENT, schema v4) and long sender ids never merge two events."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from conftest import post_signed
from service.keys import STORE
from service.operate import retention
from service.store.records import Filter, NewDelivery, NewEvent
from service.store.sqlite.schema import LATEST, MIGRATIONS
from service.store.sqlite.store import SQLiteStore
from test_delivery import wait_for


def _body(n: int | str) -> bytes:
    return json.dumps({"id": f"ev-{n}", "event": "acme.thing", "data": {"n": n}}).encode()


async def test_ids_are_not_reused_after_the_newest_events_are_purged(settings_for, start, tmp_path):
    """Purging every event (and its delivery) never hands their ids to the next event."""
    client = await start(settings_for(), worker=True)
    first = [(await (await post_signed(client, _body(i))).json())["event_id"] for i in range(3)]
    store = client.app[STORE]
    await wait_for(lambda: _succeeded(store, 3))
    purged = await retention.prune(store, 1, now=time.time() + 2 * 86400)
    assert purged == 3
    answer = await (await post_signed(client, _body("new"))).json()
    assert answer["event_id"] > max(first)
    await wait_for(lambda: _succeeded(store, 1))
    page = await store.list_deliveries(Filter(), 10, None)
    assert [d.id for d in page.items] == [4]  # deliveries 1-3 were purged: 4, not 1


async def _succeeded(store: Any, n: int) -> bool:
    return (await store.counts()).get("succeeded", 0) == n


def _v3_database(path: Path) -> None:
    """A database as Ponte's schema v3 left it: two events, deliveries (one due at infinity,
    as an uncapped Retry-After left it) and attempts."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, sql in enumerate(MIGRATIONS[:3], start=1):
        conn.executescript(f"BEGIN; {sql}; INSERT INTO schema_version VALUES ({version}); COMMIT;")
    for i in (1, 2):
        conn.execute(
            "INSERT INTO events (id, source, external_id, event, sent_date, received_at, status, "
            "headers, schema_error, body) "
            "VALUES (?, 'eduzz', ?, 'acme.thing', NULL, ?, 'accepted', '{}', NULL, ?)",
            (i, f"ev-{i}", 1000.0 + i, _body(i)))
        conn.execute(
            "INSERT INTO deliveries (id, event_id, sink, route, status, attempt_count, tries, "
            "next_attempt_at, last_error, order_key, created_at, updated_at) "
            "VALUES (?, ?, 'arquivo', 'tudo', ?, 1, 1, ?, 'boom', 'k', 1000, 1000)",
            (i, i, "failed" if i == 1 else "pending", 1000.0 if i == 1 else float("inf")))
        conn.execute(
            "INSERT INTO attempts (id, delivery_id, number, started_at, duration_ms, outcome, "
            "status_code, error, response) VALUES (?, ?, 1, 1000, 5, 'retry', 503, 'boom', 'x')",
            (i, i))
    conn.close()


def _indexes(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return {(name, " ".join(sql.split())) for name, sql in rows}


async def test_a_v3_database_upgrades_keeping_every_row_and_index(tmp_path):
    """Migration 4 rebuilds the tables with AUTOINCREMENT: rows, ids and indexes all survive."""
    path = tmp_path / "ponte.db"
    _v3_database(path)
    before = _indexes(path)
    store = SQLiteStore(str(path))
    await store.open()
    try:
        event = await store.get_event(2)
        assert event is not None and json.loads(event.body) == json.loads(_body(2))
        delivery = event.deliveries[0]
        assert (delivery.id, delivery.status) == (2, "pending")
        assert delivery.last_error == "boom"
        assert delivery.attempts[0].response == "x"
        assert delivery.next_attempt_at is not None  # an endless Retry-After became due now
        assert (await store.counts()) == {"failed": 1, "pending": 1}
        # the newest event is deleted (as a purge would), then a new one arrives
        await store._writer.run(lambda conn: conn.execute("DELETE FROM events WHERE id = 2"))
        assert (await store.counts()) == {"failed": 1}  # the cascade still works after the rebuild
        saved = await store.save_event(
            NewEvent("eduzz", "ev-3", "acme.thing", None, 2000.0, "accepted", {}, _body(3)),
            [NewDelivery("arquivo", "tudo")])
        assert saved.event_id == 3
        page = await store.list_deliveries(Filter(), 10, None)
        assert page.items[0].id == 3
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (LATEST,)
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        tables = {r[0]: r[1] for r in rows}
    assert all("AUTOINCREMENT" in tables[t] for t in ("events", "deliveries", "attempts"))
    assert not [t for t in tables if t.endswith("_v4")]
    assert before <= _indexes(path)  # every index kept (later migrations may add more)


async def test_long_ids_sharing_a_prefix_are_two_events(settings_for, start):
    """Two ids alike in their first 250 characters are two events, each stored whole."""
    client = await start(settings_for())
    ids = ["x" * 250 + "-primeiro", "x" * 250 + "-segundo"]
    answers = []
    for ext in ids:
        body = json.dumps({"id": ext, "event": "acme.thing", "data": {}}).encode()
        answers.append(await (await post_signed(client, body)).json())
    assert [a["status"] for a in answers] == ["accepted", "accepted"]
    assert answers[0]["event_id"] != answers[1]["event_id"]
    page = await client.app[STORE].list_events(Filter(), 10, None)
    assert sorted(e.external_id for e in page.items) == sorted(ids)
