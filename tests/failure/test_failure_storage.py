"""Storage trouble: a full database, a real file-size limit, corrupt and foreign files, no directory.

Promises checked: a POST is answered 200 only for what is on disk (503 otherwise, never 500);
once space returns, ingest works again and nothing acknowledged is missing; a database Ponte
cannot use stops ``ponte serve`` at once with one clear line naming the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conftest import post_signed
from failkit import Ponte, event_body, free_port, post_event, query, until, write_config
from service.store.sqlite.store import SQLiteStore
from test_delivery import db

pytestmark = pytest.mark.slow

PAD = "x" * 4000


def ids_in_file(path: Path) -> set[str]:
    """Envelope ids the file sink has written."""
    if not path.exists():
        return set()
    return {json.loads(line)["body"]["id"] for line in path.read_text().splitlines() if line.strip()}


# --- full disk ------------------------------------------------------------------------


async def fill(client: Any, limit: int = 150) -> dict[int, int]:
    """Post 4 KB events until 20 answers in a row are 503; return {i: status}."""
    statuses: dict[int, int] = {}
    run = 0
    for i in range(limit):
        resp = await post_signed(client, event_body(i, pad=PAD))
        statuses[i] = resp.status
        assert resp.status in (200, 503), (resp.status, await resp.text())
        if resp.status == 503:
            body = await resp.json()
            assert body["status"] == "error" and "storage" in body["error"]
        run = run + 1 if resp.status == 503 else 0
        if run >= 20:
            break
    return statuses


async def test_full_database_503_then_a_new_process_with_space_has_everything(tmp_path, settings_for, start):
    """max_page_count: 503 when full (never 200 for what is not stored); reopened without the
    limit, every acknowledged event is there, the refused ones are accepted when resent and
    every event reaches the file sink."""
    settings = settings_for(delivery={"max_attempts": 20, "retry_schedule": ["100ms"]})
    client = await start(settings, store=SQLiteStore(str(tmp_path / "ponte.db"), max_pages=60), worker=True)
    statuses = await fill(client)
    counts = Counter(statuses.values())
    assert counts[200] >= 5 and counts[503] >= 20, counts
    acked = {f"ev-{i}" for i, s in statuses.items() if s == 200}
    stored = {ext for (ext,) in db(tmp_path, "SELECT external_id FROM events")}
    assert acked <= stored, f"acknowledged but not stored: {acked - stored}"
    assert stored <= acked | {f"ev-{i}" for i, s in statuses.items() if s == 503}
    assert (await client.get("/healthz")).status == 200
    await client.close()

    client = await start(settings, worker=True)  # the same file, no limit: space is back
    for i, status in statuses.items():
        if status != 200:
            resp = await post_signed(client, event_body(i, pad=PAD))
            assert resp.status == 200
            assert (await resp.json())["status"] == "accepted", "a 503 was given for a stored event"
    total = len(statuses)
    assert db(tmp_path, "SELECT COUNT(*) FROM events")[0][0] == total
    await until(lambda: db(tmp_path, "SELECT status, COUNT(*) FROM deliveries GROUP BY status")
                == [("succeeded", total)], 10, "every delivery succeeded")
    assert ids_in_file(tmp_path / "out.jsonl") == {f"ev-{i}" for i in statuses}


async def test_space_returning_in_process_makes_ingest_work_again(tmp_path, settings_for, start):
    """Space returns while the process runs (max_page_count raised): POSTs are accepted again
    and every acknowledged event, before and after, is stored."""
    from service.keys import STORE

    settings = settings_for(delivery={"max_attempts": 20, "retry_schedule": ["100ms"]})
    client = await start(settings, store=SQLiteStore(str(tmp_path / "ponte.db"), max_pages=60), worker=True)
    statuses = await fill(client)
    assert 503 in statuses.values()
    store = client.app[STORE]
    await store._writer.run(lambda conn: conn.execute("PRAGMA max_page_count = 1000000").fetchall())
    for i, status in statuses.items():
        if status == 503:
            resp = await post_signed(client, event_body(i, pad=PAD))
            assert resp.status == 200 and (await resp.json())["status"] == "accepted"
    stored = {ext for (ext,) in db(tmp_path, "SELECT external_id FROM events")}
    assert stored == {f"ev-{i}" for i in statuses}


async def test_failed_attempt_record_does_not_strand_the_delivery(tmp_path, settings_for, start):
    """The store refuses one attempt record (disk full for a moment): the delivery still ends
    succeeded or pending-and-retried in the same process, never stuck 'sending'."""
    from failkit import Receiver
    from service.errors import StorageUnavailable
    from service.keys import STORE

    receiver = Receiver()
    hook = await receiver.start()
    settings = settings_for(
        sinks={"crm": {"type": "webhook", "url": hook}}, routes=[{"name": "all", "events": ["*"], "to": ["crm"]}],
        delivery={"max_attempts": 20, "retry_schedule": ["100ms"]})
    try:
        client = await start(settings, worker=True)
        store = client.app[STORE]
        real = store.record_attempt
        calls = {"n": 0}

        async def full_once(result: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 1:
                raise StorageUnavailable("database unavailable: database or disk is full")
            await real(result)

        store.record_attempt = full_once
        resp = await post_signed(client, event_body(1))
        assert resp.status == 200
        await until(lambda: calls["n"] >= 1, 3, "the first attempt was recorded (and refused)")
        await until(lambda: db(tmp_path, "SELECT status FROM deliveries") == [("succeeded",)], 5,
                    "the delivery completes in the same process")
    finally:
        await receiver.stop()


async def test_file_size_limit_in_a_real_process(tmp_path):
    """RLIMIT_FSIZE (1.5 MB, SIGXFSZ ignored) on ``ponte serve``: the WAL cannot grow, POSTs
    answer 503 (never 500, never a
    hang); a new process without the limit has every acknowledged event and accepts the rest."""
    port = free_port()
    config = write_config(tmp_path, port, delivery={"max_attempts": 20, "retry_schedule": ["100ms"]})
    limited = Ponte(tmp_path, config, port, stderr_name="limited.log",
                    file_size_limit=1_500_000).start()
    again: Ponte | None = None
    statuses: dict[int, int] = {}
    try:
        await limited.wait_ready()
        async with aiohttp.ClientSession() as http:
            run = 0
            for i in range(400):
                status, payload = await post_event(http, limited.url, event_body(i, pad=PAD), timeout=10)
                assert status in (200, 503), (status, payload)
                statuses[i] = status
                run = run + 1 if status == 503 else 0
                if run >= 20:
                    break
        counts = Counter(statuses.values())
        assert counts[200] >= 10 and counts[503] >= 20, counts
        assert limited.terminate(timeout=15) == 0
        errors = limited.stderr()
        assert "disk I/O error" in errors or "disk is full" in errors

        acked = {f"ev-{i}" for i, s in statuses.items() if s == 200}
        stored = {ext for (ext,) in query(tmp_path / "ponte.db", "SELECT external_id FROM events")}
        assert acked <= stored, f"acknowledged but not stored: {acked - stored}"

        again = Ponte(tmp_path, config, port, stderr_name="again.log").start()
        await again.wait_ready()
        async with aiohttp.ClientSession() as http:
            for i, status in statuses.items():
                if status != 200:
                    answer, payload = await post_event(http, again.url, event_body(i, pad=PAD))
                    assert answer == 200 and payload is not None
                    assert payload["status"] == "accepted", f"ev-{i}: a 503 was given for a stored event"
        total = len(statuses)
        db_path = tmp_path / "ponte.db"
        await until(lambda: query(db_path, "SELECT status, COUNT(*) FROM deliveries GROUP BY status")
                    == [("succeeded", total)], 15, "every delivery succeeded")
        assert ids_in_file(tmp_path / "out.jsonl") == {f"ev-{i}" for i in statuses}
        assert again.terminate() == 0
    finally:
        limited.kill()
        if again is not None:
            again.kill()


# --- files Ponte cannot use -------------------------------------------------------------


async def serve_once(tmp_path: Path, db_url: str, timeout: float = 10.0) -> tuple[int, str, float]:
    """Run ``ponte serve`` expecting it to exit; (exit code, stderr, seconds)."""
    port = free_port()
    config = write_config(tmp_path, port, storage={"url": db_url})
    proc = Ponte(tmp_path, config, port, stderr_name=f"serve-{time.monotonic_ns()}.log")
    began = time.monotonic()
    proc.start()
    assert proc.proc is not None
    try:
        for _ in range(int(timeout / 0.05)):
            if proc.proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"ponte serve kept running on {db_url}:\n{proc.stderr()}")
    finally:
        proc.kill()
    return proc.proc.returncode, proc.stderr(), time.monotonic() - began


def assert_one_clear_line(stderr: str, *mentions: str) -> None:
    """One ``ponte: ...`` line naming the problem; no traceback; at most one JSON log line besides."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    human = [line for line in lines if line.startswith("ponte: ")]
    assert len(human) == 1, stderr
    for text in mentions:
        assert text in human[0], f"{text!r} not in {human[0]!r}"
    assert len(lines) <= 3, stderr


