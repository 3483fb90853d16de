"""Follow-ups are rows: the worker's per-round and per-event lookups on SQLite are steps down
an index, never a scan of the scheduled rows (bench/followups.py measures the cost)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from service.store.open import open_store
from service.store.sqlite import store as sqlite_store
from service.store.sqlite.followups import _CANCEL, _EARLIER, _PROMOTE

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def db(tmp_path: Path) -> Path:
    async def migrate() -> None:
        store = open_store(f"sqlite:///{tmp_path}/ponte.db")
        await store.open()
        await store.close()

    asyncio.run(migrate())
    return tmp_path / "ponte.db"


@pytest.mark.parametrize("sql", [sqlite_store._DUE_NOW, sqlite_store._SCHEDULED, _PROMOTE, _CANCEL, _EARLIER])
def test_follow_up_lookups_never_scan(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    try:
        args = {"now": time.time(), "limit": 10} if ":now" in sql else [None] * sql.count("?")
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
    finally:
        conn.close()
    # a MIN() over the index is reported as SCAN but stops at the first row (SQLite's
    # min/max shortcut); anything else must SEARCH
    steps = [p for p in plan if p.startswith(("SCAN", "SEARCH"))]
    assert steps and all(p.startswith("SEARCH") or sql is sqlite_store._SCHEDULED for p in steps), plan
