"""The PostgreSQL store's own guarantees: migrations, refusals, dedup across replicas, ids."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from service.__main__ import main
from service.config.load import parse_config
from service.errors import StorageCorrupt, StorageUnavailable
from service.store.open import open_store
from service.store.postgres.schema import LATEST
from service.store.postgres.store import PostgresStore
from service.store.records import NewDelivery, NewEvent


def _event(external_id: str = "e1", received_at: float | None = None) -> NewEvent:
    return NewEvent("eduzz", external_id, "myeduzz.invoice_paid", None,
                    time.time() if received_at is None else received_at, "accepted", {}, b"{}")


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresStore]:
    """An opened PostgresStore on a fresh schema."""
    s = PostgresStore(pg_url)
    await s.open()
    yield s
    await s.close()


def test_open_store_picks_postgres_by_url() -> None:
    """``storage.url: postgresql://…`` is accepted by the config and selects PostgreSQL."""
    raw = {"storage": {"url": "postgresql://ponte:x@db:5432/ponte"}}
    assert parse_config(raw, env={}).storage.url.startswith("postgresql://")
    assert isinstance(open_store("postgresql://ponte@db/ponte"), PostgresStore)


async def test_two_replicas_starting_together_migrate_once(pg_url: str) -> None:
    """Replicas opening at the same instant apply each migration exactly once."""
    stores = [PostgresStore(pg_url) for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    for s in stores:
        await s.close()
    with psycopg.connect(pg_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, LATEST + 1))


async def test_newer_schema_is_refused(pg_url: str) -> None:
    """A replica older than the database schema refuses to start and changes nothing."""
    s = PostgresStore(pg_url)
    await s.open()
    await s.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (%s)", (LATEST + 1,))
    with pytest.raises(StorageCorrupt, match=f"schema v{LATEST + 1} is newer than this Ponte"):
        await PostgresStore(pg_url).open()


async def test_racing_replicas_store_one_event(pg_url: str) -> None:
    """Two replicas saving the same Eduzz id at once: one event, one set of deliveries."""
    a, b = PostgresStore(pg_url), PostgresStore(pg_url)
    await a.open()
    await b.open()
    try:
        for n in range(20):
            ev = _event(f"race-{n}")
            results = await asyncio.gather(a.save_event(ev, [NewDelivery("s", "r")]),
                                           b.save_event(ev, [NewDelivery("s", "r")]))
            assert sorted(r.duplicate for r in results) == [False, True]
            assert results[0].event_id == results[1].event_id
        assert (await a.counts()) == {"pending": 20}
    finally:
        await a.close()
        await b.close()


async def test_ids_are_never_reused(store: PostgresStore) -> None:
    """After the newest event is purged, the next one gets a new id."""
    first = await store.save_event(_event("old", received_at=1.0), [])
    assert await store.purge(time.time(), 10) == 1
    second = await store.save_event(_event("new"), [])
    assert second.event_id > first.event_id


async def _fake_server() -> tuple[asyncio.AbstractServer, int]:
    """A PostgreSQL look-alike that asks for a password and refuses it (28P01)."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        length = struct.unpack("!i", await reader.readexactly(4))[0]
        first = await reader.readexactly(length - 4)
        if struct.unpack("!i", first[:4])[0] in (80877103, 80877104):  # SSL / GSS request
            writer.write(b"N")
            length = struct.unpack("!i", await reader.readexactly(4))[0]
            await reader.readexactly(length - 4)
        writer.write(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        await writer.drain()
        kind = await reader.readexactly(1)
        assert kind == b"p"
        length = struct.unpack("!i", await reader.readexactly(4))[0]
        await reader.readexactly(length - 4)
        fields = b"SFATAL\0C28P01\0Mpassword authentication failed for user \"ponte\"\0\0"
        writer.write(b"E" + struct.pack("!i", len(fields) + 4) + fields)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_wrong_password_is_one_line_without_the_secret() -> None:
    """A refused password: one line naming user, host and the server's reason; no password."""
    server, port = await _fake_server()
    secret = "s3cr3t-pa55"
    try:
        with pytest.raises(StorageUnavailable) as info:
            await PostgresStore(f"postgresql://ponte:{secret}@127.0.0.1:{port}/ponte").open()
    finally:
        server.close()
        await server.wait_closed()
    message = str(info.value)
    assert "\n" not in message and secret not in message
    assert f"ponte@127.0.0.1:{port}/ponte" in message
    assert "password authentication failed" in message


