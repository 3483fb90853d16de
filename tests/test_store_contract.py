"""One contract every Store keeps, run against SQLite and PostgreSQL alike.

Each test states a promise of a ``Store`` method (see the docstrings of the protocol in
``service/store/__init__.py``) and checks it on a real database of each backend.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.errors import StorageUnavailable
from service.store.open import open_store
from service.store.protocol import Store
from service.store.records import (
    AttemptRecord,
    AttemptResult,
    Cancel,
    DigestClose,
    DigestGroup,
    Filter,
    NewDelivery,
    NewEvent,
    ReportRun,
)

T0 = 1_700_000_000.0
Factory = Callable[[], Store]


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: Any, tmp_path: Path) -> Factory:
    """A factory of stores on one fresh database of the backend under test (short leases)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ponte.db"
    else:
        url = request.getfixturevalue("pg_url")
    return lambda: open_store(url, lease=0.05)


@pytest.fixture
async def store(make_store: Factory) -> AsyncIterator[Store]:
    """An opened store on a fresh database."""
    s = make_store()
    await s.open()
    yield s
    await s.close()


def event(external_id: str = "1", *, name: str = "myeduzz.invoice_paid", at: float = T0,
          source: str = "eduzz", body: bytes = b'{"id": "1"}') -> NewEvent:
    """A NewEvent with sensible defaults."""
    return NewEvent(source, external_id, name, "2024-01-01T00:00:00Z", at, "accepted",
                    {"x-signature": "abc"}, body)


async def seed(store: Store, n: int, *, sinks: tuple[str, ...] = ("a",), at: float = T0,
               key: str | None = None) -> list[int]:
    """Save ``n`` events with one delivery per sink; return the event ids."""
    ids = []
    for i in range(n):
        ds = [NewDelivery(s, "r", order_key=key) for s in sinks]
        ids.append((await store.save_event(event(f"seed-{at}-{i}", at=at + i), ds)).event_id)
    return ids


def result(delivery_id: int, outcome: str = "succeeded", status: str = "succeeded", *,
           at: float = T0, next_at: float = T0, reset: bool = False) -> AttemptResult:
    """An AttemptResult with sensible defaults."""
    return AttemptResult(delivery_id, at, 12.5, outcome, status, next_at, 200 if outcome == "succeeded"
                         else 503, None if outcome == "succeeded" else "boom", "ok", reset_tries=reset)


async def statuses(store: Store) -> dict[int, str]:
    """Every delivery's status by id."""
    page = await store.list_deliveries(Filter(), 1000, None)
    return {d.id: d.status for d in page.items}


# --- life cycle -----------------------------------------------------------------------


async def test_ping_answers_while_open_and_refuses_after_close(make_store: Factory) -> None:
    """``ping`` returns while open; after ``close`` it raises StorageUnavailable."""
    s = make_store()
    await s.open()
    await s.ping()
    await s.close()
    with pytest.raises(StorageUnavailable):
        await s.ping()


async def test_data_survives_reopening(make_store: Factory) -> None:
    """What was saved is there after closing and opening again (migrations are idempotent)."""
    s = make_store()
    await s.open()
    saved = await s.save_event(event(), [NewDelivery("a", "r")])
    await s.close()
    s = make_store()
    await s.open()
    try:
        assert (await s.get_event(saved.event_id)) is not None
    finally:
        await s.close()


# --- save_event -----------------------------------------------------------------------


async def test_save_event_keeps_everything(store: Store) -> None:
    """The event is stored byte for byte with its headers and one delivery per sink."""
    body = b'{"id": "1", "ok": "\xc3\xa1"}'
    saved = await store.save_event(event(body=body), [NewDelivery("a", "r1"), NewDelivery("b", "r2")])
    assert not saved.duplicate
    got = await store.get_event(saved.event_id)
    assert got is not None
    assert got.body == body.decode() and got.headers == {"x-signature": "abc"}
    assert (got.source, got.external_id, got.event) == ("eduzz", "1", "myeduzz.invoice_paid")
    assert got.received_at == "2023-11-14T22:13:20.000Z"
    assert [(d.sink, d.route, d.status) for d in got.deliveries] == [
        ("a", "r1", "pending"), ("b", "r2", "pending")]


async def test_save_event_dedups_on_source_id_and_name(store: Store) -> None:
    """Same (source, id, name): the original's id, duplicate=True, no new deliveries."""
    first = await store.save_event(event(), [NewDelivery("a", "r")])
    again = await store.save_event(event(), [NewDelivery("a", "r"), NewDelivery("b", "r")])
    assert again.duplicate and again.event_id == first.event_id
    assert await store.counts() == {"pending": 1}
    other_name = await store.save_event(event(name="myeduzz.invoice_refunded"), [])
    other_source = await store.save_event(event(source="outra"), [])
    assert not other_name.duplicate and not other_source.duplicate
    assert len({first.event_id, other_name.event_id, other_source.event_id}) == 3


