"""PostgreSQL restarted under a running ``ponte serve``, mid-burst.

The test runs its own PostgreSQL cluster (initdb in a temp dir, a free port on
127.0.0.1), so stopping it disturbs nobody. Promises checked:
- while PostgreSQL is down, ingest answers 503, never 200 (nothing acknowledged uncommitted);
- when it is back, the same Ponte process answers 200 again by itself;
- every 200 is a stored event; the events Eduzz resends are stored once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psycopg
import pytest

from failkit import Ponte, event_body, free_port, post_event, until, write_config

pytestmark = pytest.mark.slow
BIN = Path("/usr/lib/postgresql/15/bin")
EVENTS = 120


class Cluster:
    """A private PostgreSQL cluster run as the ``postgres`` user (the server refuses root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ponte-pg-"))
        shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._pg("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._pg("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"),
                 "-w", "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / "pg_ctl"), "-D",
                        str(self.dir / "data"), "-m", "immediate", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A started private cluster; skipped (failed under CI) without PostgreSQL's binaries."""
    missing = None
    if not (BIN / "initdb").exists() or shutil.which("runuser") is None:
        missing = f"PostgreSQL server binaries not found in {BIN}"
    elif os.geteuid() != 0:
        missing = "starting a private PostgreSQL needs root (to run it as the postgres user)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    c = Cluster()
    try:
        c.start()
        yield c
    finally:
        c.remove()


async def test_postgres_restart_mid_burst(tmp_path, cluster):
    """Stop PostgreSQL after 40 answers, start it again: 503 while down, 200 after, nothing lost."""
    port = free_port()
    config = write_config(tmp_path, port, storage={"url": cluster.url})
    ponte = Ponte(tmp_path, config, port).start()
    answers: dict[int, int] = {}
    acked: dict[int, int] = {}
    try:
        await ponte.wait_ready()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(EVENTS):
            queue.put_nowait(i)

        async def client(http: aiohttp.ClientSession) -> None:
            while not queue.empty():
                i = queue.get_nowait()
                status, payload = await post_event(http, ponte.url, event_body(i), timeout=30)
                answers[i] = status
                if status == 200 and payload is not None:
                    acked[i] = payload["event_id"]

        async def restart() -> None:
            await until(lambda: len(answers) >= 40, 60, "40 answers")
            await asyncio.to_thread(cluster.stop)
            await until(lambda: list(answers.values()).count(503) >= 3, 60, "503s while down")
            await asyncio.to_thread(cluster.start)

        async with aiohttp.ClientSession() as http:
            await asyncio.wait_for(asyncio.gather(restart(), *(client(http) for _ in range(4))), 180)
            assert set(answers.values()) <= {200, 503}, answers
            refused = [i for i, s in answers.items() if s == 503]
            assert refused, "PostgreSQL was down but nothing was refused"
            assert answers[EVENTS - 1] == 200 or any(
                s == 200 for i, s in answers.items() if i > max(refused)), "no 200 after the restart"
            for i in refused:  # Eduzz resends what was not answered 200
                status, payload = await post_event(http, ponte.url, event_body(i), timeout=30)
                assert status == 200 and payload is not None and payload["status"] == "accepted", payload
        with psycopg.connect(cluster.url) as conn:
            stored = dict(conn.execute("SELECT external_id, id FROM events").fetchall())
        assert len(stored) == EVENTS
        assert all(stored[f"ev-{i}"] == eid for i, eid in acked.items())
        assert ponte.terminate() == 0, ponte.stderr()[-2000:]
        print(f"\n[pg restart] acked={len(acked)} refused={len(refused)} of {EVENTS}")
    finally:
        ponte.kill()
