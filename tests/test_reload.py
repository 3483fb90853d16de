"""Hot reload (SIGHUP, /api/reload) under load, and pruning racing with ingest."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from pgkit import query

from conftest import base_config, post_signed, sign
from service.keys import STORE
from service.operate import retention

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path: Path, raw: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(raw))


async def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "ponte exited during start-up"
            try:
                async with http.get(url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("ponte did not become ready")


async def test_sighup_during_a_burst_drops_nothing(tmp_path):
    """SIGHUP while 300 requests are in flight: every request is answered 200 and stored."""
    port = free_port()
    config = tmp_path / "ponte.yaml"
    raw = base_config(tmp_path, server={"port": port})
    write(config, raw)
    log = open(tmp_path / "ponte.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve", "--config", str(config)],
                            stdout=log, stderr=log, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        statuses: list[int] = []

        async def client(http: aiohttp.ClientSession, k: int) -> None:
            for i in range(30):
                body = json.dumps({"id": f"h{k}-{i}", "event": "acme.x", "data": {}}).encode()
                async with http.post(url + "/webhooks/eduzz", data=body, headers={"x-signature": sign(body)}) as r:
                    statuses.append(r.status)

        async def reloader() -> None:
            for n in range(5):
                await asyncio.sleep(0.05)
                raw["routes"] = [{"name": f"r{n}", "events": ["*"], "to": ["arquivo"]}]
                write(config, raw)
                os.kill(proc.pid, signal.SIGHUP)

        async with aiohttp.ClientSession() as http:
            await asyncio.wait_for(asyncio.gather(*(client(http, k) for k in range(10)), reloader()), 60)
        assert statuses.count(200) == 300
        with sqlite3.connect(tmp_path / "ponte.db") as conn:
            assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 300
        write(config, {**raw, "sinks": {"arquivo": {"type": "nope"}}})
        os.kill(proc.pid, signal.SIGHUP)
        await asyncio.sleep(0.3)
        body = json.dumps({"id": "after", "event": "acme.x", "data": {}}).encode()
        headers = {"x-signature": sign(body)}
        async with (
            aiohttp.ClientSession() as http,
            http.post(url + "/webhooks/eduzz", data=body, headers=headers) as r,
        ):
            assert r.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        log.close()
    text = (tmp_path / "ponte.log").read_text()
    assert text.count("config_reloaded") >= 1 and "config_reload_refused" in text


async def test_pruning_racing_with_ingest_loses_nothing_recent(tmp_path, settings_for, start):
    """Pruning old events in batches while new ones arrive deletes only old, finished events."""
    client = await start(settings_for(sinks={"a": {"type": "file", "path": str(tmp_path / "a")}},
                                      routes=[{"name": "r", "events": ["old.*"], "to": ["a"]}]))
    for i in range(300):
        body = json.dumps({"id": f"o{i}", "event": "old.done" if i % 3 else "other.x", "data": {}}).encode()
        await post_signed(client, body)
    query(tmp_path, "UPDATE events SET received_at = 0")
    query(tmp_path, "UPDATE deliveries SET status = 'succeeded' WHERE event_id % 2 = 0")
    pending_old = query(tmp_path, "SELECT COUNT(DISTINCT event_id) FROM deliveries WHERE status = 'pending'")[0][0]

    async def ingest() -> list[int]:
        ids = []
        for i in range(200):
            body = json.dumps({"id": f"n{i}", "event": "new.x", "data": {}}).encode()
            ids.append((await (await post_signed(client, body)).json())["event_id"])
        return ids

    pruned, new_ids = await asyncio.gather(retention.prune(client.app[STORE], 1, batch=20, pause=0), ingest())
    left = {r[0] for r in query(tmp_path, "SELECT id FROM events")}
    assert set(new_ids) <= left
    assert pruned == 300 - pending_old
    assert len(left) == 200 + pending_old