async def test_save_event_ids_grow(store: Store) -> None:
    """Each new event gets a larger id than the one before."""
    ids = await seed(store, 5)
    assert ids == sorted(ids) and len(set(ids)) == 5


async def test_planned_disabled_deliveries_wait(store: Store) -> None:
    """A delivery planned as ``disabled`` is stored so and never claimed."""
    await store.save_event(event(), [NewDelivery("a", "r", status="disabled")])
    assert await store.counts() == {"disabled": 1}
    assert await store.claim_due("a", T0 + 10, 10, False) == []


# --- claim_due, record_attempt, release -------------------------------------------


async def test_claim_due_takes_due_deliveries_once(store: Store) -> None:
    """Due deliveries of that sink only, up to ``limit``, oldest first, each claimed once."""
    await seed(store, 3, sinks=("a", "b"))
    await seed(store, 1, at=T0 + 100)  # not due yet
    first = await store.claim_due("a", T0 + 10, 2, False)
    assert [c.sink for c in first] == ["a", "a"]
    assert first[0].id < first[1].id and first[0].received_at == T0
    rest = await store.claim_due("a", T0 + 10, 10, False)
    assert len(rest) == 1 and rest[0].id not in {c.id for c in first}
    assert await store.claim_due("a", T0 + 10, 10, False) == []
    assert (await store.counts())["sending"] == 3


async def test_claimed_carries_what_the_sink_needs(store: Store) -> None:
    """A Claimed holds the event's body, name, ids and the delivery's counters."""
    saved = await store.save_event(event(body=b"raw"), [NewDelivery("a", "r")])
    (c,) = await store.claim_due("a", T0, 1, False)
    assert (c.event_id, c.sink, c.route, c.source, c.event, c.external_id, c.body) == (
        saved.event_id, "a", "r", "eduzz", "myeduzz.invoice_paid", "1", b"raw")
    assert (c.attempt_count, c.tries, c.sent_date) == (0, 0, "2024-01-01T00:00:00Z")


async def test_first_tries_go_before_retries(store: Store) -> None:
    """A retry that is due waits behind first tries that are due."""
    await seed(store, 1)
    (old,) = await store.claim_due("a", T0, 1, False)
    await store.record_attempt(result(old.id, "retry", "pending", next_at=T0 + 1))
    await seed(store, 2, at=T0 + 2)
    got = await store.claim_due("a", T0 + 10, 3, False)
    assert [c.id for c in got][-1] == old.id and got[-1].tries == 1


async def test_ordered_claims_one_per_key(store: Store) -> None:
    """With ``ordered``, a key's next delivery waits until the one before it is done."""
    await seed(store, 3, key="k1")
    await seed(store, 1, key="k2", at=T0 + 5)
    got = await store.claim_due("a", T0 + 10, 10, True)
    assert len(got) == 2  # the first of k1 and the k2 one
    assert await store.claim_due("a", T0 + 10, 10, True) == []
    first_k1 = min(c.id for c in got)
    await store.record_attempt(result(first_k1, "retry", "pending", next_at=T0 + 20))
    assert await store.claim_due("a", T0 + 10, 10, True) == []  # k1's first is pending again
    (again,) = await store.claim_due("a", T0 + 30, 10, True)
    assert again.id == first_k1
    await store.record_attempt(result(first_k1))
    (second,) = await store.claim_due("a", T0 + 30, 10, True)
    assert second.id > first_k1


async def test_record_attempt_success_and_retry(store: Store) -> None:
    """Success: ``succeeded`` with the attempt kept. Retry: ``pending`` at ``next_attempt_at``."""
    await seed(store, 2)
    a, b = await store.claim_due("a", T0 + 10, 2, False)
    await store.record_attempt(result(a.id))
    await store.record_attempt(result(b.id, "retry", "pending", next_at=T0 + 60))
    da, db = await store.get_delivery(a.id), await store.get_delivery(b.id)
    assert da is not None and db is not None
    assert (da.status, da.attempt_count, da.next_attempt_at) == ("succeeded", 1, None)
    assert da.attempts == [AttemptRecord(number=1, started_at="2023-11-14T22:13:20.000Z",
                                         duration_ms=12.5, outcome="succeeded", status_code=200,
                                         error=None, response="ok")]
    assert (db.status, db.last_error, db.next_attempt_at) == (
        "pending", "boom", "2023-11-14T22:14:20.000Z")
    assert await store.next_due(["a"]) == T0 + 60
    (again,) = await store.claim_due("a", T0 + 60, 5, False)
    assert (again.attempt_count, again.tries) == (1, 1)


