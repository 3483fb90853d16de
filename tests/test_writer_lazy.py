"""The SQLite writer's lazy jobs (attempt records) and the worker's wake-up: a finished send
shares the next commit and asks for no claim of its own."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from service.delivery.wake import Wake
from service.store.sqlite import writer as writer_mod
from service.store.sqlite.writer import Writer


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")
    return conn


def _insert(v: int):  # noqa: ANN202 - a writer job
    return lambda conn: conn.execute("INSERT INTO t (v) VALUES (?)", (v,)).lastrowid


def _rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT v FROM t ORDER BY rowid")]


async def test_a_lazy_job_alone_commits_after_the_lazy_window(tmp_path):
    writer = Writer(lambda: _connect(tmp_path / "w.db"))
    await writer.start()
    started = time.monotonic()
    await writer.run(_insert(1), lazy=True)
    waited = time.monotonic() - started
    assert _rows(tmp_path / "w.db") == [1]
    assert waited >= writer_mod.LAZY * 0.9  # it waited for company
    await writer.stop()


async def test_a_lazy_job_rides_with_the_next_urgent_one_in_its_commit(tmp_path):
    writer = Writer(lambda: _connect(tmp_path / "w.db"))
    await writer.start()
    before = writer.batches
    lazy = asyncio.ensure_future(writer.run(_insert(1), lazy=True))
    await asyncio.sleep(0)  # queued, not committed
    await writer.run(_insert(2))
    await lazy
    assert writer.batches == before + 1
    assert _rows(tmp_path / "w.db") == [1, 2]
    await writer.stop()


async def test_stopping_commits_a_waiting_lazy_job(tmp_path):
    writer = Writer(lambda: _connect(tmp_path / "w.db"))
    await writer.start()
    lazy = asyncio.ensure_future(writer.run(_insert(7), lazy=True))
    await asyncio.sleep(0)
    await writer.stop()
    assert await lazy is not None
    assert _rows(tmp_path / "w.db") == [7]


def test_set_asks_for_a_claim_on_every_lane_and_nudge_does_not():
    wake = Wake()
    assert wake.take_claim_all()  # a new worker claims everything first
    wake.nudge()
    assert wake.is_set() and not wake.take_claim_all()
    wake.clear()
    wake.set()
    assert wake.is_set() and wake.take_claim_all()
    assert not wake.take_claim_all()