async def test_corrupt_database_file_stops_serve_with_one_line(tmp_path):
    """Random bytes where the database should be: exit 1 fast, one line naming the file, file untouched."""
    path = tmp_path / "ponte.db"
    path.write_bytes(bytes(range(256)) * 64)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    code, stderr, took = await serve_once(tmp_path, f"sqlite:///{path}")
    assert code == 1 and took < 8
    assert_one_clear_line(stderr, str(path), "not a usable Ponte database")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def foreign_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('Alice')")
    conn.close()


async def test_foreign_database_stops_serve_with_a_line_naming_the_file(tmp_path):
    """A SQLite file of some other application: exit 1 fast with one line naming the file."""
    path = tmp_path / "crm.db"
    foreign_database(path)
    code, stderr, took = await serve_once(tmp_path, f"sqlite:///{path}")
    assert code == 1 and took < 8
    assert_one_clear_line(stderr, "foreign", str(path))


async def test_foreign_database_is_refused_without_a_traceback(tmp_path):
    """The part of the foreign-file promise that holds today: exit 1, one line, no traceback."""
    path = tmp_path / "crm.db"
    foreign_database(path)
    code, stderr, took = await serve_once(tmp_path, f"sqlite:///{path}")
    assert code == 1 and took < 8
    assert_one_clear_line(stderr, "foreign")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM customers").fetchall() == [("Alice",)]
        assert "schema_version" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()


async def test_foreign_database_file_is_left_as_it_was(tmp_path):
    """Refusing someone else's database must not change it (its journal mode included)."""
    path = tmp_path / "crm.db"
    foreign_database(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    code, _, _ = await serve_once(tmp_path, f"sqlite:///{path}")
    assert code == 1
    with sqlite3.connect(path) as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    assert mode == "delete"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("where", ["under-a-file", "under-proc"])
async def test_database_directory_that_cannot_be_created(tmp_path, where):
    """storage.url under a regular file, or under /proc: exit 1 with one line naming the directory."""
    if where == "under-a-file":
        blocker = tmp_path / "blocker"
        blocker.write_text("not a directory")
        parent = blocker / "deeper"
    else:
        parent = Path("/proc/ponte-test-nowhere")
    code, stderr, took = await serve_once(tmp_path, f"sqlite:///{parent}/ponte.db")
    assert code == 1 and took < 8
    assert_one_clear_line(stderr, "cannot create", str(parent))