async def test_record_attempt_reset_tries(store: Store) -> None:
    """``reset_tries`` starts the retry budget over; ``attempt_count`` still counts every try."""
    await seed(store, 1)
    (c,) = await store.claim_due("a", T0, 1, False)
    await store.record_attempt(result(c.id, "retry", "pending"))
    (c,) = await store.claim_due("a", T0, 1, False)
    await store.record_attempt(result(c.id, "retry", "pending", reset=True))
    (c,) = await store.claim_due("a", T0, 1, False)
    assert (c.attempt_count, c.tries) == (2, 0)


async def test_record_attempt_on_a_purged_delivery_is_a_no_op(store: Store) -> None:
    """Recording against a delivery that no longer exists does nothing and raises nothing."""
    await store.record_attempt(result(424242))
    assert await store.counts() == {}


async def test_release_gives_claims_back_without_an_attempt(store: Store) -> None:
    """Released deliveries are pending again with no attempt counted; others are untouched."""
    await seed(store, 2)
    a, b = await store.claim_due("a", T0 + 10, 2, False)
    await store.record_attempt(result(b.id))
    await store.release([a.id, b.id])
    assert await statuses(store) == {a.id: "pending", b.id: "succeeded"}
    (again,) = await store.claim_due("a", T0 + 10, 2, False)
    assert (again.id, again.attempt_count) == (a.id, 0)


async def test_recover_returns_abandoned_claims(make_store: Factory) -> None:
    """Claims of a process that is gone (and whose lease ran out) become pending again."""
    first = make_store()
    await first.open()
    await seed(first, 2)
    claimed = await first.claim_due("a", T0 + 10, 2, False)
    await first.close()  # gone without recording or releasing
    await asyncio.sleep(0.1)  # longer than the 0.05 s lease (SQLite has no lease)
    second = make_store()
    await second.open()
    try:
        assert await second.recover() == 2
        assert set((await statuses(second)).values()) == {"pending"}
        assert len(await second.claim_due("a", T0 + 10, 5, False)) == len(claimed)
    finally:
        await second.close()


async def test_next_due(store: Store) -> None:
    """The earliest pending ``next_attempt_at`` of the given sinks; None when there is none."""
    assert await store.next_due([]) is None
    assert await store.next_due(["a"]) is None
    await seed(store, 1, sinks=("a",), at=T0 + 5)
    await seed(store, 1, sinks=("b",), at=T0 + 3)
    assert await store.next_due(["a"]) == T0 + 5
    assert await store.next_due(["a", "b"]) == T0 + 3
    await store.claim_due("b", T0 + 10, 5, False)
    assert await store.next_due(["b"]) is None  # sending is not pending


# --- lists and records ----------------------------------------------------------------


async def test_list_events_pages_newest_first(store: Store) -> None:
    """Newest first, ``limit`` per page, ``next`` cursor until the last page."""
    ids = await seed(store, 5)
    page = await store.list_events(Filter(), 2, None)
    seen = [e.event_id for e in page.items]
    while page.next is not None:
        page = await store.list_events(Filter(), 2, page.next)
        seen += [e.event_id for e in page.items]
    assert seen == ids[::-1]


async def test_list_events_filters(store: Store) -> None:
    """source, external_id, event glob, since/until each narrow the list."""
    await store.save_event(event("1", name="myeduzz.invoice_paid", at=T0), [])
    await store.save_event(event("2", name="myeduzz.invoice_refunded", at=T0 + 10), [])
    await store.save_event(event("3", name="club.member_created", at=T0 + 20, source="outra"), [])

    async def ids(**kw: Any) -> list[str]:
        return [e.external_id for e in (await store.list_events(Filter(**kw), 10, None)).items]

    assert await ids(event="myeduzz.invoice_*") == ["2", "1"]
    assert await ids(event="*refund?d") == ["2"]
    assert await ids(event="myeduzz.invoice_[pq]aid") == ["1"]
    assert await ids(source="outra") == ["3"]
    assert await ids(external_id="2") == ["2"]
    assert await ids(since=T0 + 10) == ["3", "2"]
    assert await ids(until=T0 + 10) == ["1"]


async def test_get_event_missing(store: Store) -> None:
    """An id that does not exist gives None."""
    assert await store.get_event(999) is None
    assert await store.get_delivery(999) is None


