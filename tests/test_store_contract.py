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

import pytest

from service.errors import StorageUnavailable
from service.store import (
    AttemptRecord,
    AttemptResult,
    Filter,
    NewDelivery,
    NewEvent,
    Store,
    open_store,
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
    assert await store.purge(T0 + 100, 2) == 2
    assert await store.purge(T0 + 100, 2) == 1
    assert await store.purge(T0 + 100, 2) == 0
    assert all([await store.get_event(i) is None for i in done])
    assert await store.get_event(waiting[0]) is not None
    assert await store.counts() == {"sending": 1, "pending": 1}


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