def test_migrate_command(pg_url: str, capsys: Any) -> None:
    """``ponte migrate --storage-url`` creates the schema and says so."""
    assert main(["migrate", "--storage-url", pg_url]) == 0
    assert "schema up to date" in capsys.readouterr().out
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (LATEST,)


def test_serve_refuses_a_newer_schema(pg_url: str, tmp_path: Any, capsys: Any) -> None:
    """``ponte serve`` on a database migrated by a newer Ponte: exit 1, one clear line."""
    import socket

    import yaml

    from conftest import base_config

    assert main(["migrate", "--storage-url", pg_url]) == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (%s)", (LATEST + 1,))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    raw = base_config(tmp_path, storage={"url": pg_url}, server={"port": port})
    (tmp_path / "ponte.yaml").write_text(yaml.safe_dump(raw))
    capsys.readouterr()
    assert main(["serve", "--config", str(tmp_path / "ponte.yaml")]) == 1
    err = capsys.readouterr().err
    assert f"ponte: database schema v{LATEST + 1} is newer than this Ponte (v{LATEST})" in err


async def test_prepare_threshold_none_turns_prepared_statements_off(pg_url: str) -> None:
    """``?prepare_threshold=none`` (PgBouncer before 1.21): the pool never prepares statements."""
    s = PostgresStore(pg_url + "&prepare_threshold=none")
    await s.open()
    try:
        for n in range(8):  # past psycopg's default threshold of 5
            await s.save_event(_event(f"p-{n}"), [NewDelivery("s", "r")])
        async with s._conn() as conn:
            cur = await conn.execute("SELECT COUNT(*) FROM pg_prepared_statements")
            assert await cur.fetchone() == (0,)
            assert conn.prepare_threshold is None
    finally:
        await s.close()


async def test_group_commit_fails_only_the_bad_write(store: PostgresStore) -> None:
    """In a batch where one write fails, the others commit and only that caller gets the error."""
    from service.store.postgres.batch import Batcher

    batcher = Batcher("SELECT 10 / %(d)s", store._conn, lambda a: a["d"])
    batcher.start()
    try:
        results = await asyncio.gather(*(batcher.run({"d": d}) for d in (1, 2, 0, 5)),
                                       return_exceptions=True)
    finally:
        await batcher.stop()
    assert results[0] == (10,) and results[1] == (5,) and results[3] == (2,)
    assert isinstance(results[2], psycopg.errors.DivisionByZero)
    with pytest.raises(StorageUnavailable, match="closed"):
        await batcher.run({"d": 1})


async def test_operator_commands_work_offline_on_postgres(pg_url: str, tmp_path: Any) -> None:
    """``ponte events``, ``replay`` and ``purge`` run against PostgreSQL like against SQLite."""
    import contextlib
    import io

    import yaml

    from conftest import base_config

    s = PostgresStore(pg_url)
    await s.open()
    await s.save_event(_event("cli-1", received_at=1000.0), [NewDelivery("arquivo", "tudo")])
    await s.close()
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(base_config(tmp_path, storage={"url": pg_url})))

    def run(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main([*argv, "--config", str(path)])
        return code, out.getvalue()

    code, out = await asyncio.to_thread(run, "events")
    assert code == 0 and "cli-1" in out
    code, out = await asyncio.to_thread(run, "purge", "--older-than", "1")
    assert code == 0 and "purged 0 event(s)" in out  # its delivery is still pending