async def test_list_deliveries_filters_and_pages(store: Store) -> None:
    """status, sink, event_id and route narrow the list; pages go newest first."""
    ids = await seed(store, 3, sinks=("a", "b"))
    (c,) = await store.claim_due("b", T0 + 10, 1, False)
    await store.record_attempt(result(c.id, "failed", "failed"))

    async def sinks(**kw: Any) -> list[tuple[str, str]]:
        page = await store.list_deliveries(Filter(**kw), 10, None)
        return [(d.sink, d.status) for d in page.items]

    assert await sinks(status="failed") == [("b", "failed")]
    assert len(await sinks(sink="a")) == 3
    assert await sinks(event_id=ids[2]) == [("b", "pending"), ("a", "pending")]
    assert len(await sinks(route="r")) == 6 and await sinks(route="x") == []
    page = await store.list_deliveries(Filter(), 4, None)
    rest = await store.list_deliveries(Filter(), 4, page.next)
    assert len(page.items) == 4 and len(rest.items) == 2 and rest.next is None
    assert page.items[0].id > rest.items[0].id


# --- operator actions -----------------------------------------------------------------


async def test_reschedule(store: Store) -> None:
    """Matching deliveries become pending now with a fresh budget; unknown sinks are skipped."""
    await seed(store, 2, sinks=("a", "gone"))
    done = await store.claim_due("a", T0 + 10, 2, False)
    await store.record_attempt(result(done[0].id, "failed", "failed"))
    # done[1] stays 'sending': never rescheduled under a sender's feet
    rescheduled, skipped = await store.reschedule(Filter(), T0 + 50, {"a"})
    assert (rescheduled, skipped) == (1, 2)
    d = await store.get_delivery(done[0].id)
    assert d is not None and d.status == "pending" and d.attempt_count == 1
    (again,) = await store.claim_due("a", T0 + 50, 5, False)
    assert (again.id, again.tries) == (done[0].id, 0)
    assert await store.reschedule(Filter(sink="a", status="succeeded"), T0, {"a"}) == (0, 0)


async def test_set_sink_disabled_and_enabled(store: Store) -> None:
    """Disable parks pending deliveries as ``disabled``; enable makes them pending again."""
    await seed(store, 3, sinks=("a", "b"))
    assert await store.set_sink_disabled("a", True, "410 Gone") == 3
    assert await store.sink_states() == {"a": (True, "410 Gone")}
    assert await store.claim_due("a", T0 + 10, 10, False) == []
    assert await store.counts() == {"disabled": 3, "pending": 3}
    assert await store.set_sink_disabled("a", False, None) == 3
    assert await store.sink_states() == {"a": (False, None)}
    assert len(await store.claim_due("a", time.time(), 10, False)) == 3


async def test_backlog_and_counts(store: Store) -> None:
    """backlog: pending+sending per sink with the oldest creation; counts: by status."""
    assert await store.backlog() == []
    await seed(store, 2, sinks=("a", "b"))
    (c,) = await store.claim_due("b", T0 + 10, 1, False)
    await store.record_attempt(result(c.id))
    assert sorted(await store.backlog()) == [("a", 2, T0), ("b", 1, T0 + 1)]
    assert await store.counts() == {"pending": 3, "succeeded": 1}


async def test_purge_keeps_what_is_not_done(store: Store) -> None:
    """Old events with nothing pending or sending go (with their rows), in batches."""
    done = await seed(store, 3, at=T0)
    waiting = await seed(store, 1, at=T0 + 5)
    claims = await store.claim_due("a", T0 + 10, 4, False)
    for c in claims:
        if c.event_id != waiting[0]:
            await store.record_attempt(result(c.id))
    await seed(store, 1, at=T0 + 1000)  # recent
    parked = (await store.save_event(event("parked", at=T0 + 6),
                                     [NewDelivery("a", "r", status="disabled")])).event_id
    grouped = (await store.save_event(event("grouped", at=T0 + 7),
                                      [NewDelivery("a", "r", status="grouped", digest="k")])).event_id
    assert await store.count_purgeable(T0 + 100) == 3
    assert await store.purge(T0 + 100, 2) == 2
    assert await store.purge(T0 + 100, 2) == 1
    assert await store.purge(T0 + 100, 2) == 0
    assert all([await store.get_event(i) is None for i in done])
    assert await store.get_event(waiting[0]) is not None
    assert await store.get_event(parked) is not None and await store.get_event(grouped) is not None
    assert await store.count_purgeable(T0 + 100) == 0
    assert await store.counts() == {"sending": 1, "pending": 1, "disabled": 1, "grouped": 1}


