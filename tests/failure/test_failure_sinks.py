"""Sinks that fail: outages (503, connection refused), slow and silent receivers, stalled SMTP.

Each test runs the real app with its worker on 127.0.0.1, beside a file sink that must keep
receiving every event promptly while the other sink is in trouble (isolation between sinks).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from conftest import post_signed
from failkit import Receiver, SilentServer, event_body, free_port, until
from test_delivery import db

pytestmark = pytest.mark.slow

N = 20


def file_ids(path: Path) -> set[str]:
    """Envelope ids the file sink has written."""
    if not path.exists():
        return set()
    return {json.loads(line)["body"]["id"] for line in path.read_text().splitlines() if line.strip()}


def settings_with(settings_for: Any, tmp_path: Path, other: dict[str, Any], **delivery: Any) -> Any:
    sinks = {"other": other, "arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")}}
    routes = [{"name": "all", "events": ["*"], "to": ["other", "arquivo"]}]
    base = {"max_attempts": 30, "retry_schedule": ["100ms", "200ms", "300ms"], "timeout": "2s"}
    return settings_for(sinks=sinks, routes=routes, delivery={**base, **delivery})


async def send_events(client: Any, start: int = 0, count: int = N) -> None:
    for i in range(start, start + count):
        resp = await post_signed(client, event_body(i))
        assert resp.status == 200, await resp.text()


def statuses(tmp_path: Path, sink: str) -> dict[str, int]:
    return dict(db(tmp_path, "SELECT status, COUNT(*) FROM deliveries WHERE sink = ? GROUP BY status", sink))


# --- outages -------------------------------------------------------------------------


async def test_503_outage_then_recovery_delivers_everything(tmp_path, settings_for, start):
    """A receiver answering 503 for 2 s gets every event once it is back; the file sink never waits."""
    down_until = time.monotonic() + 2.0
    receiver = Receiver(status=lambda: 503 if time.monotonic() < down_until else 200)
    hook = await receiver.start()
    other = {"type": "webhook", "url": hook, "breaker_cooldown": "300ms"}
    try:
        client = await start(settings_with(settings_for, tmp_path, other), worker=True)
        await send_events(client)
        # The file sink has everything while the webhook is still down.
        await until(lambda: len(file_ids(tmp_path / "out.jsonl")) == N, 1.0, "file sink got everything")
        assert time.monotonic() < down_until
        await until(lambda: statuses(tmp_path, "other") == {"succeeded": N}, 10, "webhook recovered")
        assert set(receiver.arrivals) == {f"ev-{i}" for i in range(N)}
        retried = db(tmp_path, "SELECT COUNT(*) FROM attempts WHERE outcome = 'retry' AND status_code = 503")
        assert retried[0][0] >= 1
        # Exactly one successful attempt per delivery: the 200s are not repeated.
        ok = db(tmp_path, "SELECT delivery_id, COUNT(*) FROM attempts WHERE outcome = 'succeeded' GROUP BY delivery_id")
        assert len(ok) == 2 * N and all(n == 1 for _, n in ok)
        assert statuses(tmp_path, "arquivo") == {"succeeded": N}
    finally:
        await receiver.stop()


async def test_connection_refused_then_server_starts(tmp_path, settings_for, start):
    """Nothing listens on the port for 1 s, then the receiver starts there: everything arrives."""
    port = free_port()
    other = {"type": "webhook", "url": f"http://127.0.0.1:{port}/hook", "breaker_cooldown": "300ms"}
    receiver = Receiver()
    try:
        client = await start(settings_with(settings_for, tmp_path, other), worker=True)
        await send_events(client)
        await until(lambda: len(file_ids(tmp_path / "out.jsonl")) == N, 1.0, "file sink got everything")
        await until(lambda: db(tmp_path, "SELECT COUNT(*) FROM attempts a JOIN deliveries d "
                               "ON d.id = a.delivery_id WHERE d.sink = 'other'")[0][0] >= 1, 2, "first attempt")
        errors = {e for (e,) in db(tmp_path, "SELECT error FROM attempts WHERE error IS NOT NULL")}
        assert any("cannot connect" in e for e in errors), errors
        assert not any(str(port) in e for e in errors), "the error text holds the URL"
        await asyncio.sleep(1.0)
        await receiver.start(port)
        await until(lambda: statuses(tmp_path, "other") == {"succeeded": N}, 10, "webhook recovered")
        assert set(receiver.arrivals) == {f"ev-{i}" for i in range(N)}
        assert all(n == 1 for n in receiver.arrivals.values())
    finally:
        await receiver.stop()


async def test_breaker_opening_emits_an_operational_event(tmp_path, settings_for, start):
    """After breaker_threshold failures ponte.breaker_opened reaches the ops route."""
    receiver = Receiver(status=lambda: 503)
    hook = await receiver.start()
    sinks = {"other": {"type": "webhook", "url": hook, "breaker_threshold": 2, "breaker_cooldown": "1h"},
             "ops": {"type": "file", "path": str(tmp_path / "ops.jsonl")}}
    routes = [{"name": "crm", "events": ["acme.*"], "to": ["other"]},
              {"name": "ops", "events": ["ponte.*"], "to": ["ops"]}]
    delivery = {"max_attempts": 10, "retry_schedule": ["50ms"], "timeout": "2s"}
    try:
        client = await start(settings_for(sinks=sinks, routes=routes, delivery=delivery), worker=True)
        await send_events(client, 0, 2)
        await until(lambda: len(receiver.bodies) >= 2, 3, "two failures")
        ops = tmp_path / "ops.jsonl"
        await until(lambda: ops.exists() and "ponte.breaker_opened" in ops.read_text(), 3,
                    "ponte.breaker_opened delivered to the ops sink")
    finally:
        await receiver.stop()


# --- slow and silent receivers ----------------------------------------------------------


async def test_receiver_slower_than_the_timeout_is_transient(tmp_path, settings_for, start):
    """A 3 s receiver with a 300 ms timeout: attempts time out and retry; the file sink keeps up."""
    receiver = Receiver(delay=3.0)
    hook = await receiver.start()
    other = {"type": "webhook", "url": hook, "timeout": "300ms", "breaker_threshold": 1000}
    try:
        client = await start(settings_with(settings_for, tmp_path, other, max_attempts=2), worker=True)
        await send_events(client, 0, 10)
        await until(lambda: len(file_ids(tmp_path / "out.jsonl")) == 10, 1.0, "file sink got everything")
        await until(lambda: statuses(tmp_path, "other") == {"failed": 10}, 15, "webhook gave up")
        rows = db(tmp_path, "SELECT a.outcome, a.error, a.duration_ms FROM attempts a "
                            "JOIN deliveries d ON d.id = a.delivery_id WHERE d.sink = 'other'")
        assert {o for o, _, _ in rows} == {"retry", "failed"}
        assert all("timed out" in e for _, e, _ in rows)
        assert max(ms for _, _, ms in rows) < 1500, "an attempt outlived its timeout"
    finally:
        await receiver.stop()


async def test_http_server_that_never_answers_times_out(tmp_path, settings_for, start):
    """A socket that accepts and never answers: transient timeouts, the worker stays responsive."""
    silent = SilentServer()
    port = await silent.start()
    other = {"type": "webhook", "url": f"http://127.0.0.1:{port}/hook", "timeout": "500ms", "concurrency": 2,
             "breaker_threshold": 1000}
    try:
        client = await start(settings_with(settings_for, tmp_path, other, max_attempts=2), worker=True)
        await send_events(client, 0, 2)
        await until(lambda: silent.connections >= 1, 2, "a connection to the silent server")
        # While the silent sink holds its slots, new events still reach the file sink at once.
        began = time.monotonic()
        await send_events(client, 2, 4)
        await until(lambda: len(file_ids(tmp_path / "out.jsonl")) == 6, 1.0, "file sink kept up")
        assert time.monotonic() - began < 1.5
        await until(lambda: statuses(tmp_path, "other") == {"failed": 6}, 20, "silent sink gave up")
        errors = {e for (e,) in db(tmp_path, "SELECT a.error FROM attempts a JOIN deliveries d "
                                            "ON d.id = a.delivery_id WHERE d.sink = 'other'")}
        assert errors == {"webhook sink 'other': timed out after 0.5s"}
        assert (await client.get("/healthz")).status == 200
    finally:
        await silent.stop()


class StallingInbox:
    """An aiosmtpd handler whose DATA answer comes after ``stall`` seconds."""

    def __init__(self, stall: float) -> None:
        self.stall = stall
        self.data_calls = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        await asyncio.sleep(self.stall)
        return "250 OK"


@pytest.fixture
def stalling_smtp() -> Iterator[tuple[StallingInbox, int]]:
    inbox = StallingInbox(stall=5.0)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def email_sink(port: int) -> dict[str, Any]:
    return {"type": "email", "host": "127.0.0.1", "port": port, "security": "none", "timeout": "500ms",
            "breaker_threshold": 1000,
            "from": "Ponte <ponte@example.com>", "to": ["fin@example.com"]}


async def test_smtp_server_stalling_in_data_times_out(tmp_path, settings_for, start, stalling_smtp):
    """The SMTP server takes the message and never answers the final dot: transient, no hang."""
    inbox, port = stalling_smtp
    client = await start(settings_with(settings_for, tmp_path, email_sink(port), max_attempts=2), worker=True)
    await send_events(client, 0, 3)
    await until(lambda: len(file_ids(tmp_path / "out.jsonl")) == 3, 1.0, "file sink kept up")
    await until(lambda: statuses(tmp_path, "other") == {"failed": 3}, 10, "email sink gave up")
    rows = db(tmp_path, "SELECT a.outcome, a.error, a.duration_ms FROM attempts a "
                        "JOIN deliveries d ON d.id = a.delivery_id WHERE d.sink = 'other' ORDER BY a.id")
    assert inbox.data_calls >= 1
    assert sorted({o for o, _, _ in rows}) == ["failed", "retry"]
    assert all(e == "email sink 'other': timed out after 0.5s" for _, e, _ in rows), rows
    assert max(ms for _, _, ms in rows) < 2000


@pytest.mark.parametrize("greeting", [b"220 stall.example ESMTP\r\n", b""], ids=["after-greeting", "no-greeting"])
async def test_smtp_server_that_stalls_in_the_conversation_times_out(tmp_path, settings_for, start, greeting):
    """A raw server that greets (or not) and then stalls: each attempt ends at the timeout."""
    silent = SilentServer(greeting)
    port = await silent.start()
    try:
        client = await start(settings_with(settings_for, tmp_path, email_sink(port), max_attempts=2), worker=True)
        await send_events(client, 0, 3)
        await until(lambda: len(file_ids(tmp_path / "out.jsonl")) == 3, 1.0, "file sink kept up")
        await until(lambda: statuses(tmp_path, "other") == {"failed": 3}, 10, "email sink gave up")
        rows = db(tmp_path, "SELECT a.outcome, a.error, a.duration_ms FROM attempts a "
                            "JOIN deliveries d ON d.id = a.delivery_id WHERE d.sink = 'other'")
        assert sorted({o for o, _, _ in rows}) == ["failed", "retry"]
        assert all("timed out" in e for _, e, _ in rows), rows
        assert max(ms for _, _, ms in rows) < 2500
        assert silent.connections >= 1
    finally:
        await silent.stop()
