"""The CLI against real config files, a real database and a real running app."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import SECRET, base_config, fixture_body, post_signed
from service.__main__ import main
from service.config.settings import load_settings


def write_config(tmp_path: Path, **sections: Any) -> str:
    """Write a config file for the CLI and return its path."""
    raw = base_config(tmp_path, **sections)
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def sales_config(tmp_path: Path) -> str:
    sinks = {"vendas": {"type": "slack", "webhook_url": "http://127.0.0.1:9/hook"},
             "crm": {"type": "webhook", "url": "http://127.0.0.1:9/crm"},
             "arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")}}
    routes = [
        {"name": "grandes", "events": ["myeduzz.invoice_paid"],
         "where": {"data.price.value": {"gte": 1000}}, "to": ["vendas"]},
        {"name": "vendas", "events": ["myeduzz.invoice_*"], "to": ["crm"]},
        {"name": "resto", "events": ["*"], "to": ["arquivo"]},
    ]
    return write_config(tmp_path, sinks=sinks, routes=routes)


def test_routes_test_explains_and_renders(tmp_path, capsys):
    """routes test shows which routes matched, why others did not, and each message."""
    config = sales_config(tmp_path)
    assert main(["routes", "test", "myeduzz.invoice_paid", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "✘ grandes: condition failed: data.price.value gte 1000" in out
    assert "✔ vendas: matched" in out and "→ crm" in out and "forwarded_raw_body" in out
    assert "→ arquivo" in out


def test_routes_test_expect_passes_and_fails(tmp_path, capsys):
    """--expect asserts sinks per file and exits 1 on a mismatch."""
    config = sales_config(tmp_path)
    big = json.loads(fixture_body("myeduzz.invoice_paid"))
    big["data"]["price"]["value"] = 5000
    (tmp_path / "big.json").write_text(json.dumps(big))
    tests = tmp_path / "tests.yaml"
    tests.write_text(yaml.safe_dump([
        {"file": "big.json", "sinks": ["vendas", "crm", "arquivo"]},
        {"file": "myeduzz.invoice_paid", "sinks": ["crm", "arquivo"]},
    ]))
    assert main(["routes", "test", "--expect", str(tests), "--config", config]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out
    tests.write_text(yaml.safe_dump([{"file": "nutror.lesson_watched", "sinks": ["crm"]}]))
    assert main(["routes", "test", "--expect", str(tests), "--config", config]) == 1
    assert "expected sinks ['crm'], got ['arquivo']" in capsys.readouterr().err


def test_routes_test_unknown_file_is_exit_2(tmp_path, capsys):
    """A file that does not exist is reported plainly."""
    assert main(["routes", "test", "nope.json", "--config", sales_config(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_preview_prints_the_slack_message(tmp_path, capsys):
    """preview renders what one sink would receive for an event file."""
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "vendas", "--config", sales_config(tmp_path)]) == 0
    message = json.loads(capsys.readouterr().out)
    assert "blocks" in message and "Alice Johnson" in json.dumps(message)


async def test_simulate_sends_a_signed_event_to_a_running_ponte(tmp_path, aiohttp_server):
    """simulate signs a catalogue example like Eduzz; a running Ponte accepts and stores it."""
    from service.app import create_app

    config = write_config(tmp_path)
    server = await aiohttp_server(create_app(load_settings(config), worker=False))
    url = str(server.make_url("/webhooks/eduzz"))
    args = ["simulate", "myeduzz.invoice_paid", "--url", url, "--secret", SECRET, "--set", "data.price.value=99"]
    assert await asyncio.to_thread(main, args) == 0
    assert await asyncio.to_thread(main, [*args[:-2], "--secret", "wrong"]) == 1
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        (body,) = conn.execute("SELECT body FROM events").fetchone()
    assert json.loads(body)["data"]["price"]["value"] == 99


def test_simulate_unknown_event_and_unreachable_url(capsys):
    """Unknown events and unreachable URLs are clear errors."""
    assert main(["simulate", "acme.nope", "--url", "http://127.0.0.1:9/", "--secret", "s"]) == 2
    assert "unknown event" in capsys.readouterr().err
    argv = ["simulate", "myeduzz.invoice_paid", "--url", "http://127.0.0.1:9/", "--secret", "s", "--timeout", "2"]
    assert main(argv) == 1
    assert "could not reach" in capsys.readouterr().err


async def test_offline_operations(tmp_path, start, capsys):
    """events, deliveries, replay, retry and purge work on the database from the CLI."""
    config = sales_config(tmp_path)
    client = await start(load_settings(config))
    for i in range(3):
        doc = {"id": f"c{i}", "event": "myeduzz.invoice_paid", "data": {"price": {"value": 10}}}
        await post_signed(client, json.dumps(doc).encode())
    await client.close()
    capsys.readouterr()  # the in-process app's own log lines
    run = lambda *a: asyncio.to_thread(main, [*a, "--config", config])  # noqa: E731

    assert await run("events", "--json") == 0
    events = json.loads(capsys.readouterr().out)["items"]
    assert [e["external_id"] for e in events] == ["c2", "c1", "c0"]
    assert await run("events", str(events[0]["event_id"])) == 0
    assert "delivery" in capsys.readouterr().out
    assert await run("deliveries", "--sink", "crm") == 0
    table = capsys.readouterr().out
    assert table.startswith("ID") and table.count("crm") == 3

    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.execute("UPDATE deliveries SET status = 'failed'")
    assert await run("replay") == 2
    assert "all" in capsys.readouterr().err
    assert await run("replay", "--status", "failed", "--sink", "crm", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"rescheduled": 3, "skipped": 0, "sending": 0}
    assert await run("retry", "1") == 0
    assert await run("retry", "999") == 2
    capsys.readouterr()
    assert await run("replay", str(events[0]["event_id"]), "--to", "arquivo") == 0
    assert "rescheduled 1 delivery(ies)\na running" in capsys.readouterr().out
    assert await run("replay", str(events[0]["event_id"]), "--to", "nosuch") == 2
    assert "has no delivery to 'nosuch'" in capsys.readouterr().err

    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.execute("UPDATE deliveries SET status = 'succeeded' WHERE event_id != ?", (events[0]["event_id"],))
        conn.execute("UPDATE events SET received_at = 0")
    capsys.readouterr()
    assert await run("purge") == 0
    assert "purged 2 event(s)" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1


def test_preview_of_a_webhook_without_template_shows_the_forwarded_body(tmp_path, capsys):
    """A webhook sink forwards the raw body; preview shows that body."""
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "crm", "--config", sales_config(tmp_path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["forwarded_raw_body"]["data"]["buyer"]["name"] == "Alice Johnson"


def test_serve_refuses_a_busy_port_before_touching_storage(tmp_path, capsys):
    """A port in use is a one-line error, and the database is not even created."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        config = write_config(tmp_path, server={"port": port})
        assert main(["serve", "--config", config]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "ponte.db").exists()


async def test_second_service_on_one_database_is_refused(tmp_path, start):
    """Two services on one database would send twice: the second one is refused."""
    from service.app import create_app
    from service.errors import StorageUnavailable

    settings = load_settings(write_config(tmp_path))
    await start(settings, worker=True)
    second = create_app(settings, worker=True)
    with pytest.raises(StorageUnavailable, match="another Ponte is already serving"):
        async with _started(second):
            pass


class _started:
    """Run an app's start-up (cleanup contexts) and its clean-up."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __aenter__(self) -> None:
        from aiohttp import web

        self.runner = web.AppRunner(self.app)
        await self.runner.setup()

    async def __aexit__(self, *exc: Any) -> None:
        await self.runner.cleanup()


def test_check_reports_a_broken_database_path(tmp_path, capsys):
    """An unusable database path is a clear error for offline commands, which create nothing."""
    path = tmp_path / "file"
    path.write_text("x")
    config = write_config(tmp_path, storage={"url": f"sqlite:///{path}/sub/ponte.db"})
    assert main(["events", "--config", config]) == 1
    assert f"no database at {path}/sub/ponte.db" in capsys.readouterr().err