async def test_count_purgeable_is_a_dry_run(store: Store) -> None:
    """``count_purgeable`` counts what ``purge`` would delete and deletes nothing."""
    ids = await seed(store, 3, at=T0)
    for c in await store.claim_due("a", T0 + 10, 2, False):
        await store.record_attempt(result(c.id))
    assert await store.count_purgeable(T0 + 100) == 2
    assert await store.count_purgeable(T0 + 1) == 1  # received before T0 + 1: the first only
    assert all([await store.get_event(i) is not None for i in ids])


async def test_dead_letters_count_failed_per_sink(store: Store) -> None:
    """``dead_letters``: per sink, how many deliveries are ``failed``; sinks with none absent."""
    assert await store.dead_letters() == {}
    await seed(store, 3, sinks=("a", "b", "c"))
    for sink, n in (("a", 2), ("b", 1)):
        for c in await store.claim_due(sink, T0 + 10, n, False):
            await store.record_attempt(result(c.id, "failed", "failed"))
    (c,) = await store.claim_due("c", T0 + 10, 1, False)
    await store.record_attempt(result(c.id))
    assert await store.dead_letters() == {"a": 2, "b": 1}


async def test_size_bytes(store: Store) -> None:
    """The database's size in bytes: positive once it holds data."""
    await seed(store, 3)
    assert await store.size_bytes() > 0


async def test_nul_characters_in_ids_are_stored(store: Store) -> None:
    """An id or name holding NUL (valid JSON: ``\\u0000``) is stored, and dedups like any other."""
    ev = event("a\x00b", name="acme.\x00x", body=b'{"id": "a\\u0000b"}')
    first = await store.save_event(ev, [NewDelivery("a", "r")])
    again = await store.save_event(ev, [NewDelivery("a", "r")])
    assert not first.duplicate and again.duplicate and again.event_id == first.event_id
    got = await store.get_event(first.event_id)
    assert got is not None and got.body == '{"id": "a\\u0000b"}'
    assert got.external_id in ("a\x00b", "a\ufffdb")  # PostgreSQL text cannot hold NUL


async def test_filters_with_nul_find_the_event(store: Store) -> None:
    """A filter value holding NUL is a value like any other, not an error."""
    saved = await store.save_event(event("a\x00b"), [NewDelivery("a", "r")])
    page = await store.list_events(Filter(external_id="a\x00b"), 10, None)
    assert [e.event_id for e in page.items] == [saved.event_id]
    assert len((await store.list_deliveries(Filter(external_id="a\x00b"), 10, None)).items) == 1


# --- digests and reports ----------------------------------------------------------------


def grouped(key: str = "k", sink: str = "a") -> list[NewDelivery]:
    """One ``grouped`` delivery to ``sink`` under digest ``key``."""
    return [NewDelivery(sink, "r", status="grouped", digest=key)]


async def seed_grouped(store: Store, n: int, *, key: str = "k", at: float = T0) -> list[int]:
    """Save ``n`` events, each with one delivery waiting ``grouped`` under ``key``."""
    ids = []
    for i in range(n):
        saved = await store.save_event(event(f"g-{key}-{at}-{i}", at=at + i), grouped(key))
        ids.append(saved.event_id)
    return ids


def digest_close(group: DigestGroup, item_ids: list[int], name: str = "d1",
                 status: str = "pending") -> DigestClose:
    """A DigestClose of ``item_ids`` with a ``ponte.digest`` event named ``name``."""
    ev = NewEvent("ponte", name, "ponte.digest", None, T0 + 50, "accepted", {}, b'{"items": []}')
    return DigestClose(group, item_ids, ev, T0 + 120, T0 + 50, status)


async def test_digest_groups_merge_waiting_items_and_group_rows(store: Store) -> None:
    """Groups come from waiting items (no row yet) and from rows (opened, maybe empty)."""
    assert await store.digest_groups() == []
    await seed_grouped(store, 3)
    [g] = await store.digest_groups()
    assert (g.sink, g.route, g.digest, g.waiting, g.opened_at, g.due_at) == ("a", "r", "k", 3, None, None)
    await store.open_digest_group(g, T0, T0 + 60)
    await store.open_digest_group(g, T0 + 1, T0 + 61)  # again: the clock restarts
    [g] = await store.digest_groups()
    assert (g.waiting, g.opened_at, g.due_at) == (3, T0 + 1, T0 + 61)
    await store.open_digest_group(DigestGroup("b", "r", "idle", 0), T0, T0 + 60)
    assert sorted((x.sink, x.waiting) for x in await store.digest_groups()) == [("a", 3), ("b", 0)]


