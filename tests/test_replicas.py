"""Replicas sharing one PostgreSQL database: leases, order keys, the shared rate, leadership."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
import yaml

from conftest import post_signed
from service.cluster import leading
from service.delivery.cluster import SharedRate, shared_rate
from service.delivery.lanes import RateLimit
from service.store.postgres.store import PostgresStore
from service.store.records import NewDelivery, NewEvent


def _event(n: int) -> NewEvent:
    return NewEvent("eduzz", f"r-{n}", "myeduzz.invoice_paid", None, time.time() - 60 + n,
                    "accepted", {}, b"{}")


@pytest.fixture
async def pair(pg_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two replicas' stores on one fresh schema, with short leases and no keeper task."""
    a, b = PostgresStore(pg_url, lease=0.3), PostgresStore(pg_url, lease=0.3)
    await a.open()
    await b.open()
    yield a, b
    await a.close()
    await b.close()


async def _seed(store: PostgresStore, n: int, key: str | None = None) -> None:
    for i in range(n):
        await store.save_event(_event(i), [NewDelivery("s", "r", order_key=key)])


async def test_claims_are_split_between_replicas(pair: tuple[PostgresStore, PostgresStore]) -> None:
    """Two replicas claiming at once never get the same delivery."""
    a, b = pair
    await _seed(a, 40)
    got = await asyncio.gather(*(s.claim_due("s", time.time(), 7, False) for s in (a, b) * 3))
    ids = [c.id for batch in got for c in batch]
    assert len(ids) == len(set(ids)) == 40


async def test_recover_leaves_live_claims_and_takes_expired_ones(
        pair: tuple[PostgresStore, PostgresStore]) -> None:
    """Another replica's claim is untouched while renewed, taken back once its lease ran out."""
    a, b = pair
    a.lease = b.lease = 1.0
    await _seed(a, 3)
    assert len(await a.claim_due("s", time.time(), 3, False)) == 3
    assert await b.recover() == 0  # a is alive
    await asyncio.sleep(0.6)
    assert await a.renew_leases() == 3
    await asyncio.sleep(0.6)  # past the first lease, well within the renewed one
    assert await b.recover() == 0
    await asyncio.sleep(1.2)  # a stopped renewing: it "died"
    assert await b.recover() == 3
    assert len(await b.claim_due("s", time.time(), 5, False)) == 3


async def test_order_keys_hold_across_replicas(pair: tuple[PostgresStore, PostgresStore]) -> None:
    """One delivery per order key in flight, cluster-wide."""
    a, b = pair
    await _seed(a, 3, key="buyer-1")
    (first,) = await a.claim_due("s", time.time(), 5, True)
    assert await b.claim_due("s", time.time(), 5, True) == []
    await a.release([first.id])
    (again,) = await b.claim_due("s", time.time(), 5, True)
    assert again.id == first.id


async def test_a_stale_replica_plans_disabled_deliveries_as_disabled(
        pair: tuple[PostgresStore, PostgresStore]) -> None:
    """A replica that has not heard of a disable yet still stores its deliveries as disabled."""
    a, b = pair
    await a.set_sink_disabled("s", True, "desligado")
    await b.save_event(_event(1), [NewDelivery("s", "r")])  # b believes "s" is enabled
    assert await b.counts() == {"disabled": 1}
    assert await b.claim_due("s", time.time(), 5, False) == []


async def test_rate_is_shared_by_replicas(pair: tuple[PostgresStore, PostgresStore]) -> None:
    """Starts reserved by two replicas are spaced 1/rate apart, as if one replica sent all."""
    a, b = pair
    first = time.time()
    waits = [await store.reserve_rate("slack", 5.0) for store in (a, b, a, b, b, a)]
    # the sixth start is at least five gaps of 1/5 s after the first, whoever reserved them
    # (a limit per replica would let the sixth go at first + 0.4)
    assert time.time() + waits[-1] >= first + 5 * 0.2


def test_shared_rate_only_for_limited_sinks_on_shared_stores(pg_url: str) -> None:
    """SQLite (or no limit) keeps the local limiter; PostgreSQL gets the shared one."""
    store = PostgresStore(pg_url)
    local = RateLimit(2.0)
    assert isinstance(shared_rate(store, "s", local), SharedRate)
    assert shared_rate(store, "s", RateLimit(None)).per_second is None
    assert shared_rate(object(), "s", local) is local


async def test_one_leader_at_a_time(pair: tuple[PostgresStore, PostgresStore]) -> None:
    """``leading``: one replica holds a job's lock; it passes on when that one is done."""
    a, b = pair
    async with (leading(a, "retention") as first, leading(b, "retention") as second,
                leading(b, "reports") as other):
        assert (first, second, other) == (True, False, True)
    async with leading(b, "retention") as later:
        assert later
    async with leading(object(), "retention") as alone:
        assert alone  # a store that is not shared: always the leader


async def test_the_scheduler_runs_on_the_leader_only(
        pair: tuple[PostgresStore, PostgresStore], monkeypatch: pytest.MonkeyPatch) -> None:
    """Digests and reports: a replica's scheduler passes while another holds ``scheduler``."""
    from service.batches import scheduler as sched

    monkeypatch.setattr(sched, "TICK", 0.05)
    a, b = pair
    ticks: list[float] = []

    class Counting(sched.Scheduler):
        async def tick(self) -> None:
            ticks.append(time.time())

    runner = Counting(None, b, asyncio.Event(), None)  # type: ignore[arg-type]
    async with leading(a, "scheduler") as mine:
        assert mine
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0.5)
        assert ticks == []  # a leads: b's scheduler waits its turn
    for _ in range(100):
        if ticks:
            break
        await asyncio.sleep(0.05)
    runner.stop()
    await task
    assert ticks  # a is done: b leads now


