"""Storage that refuses writes: the worker backs off and recovers, /readyz tells the truth.

The refusal is real SQLite: ``PRAGMA query_only`` on the writer's connection makes every
write fail with "attempt to write a readonly database", as a read-only file system does.
"""

from __future__ import annotations

from typing import Any

import structlog
from logcapture import fresh_loggers  # noqa: F401 - a fixture

from conftest import fixture_body, post_signed
from service.delivery import worker as worker_module
from service.delivery.worker import WORKER
from service.keys import STORE
from test_delivery import wait_for


def _refuse_writes(client: Any, refuse: bool) -> None:
    """Switch the writer's own connection to read-only (or back)."""
    conn = client.app[STORE]._writer._conn
    conn.execute(f"PRAGMA query_only = {'ON' if refuse else 'OFF'}")


async def test_readyz_follows_whether_writes_succeed(settings_for, start):
    """Ready while writes work; 503 while refused (webhooks get 503 too); ready again after."""
    client = await start(settings_for())
    assert (await client.get("/readyz")).status == 200
    _refuse_writes(client, True)
    resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    assert resp.status == 503
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert "readonly" in (await ready.json())["error"]
    _refuse_writes(client, False)
    assert (await client.get("/readyz")).status == 200  # the probe write succeeds: ready again
    resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    assert resp.status == 200


async def test_worker_backs_off_logs_once_and_recovers(settings_for, start, monkeypatch, tmp_path,
                                                       fresh_loggers):
    """Refused writes: one log line however many rounds fail, bounded waits, resumes alone."""
    monkeypatch.setattr(worker_module, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(worker_module, "BACKOFF_MAX", 0.08)
    with structlog.testing.capture_logs() as logs:
        client = await start(settings_for(), worker=True)
        worker = client.app[WORKER]
        _refuse_writes(client, True)
        await wait_for(lambda: worker.failures >= 8)
        assert worker.backoff == 0.08  # doubled up to the cap, and no further
        failing = [e for e in logs
                   if e["event"] in ("worker_storage_failing", "worker_dispatch_failed")]
        assert [e["event"] for e in failing] == ["worker_storage_failing"]
        assert "readonly" in failing[0]["error"]
        _refuse_writes(client, False)
        await wait_for(lambda: worker.failures == 0)
        resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"))
        assert resp.status == 200
        await wait_for(lambda: (tmp_path / "out.jsonl").exists())
    events = [e["event"] for e in logs]
    assert events.count("worker_resumed") == 1
    assert events.count("storage_writes_failing") == 1
    assert events.count("storage_writes_recovered") == 1