async def test_drop_digest_group_keeps_a_group_with_items(store: Store) -> None:
    """``drop_digest_group`` forgets an empty group, never one whose items wait."""
    await seed_grouped(store, 1)
    [g] = await store.digest_groups()
    await store.open_digest_group(g, T0, T0 + 60)
    empty = DigestGroup("b", "r", "idle", 0)
    await store.open_digest_group(empty, T0, T0 + 60)
    await store.drop_digest_group(g)
    await store.drop_digest_group(empty)
    [left] = await store.digest_groups()
    assert (left.sink, left.opened_at) == ("a", T0)


async def test_digest_items_page_oldest_first(store: Store) -> None:
    """``digest_items``: the group's waiting items by delivery id, after ``after_id``."""
    ids = await seed_grouped(store, 5)
    await seed_grouped(store, 2, key="other")
    [g] = [x for x in await store.digest_groups() if x.digest == "k"]
    first = await store.digest_items(g, 0, 3)
    assert [i.event_id for i in first] == ids[:3]
    rest = await store.digest_items(g, first[-1].id, 3)
    assert [i.event_id for i in rest] == ids[3:]
    item = first[0]
    assert (item.source, item.event, item.external_id, item.received_at, item.body) == (
        "eduzz", "myeduzz.invoice_paid", f"g-k-{T0}-0", T0, b'{"id": "1"}')


async def test_close_digest_takes_its_items_in_one_transaction(store: Store) -> None:
    """A closed digest: its event and delivery, items ``digested`` under it, the group's next due."""
    ids = await seed_grouped(store, 3)
    [g] = await store.digest_groups()
    await store.open_digest_group(g, T0, T0 + 60)
    items = await store.digest_items(g, 0, 10)
    delivery_id = await store.close_digest(digest_close(g, [i.id for i in items]))
    assert delivery_id is not None
    assert await store.counts() == {"digested": 3, "pending": 1}
    got = await store.get_delivery(delivery_id)
    assert got is not None and got.digest_events == ids and got.status == "pending"
    plain = await store.get_delivery(items[0].id)
    assert plain is not None and plain.digest_events is msgspec.UNSET
    [g] = await store.digest_groups()
    assert (g.waiting, g.due_at) == (0, T0 + 120)
    assert [c.id for c in await store.claim_due("a", T0 + 60, 10, False)] == [delivery_id]


async def test_close_digest_undoes_everything_if_an_item_moved(store: Store) -> None:
    """An item no longer ``grouped`` (replayed meanwhile): None, and nothing is committed."""
    ids = await seed_grouped(store, 3)
    [g] = await store.digest_groups()
    await store.open_digest_group(g, T0, T0 + 60)
    items = await store.digest_items(g, 0, 10)
    await store.reschedule(Filter(event_id=ids[1]), T0 + 2, {"a"})
    assert await store.close_digest(digest_close(g, [i.id for i in items])) is None
    assert await store.counts() == {"grouped": 2, "pending": 1}
    assert (await store.list_events(Filter(source="ponte"), 10, None)).items == []


async def test_close_digest_for_a_disabled_sink_waits_disabled(store: Store) -> None:
    """A digest closed with status ``disabled`` waits for its sink to be enabled."""
    await seed_grouped(store, 2)
    [g] = await store.digest_groups()
    items = await store.digest_items(g, 0, 10)
    assert await store.close_digest(digest_close(g, [i.id for i in items], status="disabled"))
    assert await store.counts() == {"digested": 2, "disabled": 1}


@pytest.mark.parametrize("names", [("x", "y"), ("same", "same")])
async def test_two_closers_of_one_group_make_one_digest(make_store: Factory,
                                                        names: tuple[str, str]) -> None:
    """Two stores (replicas) closing the same group at once: one digest, items in it once.

    With the same digest id (what two replicas build from the same items) or different ones.
    """
    a, b = make_store(), make_store()
    await a.open()
    await b.open()
    try:
        await seed_grouped(a, 20)
        [g] = await a.digest_groups()
        await a.open_digest_group(g, T0, T0 + 60)
        ids = [i.id for i in await a.digest_items(g, 0, 100)]
        got = await asyncio.gather(a.close_digest(digest_close(g, ids, names[0])),
                                   b.close_digest(digest_close(g, ids, names[1])))
        assert len([d for d in got if d is not None]) == 1
        assert await a.counts() == {"digested": 20, "pending": 1}
    finally:
        await a.close()
        await b.close()