async def test_notifications_reach_other_replicas(pair: tuple[PostgresStore, PostgresStore]) -> None:
    """A disable on one replica is announced to the others (``sinks``); new work wakes them."""
    a, b = pair
    heard: asyncio.Queue[str] = asyncio.Queue()
    b.listen(heard.put_nowait)
    await asyncio.wait_for(heard.get(), 10)  # the listener says "work" once it is connected
    await a.set_sink_disabled("s", True, None)
    assert await asyncio.wait_for(heard.get(), 10) == "sinks"
    await a.save_event(_event(9), [NewDelivery("t", "r")])
    assert await asyncio.wait_for(heard.get(), 10) == "work"


# --- through the HTTP ingress ----------------------------------------------------------------


async def test_two_replicas_racing_one_eduzz_id_store_one_event(pg_url, settings_for, start):
    """The same event posted to two replicas at once: stored once; one accepted, one duplicate."""
    settings = settings_for(storage={"url": pg_url})
    one, two = await start(settings), await start(settings)
    for n in range(15):
        body = json.dumps({"id": f"race-{n}", "event": "myeduzz.invoice_paid", "data": {}}).encode()
        answers = await asyncio.gather(post_signed(one, body), post_signed(two, body))
        docs = [await a.json() for a in answers]
        assert sorted(d["status"] for d in docs) == ["accepted", "duplicate"]
        assert docs[0]["event_id"] == docs[1]["event_id"]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT external_id) FROM events").fetchone() == (15, 15)
        assert conn.execute("SELECT COUNT(*) FROM deliveries").fetchone() == (15,)


async def test_killed_connections_answer_503_then_recover(pg_url, settings_for, start):
    """pg_terminate_backend on every connection: 503 (nothing acknowledged), then 200 by itself."""
    url = f"{pg_url}&application_name=ponte_kill_{uuid.uuid4().hex[:8]}"
    client = await start(settings_for(storage={"url": url}))
    body = json.dumps({"id": "before", "event": "acme.x", "data": {}}).encode()
    assert (await post_signed(client, body)).status == 200
    with psycopg.connect(pg_url, autocommit=True) as conn:
        name = url.rsplit("=", 1)[1]
        killed = conn.execute("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE application_name = %s", (name,)).fetchone()
    assert killed is not None and killed[0] >= 1
    answers: list[tuple[str, int]] = []
    for n in range(20):  # bounded: the pool replaces dead connections as it meets them
        external_id = f"after-{n}"
        body = json.dumps({"id": external_id, "event": "acme.x", "data": {}}).encode()
        resp = await post_signed(client, body)
        answers.append((external_id, resp.status))
        if resp.status == 200:
            break
    assert answers[0][1] == 503 and answers[-1][1] == 200, answers
    assert {status for _, status in answers} <= {200, 503}
    with psycopg.connect(pg_url) as conn:
        stored = {r[0] for r in conn.execute("SELECT external_id FROM events")}
    assert stored == {"before", answers[-1][0]}  # a 503 stored nothing


async def _until(check: Any, what: str) -> None:
    """Poll ``check()`` every 20 ms, at most 10 s."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what}: not within 10 s")


async def test_disable_and_reload_reach_the_other_replica(pg_url, tmp_path, start):
    """A sink disabled, or a config reloaded, through one replica's API: the other follows."""
    from conftest import base_config
    from service.config.settings import load_settings
    from service.keys import HOLDER

    raw = base_config(tmp_path, storage={"url": pg_url}, server={"admin_token": "t"})
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(raw))
    one = await start(load_settings(str(path)), worker=True)
    two = await start(load_settings(str(path)), worker=True)
    auth = {"Authorization": "Bearer t"}
    assert (await one.post("/api/sinks/arquivo/disable", headers=auth)).status == 200
    await _until(lambda: "arquivo" in two.app[HOLDER].settings.disabled_sinks, "disable heard")
    raw["sinks"]["extra"] = {"type": "file", "path": str(tmp_path / "extra.jsonl")}
    path.write_text(yaml.safe_dump(raw))
    assert (await one.post("/api/reload", headers=auth)).status == 200
    await _until(lambda: "extra" in two.app[HOLDER].settings.config.sinks, "reload heard")


async def test_rate_limited_lanes_use_the_shared_limit(pg_url, settings_for, start):
    """On PostgreSQL a sink's ``rate_per_second`` is the database's; unlimited sinks keep none."""
    from service.delivery.worker import WORKER

    sinks = {"lento": {"type": "webhook", "url": "http://127.0.0.1:9/x", "rate_per_second": 2},
             "arquivo": {"type": "file", "path": "/dev/null"}}
    client = await start(settings_for(storage={"url": pg_url}, sinks=sinks,
                                      routes=[{"name": "r", "events": ["*"], "to": ["arquivo"]}]),
                         worker=True)
    lanes = client.app[WORKER].lanes
    assert isinstance(lanes["lento"].rate, SharedRate) and lanes["lento"].rate.per_second == 2
    assert not isinstance(lanes["arquivo"].rate, SharedRate)
