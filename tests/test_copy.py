"""``ponte copy``: a SQLite installation moved into PostgreSQL, ids and all, then checked."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from service.__main__ import main
from service.store import AttemptResult, Filter, NewDelivery, NewEvent, Store, open_store


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