async def test_events_between_pages_accepted_events_by_time(store: Store) -> None:
    """``events_between``: accepted events received in [since, until), by id, paged."""
    ids = await seed(store, 5, at=T0)
    ignored = NewEvent("eduzz", "ign", "x", None, T0 + 2.5, "ignored", {}, b"{}")
    await store.save_event(ignored, [])
    page = await store.events_between(T0 + 1, T0 + 4, 0, 2)
    assert [i.event_id for i in page] == ids[1:3] and page[0].id == ids[1]
    rest = await store.events_between(T0 + 1, T0 + 4, page[-1].id, 2)
    assert [i.event_id for i in rest] == ids[3:4]


def report(start: float, *, name: str = "daily", ev: str | None = "r1",
           scheduled: bool = True) -> ReportRun:
    """A ReportRun of the period starting at ``start``, to sinks a (pending) and b (disabled)."""
    new = None if ev is None else NewEvent("ponte", ev, "ponte.report", None, start + 90,
                                           "accepted", {}, b"{}")
    return ReportRun(name, start, start + 86400, start + 90, False, new,
                     [("a", "pending"), ("b", "disabled")], scheduled)


async def test_record_report_sends_a_period_once(store: Store) -> None:
    """A period is recorded with its event and deliveries once; again it is None."""
    assert await store.last_report("daily") is None
    event_id = await store.record_report(report(T0))
    assert event_id
    got = await store.get_event(event_id)
    assert got is not None and [(d.sink, d.status, d.route) for d in got.deliveries] == [
        ("a", "pending", "report:daily"), ("b", "disabled", "report:daily")]
    assert await store.record_report(report(T0, ev="r2")) is None
    assert await store.last_report("daily") == T0
    assert await store.record_report(report(T0 - 86400, ev=None)) == 0  # marked, not sent
    assert await store.last_report("daily") == T0
    assert await store.last_report("weekly") is None
    assert await store.record_report(report(T0 + 86400, ev="r3", scheduled=False))  # on demand
    assert await store.last_report("daily") == T0
    assert await store.counts() == {"pending": 2, "disabled": 2}


async def test_two_replicas_record_one_period_once(make_store: Factory) -> None:
    """Two stores recording the same period at once: one sends it, the other gets None."""
    a, b = make_store(), make_store()
    await a.open()
    await b.open()
    try:
        got = await asyncio.gather(a.record_report(report(T0, ev="x")),
                                   b.record_report(report(T0, ev="y")))
        assert len([r for r in got if r is not None]) == 1
        assert await a.counts() == {"pending": 1, "disabled": 1}
    finally:
        await a.close()
        await b.close()


# --- follow-ups (service.routing.followups) -------------------------------------------


def followup(sink: str = "mail", key: str | None = "k1", due: float = T0 + 900) -> NewDelivery:
    """A scheduled follow-up delivery with a correlation key."""
    return NewDelivery(sink, "pix", status="scheduled", due_at=due, cancel_key=key)


def paid(external_id: str, keys: list[str], at: float) -> NewEvent:
    """A cancelling event carrying correlation keys."""
    ev = event(external_id, name="myeduzz.invoice_paid", at=at)
    return msgspec.structs.replace(ev, cancels=[Cancel(k, "myeduzz.invoice_paid (data.id=1)") for k in keys])


async def test_followups_wait_scheduled_then_become_pending_when_due(store: Store) -> None:
    """A scheduled delivery is not claimable; ``promote_due`` makes it pending once due."""
    await store.save_event(event("w1"), [followup(due=T0 + 900)])
    assert await store.claim_due("mail", T0 + 1000, 10, False) == []
    assert await store.next_due(["mail"]) == T0 + 900
    assert await store.promote_due(T0 + 899, 100) == (0, 0)
    assert list((await statuses(store)).values()) == ["scheduled"]
    assert await store.promote_due(T0 + 900, 100) == (1, 0)
    assert await store.promote_due(T0 + 900, 100) == (0, 0)
    claimed = await store.claim_due("mail", T0 + 1000, 10, False)
    assert len(claimed) == 1 and claimed[0].attempt_count == 0


async def test_a_cancelling_event_cancels_only_its_keys_in_its_commit(store: Store) -> None:
    """Scheduled deliveries with the event's key turn cancelled, naming the event; others wait."""
    await store.save_event(event("w1"), [followup(key="k1"), followup("chat", key="k1")])
    await store.save_event(event("w2"), [followup(key="k2")])
    saved = await store.save_event(paid("p1", ["k1"], T0 + 60), [])
    assert saved.cancelled == 2
    page = await store.list_deliveries(Filter(status="cancelled"), 10, None)
    assert {d.sink for d in page.items} == {"mail", "chat"}
    assert all(d.last_error == f"cancelled by event #{saved.event_id} myeduzz.invoice_paid (data.id=1)"
               and d.due_at is not None for d in page.items)
    left = await store.list_deliveries(Filter(status="scheduled"), 10, None)
    assert [d.external_id for d in left.items] == ["w2"]
    assert await store.promote_due(T0 + 10_000, 100) == (1, 1)  # only w2 goes out (late: 2h)


