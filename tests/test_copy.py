"""``ponte copy``: a SQLite installation moved into PostgreSQL, ids and all, then checked."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from service.__main__ import main
from service.store.open import open_store
from service.store.protocol import Store
from service.store.records import AttemptResult, Filter, NewDelivery, NewEvent


async def _fill(store: Store) -> None:
    """Events with deliveries in every state, attempts, a purged gap and a disabled sink."""
    for n in range(12):
        ev = NewEvent("eduzz", f"c-{n}", "myeduzz.invoice_paid", None, 1000.0 + n, "accepted",
                      {"x-signature": "s"}, f'{{"n": {n}, "nome": "João"}}'.encode())
        await store.save_event(ev, [NewDelivery("a", "r"), NewDelivery("b", "r", order_key="k")])
    for c in await store.claim_due("a", time.time(), 6, False):
        await store.record_attempt(AttemptResult(c.id, 1001.0, 5.0, "succeeded", "succeeded", 0.0, 200))
    await store.claim_due("a", time.time(), 2, False)  # left 'sending', as a crash would
    await store.set_sink_disabled("b", True, "410 Gone")


async def _snapshot(store: Store) -> list[Any]:
    page = await store.list_events(Filter(), 100, None)
    return [await store.get_event(e.event_id) for e in page.items]


async def test_copy_keeps_ids_rows_and_moves_sequences(tmp_path: Path, pg_url: str, capsys: Any) -> None:
    """Everything arrives with its ids; new rows continue after them; the check passes."""
    sqlite_url = f"sqlite:///{tmp_path}/ponte.db"
    source = open_store(sqlite_url)
    await source.open()
    await _fill(source)
    before = await _snapshot(source)
    await source.close()

    assert await asyncio.to_thread(main, ["copy", "--from", sqlite_url, "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "copied 12 events, 24 deliveries, 6 attempts, 1 sink_state" in out

    target = open_store(pg_url)
    await target.open()
    try:
        assert await _snapshot(target) == before
        assert await target.sink_states() == {"b": (True, "410 Gone")}
        new = await target.save_event(
            NewEvent("eduzz", "novo", "x", None, time.time(), "accepted", {}, b"{}"), [NewDelivery("a", "r")])
        assert new.event_id == 13
        assert await target.recover() == 2  # the copied 'sending' rows carry no lease
    finally:
        await target.close()


async def test_copy_refuses_a_target_with_data(tmp_path: Path, pg_url: str, capsys: Any) -> None:
    """A second copy into the same database is refused and changes nothing."""
    sqlite_url = f"sqlite:///{tmp_path}/ponte.db"
    source = open_store(sqlite_url)
    await source.open()
    await _fill(source)
    await source.close()
    assert await asyncio.to_thread(main, ["copy", "--from", sqlite_url, "--to", pg_url]) == 0
    assert await asyncio.to_thread(main, ["copy", "--from", sqlite_url, "--to", pg_url]) == 1
    assert "already holds data" in capsys.readouterr().err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (12,)


@pytest.mark.parametrize(("source", "target", "message"), [
    ("sqlite:///{tmp}/missing.db", "{pg}", "no such file"),
    ("sqlite:///{tmp}/foreign.db", "{pg}", "is not a Ponte database"),
    ("postgresql://x/y", "{pg}", "--from must be a sqlite:/// URL"),
    ("sqlite:///{tmp}/foreign.db", "sqlite:///{tmp}/b.db", "--to must be a postgresql:// URL"),
])
def test_copy_bad_arguments(tmp_path: Path, pg_url: str, capsys: Any, source: str, target: str,
                            message: str) -> None:
    """Bad sources and targets are one-line errors."""
    import sqlite3

    with sqlite3.connect(tmp_path / "foreign.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    args = [a.format(tmp=tmp_path, pg=pg_url) for a in (source, target)]
    assert main(["copy", "--from", args[0], "--to", args[1]]) in (1, 2)
    assert message in capsys.readouterr().err


async def test_copy_keeps_digests_groups_and_report_runs(tmp_path: Path, pg_url: str) -> None:
    """Digest items, a closed digest with its contents, group rows and report runs arrive too."""
    from service.store.records import DigestClose, ReportRun

    sqlite_url = f"sqlite:///{tmp_path}/ponte.db"
    source = open_store(sqlite_url)
    await source.open()
    for n in range(4):
        ev = NewEvent("eduzz", f"g-{n}", "myeduzz.invoice_paid", None, 1000.0 + n, "accepted", {}, b"{}")
        await source.save_event(ev, [NewDelivery("chat", "r", status="grouped", digest="k")])
    [group] = await source.digest_groups()
    await source.open_digest_group(group, 1000.0, 1030.0)
    items = await source.digest_items(group, 0, 3)
    digest = NewEvent("ponte", "d-1", "ponte.digest", None, 1040.0, "accepted", {}, b'{"d": 1}')
    digest_id = await source.close_digest(DigestClose(group, [i.id for i in items], digest, 1100.0, 1040.0))
    report = NewEvent("ponte", "r-1", "ponte.report", None, 1050.0, "accepted", {}, b"{}")
    await source.record_report(ReportRun("daily", 0.0, 86400.0, 1050.0, True, report, [("chat", "pending")]))
    want = (await source.digest_groups(), await source.get_delivery(digest_id or 0),
            await source.last_report("daily"), await source.counts())
    await source.close()

    assert await asyncio.to_thread(main, ["copy", "--from", sqlite_url, "--to", pg_url]) == 0
    target = open_store(pg_url)
    await target.open()
    try:
        got = (await target.digest_groups(), await target.get_delivery(digest_id or 0),
               await target.last_report("daily"), await target.counts())
        assert got == want
        assert got[1] is not None and len(got[1].digest_events) == 3
        assert await target.record_report(ReportRun("daily", 0.0, 86400.0, 1.0, False, None, [])) is None
    finally:
        await target.close()


async def test_copy_from_a_file_without_digest_tables(tmp_path: Path, pg_url: str) -> None:
    """A file of an older schema (no digest columns or tables) still copies and checks."""
    import sqlite3

    sqlite_url = f"sqlite:///{tmp_path}/ponte.db"
    source = open_store(sqlite_url)
    await source.open()
    await _fill(source)
    await source.close()
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.executescript("DROP TABLE digest_groups; DROP TABLE report_runs; "
                           "DROP INDEX deliveries_grouped; DROP INDEX deliveries_digest; "
                           "ALTER TABLE deliveries DROP COLUMN digest_id; "
                           "ALTER TABLE deliveries DROP COLUMN digest;")
    assert await asyncio.to_thread(main, ["copy", "--from", sqlite_url, "--to", pg_url]) == 0


async def test_copy_keeps_follow_ups_their_keys_and_the_kept_cancellations(tmp_path: Path, pg_url: str) -> None:
    """Scheduled follow-ups keep their due time and correlation key (a payment after the copy
    still cancels them), cancelled ones their reason, and a cancelling event's kept key still
    cancels a follow-up planned after the copy."""
    import msgspec

    from service.store.records import Cancel

    now = time.time()

    def waiting(n: int) -> NewEvent:
        return NewEvent("eduzz", f"w-{n}", "myeduzz.invoice_waiting_payment", None, now, "accepted", {}, b"{}")

    def paying(n: int, key: str) -> NewEvent:
        ev = NewEvent("eduzz", f"p-{n}", "myeduzz.invoice_paid", None, now, "accepted", {}, b"{}")
        return msgspec.structs.replace(ev, cancels=[Cancel(key, f"myeduzz.invoice_paid (data.id={n})")])

    def follow_up(key: str, due: float) -> NewDelivery:
        return NewDelivery("mail", "pix", status="scheduled", due_at=due, cancel_key=key)

    sqlite_url = f"sqlite:///{tmp_path}/ponte.db"
    source = open_store(sqlite_url)
    await source.open()
    for n in range(3):
        await source.save_event(waiting(n), [follow_up(f"k{n}", now - 60 + n)])  # due by the copy's end
    assert (await source.save_event(paying(0, "k0"), [])).cancelled == 1
    await source.save_event(paying(9, "k9"), [])  # no follow-up yet: its key is kept
    want = await source.list_deliveries(Filter(), 100, None)
    await source.close()

    assert await asyncio.to_thread(main, ["copy", "--from", sqlite_url, "--to", pg_url]) == 0
    target = open_store(pg_url)
    await target.open()
    try:
        assert await target.list_deliveries(Filter(), 100, None) == want
        assert {d.external_id: d.due_at is not None for d in want.items} == {f"w-{n}": True for n in range(3)}
        assert (await target.save_event(paying(1, "k1"), [])).cancelled == 1  # found by its copied key
        late = await target.save_event(waiting(9), [follow_up("k9", now + 900)])  # the kept key cancels it
        detail = await target.get_event(late.event_id)
        assert detail is not None and detail.deliveries[0].status == "cancelled"
        scheduled = await target.list_deliveries(Filter(status="scheduled"), 100, None)
        assert [d.external_id for d in scheduled.items] == ["w-2"]
        assert await target.promote_due(now - 59, 100) == (0, 0)  # the copied due time holds
        assert (await target.promote_due(time.time(), 100))[0] == 1
    finally:
        await target.close()


async def test_copy_from_a_file_without_follow_up_columns(tmp_path: Path, pg_url: str) -> None:
    """A file from before follow-ups (no due_at, cancel_key, cancellations) copies and checks."""
    import sqlite3

    sqlite_url = f"sqlite:///{tmp_path}/ponte.db"
    source = open_store(sqlite_url)
    await source.open()
    await _fill(source)
    await source.close()
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.executescript("DROP TABLE cancellations; DROP INDEX deliveries_scheduled; "
                           "DROP INDEX deliveries_cancel; ALTER TABLE deliveries DROP COLUMN due_at; "
                           "ALTER TABLE deliveries DROP COLUMN cancel_key;")
    assert await asyncio.to_thread(main, ["copy", "--from", sqlite_url, "--to", pg_url]) == 0
