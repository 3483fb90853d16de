"""Helpers for the failure tests: a real ``ponte serve`` subprocess, a recording receiver, ports.

Everything listens on 127.0.0.1 only. Every wait is bounded.
"""

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
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pgkit
import yaml
from aiohttp import web

from conftest import SECRET, sign

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_body(i: int | str, event: str = "acme.thing", **data: Any) -> bytes:
    """A small distinct envelope; its ``id`` is ``ev-<i>``."""
    return json.dumps({"id": f"ev-{i}", "event": event, "data": {"n": str(i), **data}}).encode()


def envelope_id(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get("id") if isinstance(doc, dict) else None


def query(db_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the database directly (a second process, as an operator would)."""
    if pgkit.uses_postgres(db_path.parent):  # this test's app runs on PostgreSQL
        return pgkit.query(db_path.parent, sql, *args)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


class Receiver:
    """A customer endpoint on 127.0.0.1 that counts arrivals per envelope id.

    ``status`` is called for every request and returns the HTTP status to answer;
    ``delay`` seconds (a number, or a function giving one) pass after recording, before the answer.
    """

    def __init__(self, delay: float | Callable[[], float] = 0.0,
                 status: Callable[[], int] | None = None) -> None:
        self.delay = delay
        self.status = status or (lambda: 200)
        self.arrivals: Counter[str] = Counter()
        self.bodies: list[bytes] = []
        self.times: list[float] = []
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.bodies.append(body)
        self.times.append(time.monotonic())
        self.arrivals[envelope_id(body) or "?"] += 1
        delay = self.delay() if callable(self.delay) else self.delay
        if delay:
            await asyncio.sleep(delay)
        status = self.status()
        return web.Response(status=status, text="ok" if status < 300 else "unavailable")

    async def start(self, port: int = 0) -> str:
        """Listen on ``port`` (0 = any) and return the hook URL."""
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        bound = self.runner.addresses[0][1]
        return f"http://127.0.0.1:{bound}/hook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def config_dict(tmp_path: Path, port: int, **sections: Any) -> dict[str, Any]:
    """A full config for a subprocess: eduzz source, given sections, database in tmp_path."""
    raw: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": port},
        "storage": {"url": f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": [SECRET]}},
        "sinks": {"arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")}},
        "routes": [{"name": "tudo", "events": ["*"], "to": ["arquivo"]}],
    }
    raw.update(sections)
    return raw


def write_config(tmp_path: Path, port: int, name: str = "ponte.yaml", **sections: Any) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config_dict(tmp_path, port, **sections)))
    return path


# Runs ``ponte`` after capping the size of every file the process writes (RLIMIT_FSIZE) and
# ignoring SIGXFSZ, so a write past the cap fails with EFBIG as on a full disk. Done in the
# child's own interpreter rather than in a preexec_fn (not fork-safe with threads running).
_LIMITED = (
    "import resource, signal, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
    "from service.__main__ import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


class Ponte:
    """``ponte serve`` as a real subprocess (``python -m service serve``), stderr to a file.

    ``file_size_limit`` caps every file the process writes (database, WAL, logs) in bytes.
    """

    def __init__(self, tmp_path: Path, config: Path, port: int, *, stderr_name: str = "stderr.log",
                 file_size_limit: int | None = None) -> None:
        self.tmp_path = tmp_path
        self.config = config
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.stderr_path = tmp_path / stderr_name
        self.file_size_limit = file_size_limit
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Ponte:
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        env.pop("PONTE_CONFIG", None)
        args = ["serve", "--config", str(self.config), "--log-format", "json"]
        if self.file_size_limit is None:
            command = [sys.executable, "-m", "service", *args]
        else:
            command = [sys.executable, "-c", _LIMITED, str(self.file_size_limit), *args]
        with self.stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(
                command, cwd=self.tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err, env=env,
            )
        return self

    async def wait_ready(self, timeout: float = 15.0) -> None:
        """Poll /healthz until it answers 200; fail if the process dies or time runs out."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"ponte exited with {self.proc.returncode}:\n{self.stderr()}")
                try:
                    async with http.get(f"{self.url}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as r:
                        if r.status == 200:
                            return
                except (TimeoutError, aiohttp.ClientError):
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"ponte did not become ready in {timeout}s:\n{self.stderr()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs in the process."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; SIGKILL (and fail) if it does not exit in ``timeout``."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"ponte ignored SIGTERM for {timeout}s") from None
        return self.proc.returncode

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""


async def post_event(http: aiohttp.ClientSession, url: str, body: bytes, *, timeout: float = 10.0,
                     secret: str = SECRET) -> tuple[int, dict[str, Any] | None]:
    """POST a signed body; (status, json answer)."""
    headers = {"x-signature": sign(body, secret), "content-type": "application/json"}
    async with http.post(f"{url}/webhooks/eduzz", data=body, headers=headers,
                         timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
        try:
            payload = await resp.json(content_type=None)
        except ValueError:
            payload = None
        return resp.status, payload


async def until(check: Callable[[], Any], timeout: float, what: str = "condition") -> None:
    """Poll a sync or async ``check`` every 50 ms until truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout}s")
        await asyncio.sleep(0.05)


class SilentServer:
    """A TCP server that accepts, optionally greets, then says nothing until the peer leaves."""

    def __init__(self, greeting: bytes = b"") -> None:
        self.greeting = greeting
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        if self.greeting:
            writer.write(self.greeting)
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await asyncio.wait_for(self.server.wait_closed(), 5)