async def test_a_cancelling_event_that_came_first_cancels_at_planning(store: Store) -> None:
    """A key kept up to 24 h before a follow-up's event stores the follow-up cancelled."""
    first = await store.save_event(paid("p1", ["k1"], T0), [])
    assert first.cancelled == 0
    await store.save_event(event("w1", at=T0 + 86_000), [followup(key="k1", due=T0 + 87_000)])
    await store.save_event(event("w2", at=T0 + 90_000), [followup(key="k1", due=T0 + 91_000)])
    page = await store.list_deliveries(Filter(), 10, None)
    got = {d.external_id: (d.status, d.last_error) for d in page.items}
    assert got["w1"] == ("cancelled", f"cancelled by event #{first.event_id} myeduzz.invoice_paid (data.id=1)")
    assert got["w2"] == ("scheduled", None)  # more than 24 h after: not cancelled
    assert await store.forget_cancellations(T0 + 1) == 1


async def test_cancel_scheduled_keeps_only_the_targets_named(store: Store) -> None:
    """Scheduled deliveries of a (route, sink) no longer configured are cancelled with the reason."""
    await store.save_event(event("w1"), [followup("mail"), followup("chat"), NewDelivery("log", "pix")])
    assert await store.cancel_scheduled([("pix", "mail"), ("pix", "log")], "cancelled: gone") == 1
    page = await store.list_deliveries(Filter(), 10, None)
    assert {d.sink: (d.status, d.last_error) for d in page.items} == {
        "mail": ("scheduled", None), "chat": ("cancelled", "cancelled: gone"), "log": ("pending", None)}


async def test_scheduled_followups_keep_their_event_from_purge(store: Store) -> None:
    """An event with a scheduled follow-up is not purged; once cancelled it may be."""
    await store.save_event(event("w1"), [followup(key="k9")])
    assert await store.purge(T0 + 10, 10) == 0
    await store.save_event(paid("p9", ["k9"], T0 + 5), [])
    assert await store.purge(T0 + 10, 10) == 2


async def test_event_bodies_returns_small_bodies_only(store: Store) -> None:
    """``event_bodies``: each listed event's raw body up to ``max_bytes``; bigger or missing absent."""
    small = (await store.save_event(event("s", body=b'{"id": "s"}'), [])).event_id
    big = (await store.save_event(event("b", body=b'{"id": "b", "x": "' + b"y" * 100 + b'"}'), [])).event_id
    assert await store.event_bodies([small, big, 999_999], 50) == {small: b'{"id": "s"}'}
    assert await store.event_bodies([], 50) == {}


async def test_events_list_leaves_a_source_out(store: Store) -> None:
    """``Filter(not_source=…)``: that source's events are left out of lists and scans."""
    await store.save_event(event("1"), [])
    await store.save_event(event("2", source="ponte", name="ponte.sink_disabled"), [])
    listed = await store.list_events(Filter(not_source="ponte"), 10, None)
    scanned = await store.scan_events(Filter(not_source="ponte"), None, 10, None, 100)
    assert [e.source for e in listed.items] == [e.source for e in scanned.items] == ["eduzz"]
    assert len((await store.list_events(Filter(), 10, None)).items) == 2


async def test_console_sessions_start_end_and_expire(make_store: Factory) -> None:
    """A started session is open for every store on the database until ended or expired."""
    a, b = make_store(), make_store()
    await a.open()
    await b.open()
    try:
        await a.start_session("k1", T0 + 100, T0)
        await a.start_session("k2", T0 + 10, T0)
        assert await b.session_open("k1", T0 + 1) and await b.session_open("k2", T0 + 1)
        assert not await b.session_open("k2", T0 + 10)  # expired
        await b.end_session("k1")
        assert not await a.session_open("k1", T0 + 1)
        await b.end_session("unknown")
        assert not await a.session_open("unknown", T0)
    finally:
        await a.close()
        await b.close()


async def test_count_status_counts_one_status_up_to_a_cap(store: Store) -> None:
    """``count_status``: deliveries in that status, stopping at ``cap``."""
    for i in range(3):
        await store.save_event(event(str(i)), [NewDelivery("a", "r"), NewDelivery("b", "r", status="disabled")])
    assert await store.count_status("pending", 100) == 3
    assert await store.count_status("pending", 2) == 2
    assert await store.count_status("disabled", 100) == 3
    assert await store.count_status("failed", 100) == 0
