"""The operator's CLI on a real database and against a running Ponte (issue 11, items 13-17)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiohttp import web

from conftest import base_config, post_signed
from service.__main__ import _parser, main
from service.app import create_app
from service.config.settings import load_settings

TOKEN = "cli-admin-token"
PONTE = [sys.executable, "-m", "service"]


def write(path: Path, raw: dict[str, Any]) -> str:
    """Write a config dict as YAML to ``path``; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def config(tmp_path: Path, **sections: Any) -> str:
    """A config with the admin token, a file sink and a webhook sink (both routed)."""
    sinks = {
        "arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")},
        "crm": {"type": "webhook", "url": "http://127.0.0.1:9/crm"},
    }
    raw = base_config(
        tmp_path,
        server={"admin_token": TOKEN},
        sinks=sinks,
        routes=[{"name": "tudo", "events": ["*"], "to": ["arquivo", "crm"]}],
    )
    return write(tmp_path / "ponte.yaml", raw | sections)


async def ingest(settings: Any, n: int, aiohttp_client: Any, body_size: int = 0) -> None:
    """Post ``n`` signed events to a real app on ``settings`` (no worker), then stop it."""
    client = await aiohttp_client(create_app(settings, worker=False))
    for i in range(n):
        doc = {"id": f"e{i}", "event": "myeduzz.invoice_paid", "data": {"note": "x" * body_size}}
        assert (await post_signed(client, json.dumps(doc).encode())).status == 200
    await client.close()


def cli(*args: str) -> Any:
    """Run the CLI in a thread (a running app may be serving in this loop)."""
    return asyncio.to_thread(main, list(args))


# --- 13: paths relative to the config; no database created ---------------------------------


async def test_relative_database_follows_the_config_file(
    tmp_path, aiohttp_client, monkeypatch, capsys
):
    """sqlite:///data/ponte.db in ops/ops.yaml is ops/data/ponte.db from any directory."""
    raw = base_config(tmp_path, storage={"url": "sqlite:///data/ponte.db"})
    path = write(tmp_path / "ops" / "ops.yaml", raw)
    await ingest(load_settings(path), 2, aiohttp_client)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert await cli("deliveries", "--json", "--config", "../ops/ops.yaml") == 0
    assert len(json.loads(capsys.readouterr().out)["items"]) == 2
    assert (tmp_path / "ops" / "data" / "ponte.db").is_file() and not (elsewhere / "data").exists()


@pytest.mark.parametrize("command", ["events", "deliveries", "replay", "retry", "purge", "sinks"])
def test_operator_commands_never_create_a_database(tmp_path, capsys, command):
    """A missing database is named, and no file or directory is created for it."""
    path = write(
        tmp_path / "c.yaml", base_config(tmp_path, storage={"url": "sqlite:///data/ponte.db"})
    )
    args = {"replay": ["--all"], "retry": ["1"]}.get(command, [])
    assert main([command, *args, "--config", path]) == 1
    assert f"no database at {tmp_path / 'data' / 'ponte.db'}" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


# --- 14: read commands need only storage ----------------------------------------------------


async def test_read_commands_work_with_broken_sections_and_unset_variables(
    tmp_path, aiohttp_client, capsys, monkeypatch
):
    """events, deliveries, replay and sinks run beside invalid sections and unset ${VAR}s."""
    path = config(tmp_path)
    await ingest(load_settings(path), 1, aiohttp_client)
    raw = yaml.safe_load(Path(path).read_text())
    raw["sinks"]["crm"]["url"] = "${CRM_URL_NOT_SET}"
    raw["sinks"]["crm"]["retries"] = 3  # an unknown key
    raw["server"]["admin_token"] = "${TOKEN_NOT_SET}"
    raw["routes"][0]["where"] = {"data.price.value": {"bogus_op": 1}}
    write(Path(path), raw)
    monkeypatch.delenv("CRM_URL_NOT_SET", raising=False)
    assert await cli("check", "--config", path) == 1
    capsys.readouterr()
    assert await cli("events", "--json", "--config", path) == 0
    assert json.loads(capsys.readouterr().out)["items"][0]["external_id"] == "e0"
    assert await cli("deliveries", "--sink", "crm", "--config", path) == 0
    assert "crm" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.execute("UPDATE deliveries SET status = 'failed'")
    assert await cli("replay", "--status", "failed", "--json", "--config", path) == 0
    assert json.loads(capsys.readouterr().out)["rescheduled"] == 2
    assert await cli("sinks", "--config", path) == 0
    assert "crm" in capsys.readouterr().out


def test_a_broken_storage_section_is_still_an_error(tmp_path, capsys):
    """Only the storage section must be valid, and its error is reported with its path."""
    path = write(
        tmp_path / "c.yaml", {"storage": {"url": "mysql://x"}, "sinks": {"a": {"type": "nope"}}}
    )
    assert main(["events", "--config", path]) == 1
    err = capsys.readouterr().err
    assert "storage.url" in err and "sinks.a" not in err


# --- 15: --url through a running Ponte ------------------------------------------------------


@pytest.fixture
async def running(tmp_path, aiohttp_client, aiohttp_server, monkeypatch):
    """A real Ponte app (no worker) with 3 events stored; yields (url, config path)."""
    path = config(tmp_path)
    settings = load_settings(path)
    await ingest(settings, 3, aiohttp_client)
    server = await aiohttp_server(create_app(settings, worker=False))
    monkeypatch.setenv("PONTE_ADMIN_TOKEN", TOKEN)
    return str(server.make_url("")), path


async def test_url_lists_and_shows_through_the_admin_api(running, capsys, tmp_path):
    """events and deliveries with --url read the running service; no config or database needed."""
    url, _ = running
    os.rename(tmp_path / "ponte.db", tmp_path / "moved.db")  # the CLI cannot be reading the file
    os.rename(tmp_path / "moved.db", tmp_path / "ponte.db")
    nowhere = str(tmp_path / "missing.yaml")
    assert await cli("events", "--url", url, "--json", "--config", nowhere) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert [e["external_id"] for e in items] == ["e2", "e1", "e0"]
    assert await cli("events", str(items[0]["event_id"]), "--url", url, "--config", nowhere) == 0
    assert '"id": "e2"' in capsys.readouterr().out
    assert await cli("deliveries", "--sink", "crm", "--url", url, "--config", nowhere) == 0
    assert capsys.readouterr().out.count("crm") == 3
    assert await cli("deliveries", "999", "--url", url) == 2
    assert "no delivery 999" in capsys.readouterr().err


async def test_url_replay_retry_purge_and_sinks(running, capsys, tmp_path):
    """replay, retry, purge and sinks enable/disable act on the running service."""
    url, _ = running
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.execute("UPDATE deliveries SET status = 'failed'")
    assert await cli("replay", "--status", "failed", "--sink", "crm", "--url", url, "--json") == 0
    assert json.loads(capsys.readouterr().out)["rescheduled"] == 3
    assert await cli("retry", "1", "--url", url) == 0
    assert "rescheduled 1 delivery(ies)" in capsys.readouterr().out
    assert await cli("replay", "1", "--to", "arquivo", "--url", url, "--json") == 0
    assert json.loads(capsys.readouterr().out)["rescheduled"] == 1
    assert await cli("purge", "--older-than", "0s", "--dry-run", "--url", url, "--json") == 0
    assert json.loads(capsys.readouterr().out)["dry_run"] is True
    assert await cli("sinks", "disable", "crm", "--url", url) == 0
    assert "sink crm disabled" in capsys.readouterr().out
    assert await cli("sinks", "--url", url, "--json") == 0
    rows = {s["name"]: s for s in json.loads(capsys.readouterr().out)["items"]}
    assert rows["crm"]["enabled"] is False and rows["arquivo"]["breaker"] == "closed"
    assert await cli("sinks", "enable", "crm", "--url", url) == 0
    assert await cli("sinks", "enable", "nosuch", "--url", url) == 2
    assert "no sink 'nosuch'" in capsys.readouterr().err


async def test_url_needs_the_right_token(running, capsys, monkeypatch):
    """No token and a wrong token are one-line errors that never show the token."""
    url, _ = running
    monkeypatch.setenv("PONTE_ADMIN_TOKEN", "wrong-token")
    assert await cli("events", "--url", url) == 1
    err = capsys.readouterr().err
    assert "refused the token" in err and "wrong-token" not in err
    monkeypatch.delenv("PONTE_ADMIN_TOKEN")
    assert await cli("events", "--url", url) == 1
    assert "set PONTE_ADMIN_TOKEN" in capsys.readouterr().err


async def test_url_unreachable_is_one_line(capsys, monkeypatch):
    """A URL nothing listens on is reported plainly."""
    monkeypatch.setenv("PONTE_ADMIN_TOKEN", TOKEN)
    assert await cli("events", "--url", "http://127.0.0.1:9", "--timeout", "5") == 1
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


async def test_offline_sinks_list_disable_enable(tmp_path, aiohttp_client, capsys):
    """Offline, sinks shows state and backlog; disable parks pending deliveries, enable frees."""
    path = config(tmp_path)
    await ingest(load_settings(path), 2, aiohttp_client)
    capsys.readouterr()
    assert await cli("sinks", "disable", "crm", "--config", path) == 0
    assert "2 delivery(ies) changed" in capsys.readouterr().out
    assert await cli("sinks", "--config", path) == 0
    out = capsys.readouterr().out
    assert "disabled (disabled by an operator)" in out and "arquivo" in out
    assert await cli("sinks", "enable", "crm", "--config", path) == 0
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        assert (
            conn.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'disabled'").fetchone()[0]
            == 0
        )
    assert await cli("sinks", "enable", "--config", path) == 2


async def test_offline_sink_change_beside_a_running_service_says_when_it_applies(
    tmp_path, aiohttp_client, capsys
):
    """Beside a running ponte serve, an offline disable says the service applies it at reload."""
    path = config(tmp_path)
    client = await aiohttp_client(create_app(load_settings(path)))  # the worker holds <db>.lock
    capsys.readouterr()
    assert await cli("sinks", "disable", "crm", "--config", path) == 0
    assert (
        "note: a running Ponte holds this database: it applies this at its next reload"
        in capsys.readouterr().out
    )
    await client.close()
    assert await cli("sinks", "enable", "crm", "--config", path) == 0
    assert "note:" not in capsys.readouterr().out


# --- 16: version, help, pipes, purge, whole bodies, times --------------------------------------


def test_version_through_the_real_process():
    """ponte --version prints the version."""
    out = subprocess.run([*PONTE, "--version"], capture_output=True, text=True, check=True).stdout
    from service import __version__

    assert out.strip() == f"ponte {__version__}"


def test_every_option_has_help_text():
    """Every argument of every command says what it is for."""

    def missing(parser: Any, where: str) -> list[str]:
        found = []
        for action in parser._actions:
            if action.help in (None, "") and action.dest != "help":
                found.append(f"{where} {action.dest}")
            choices = getattr(action, "choices", None)
            for name, sub in choices.items() if isinstance(choices, dict) else []:
                found += missing(sub, f"{where} {name}")
        return found

    assert missing(_parser(), "ponte") == []


async def test_broken_pipe_exits_quietly(tmp_path, aiohttp_client):
    """`ponte events ID | head -1`: the reader goes away and ponte stops without a traceback."""
    path = config(tmp_path)
    await ingest(load_settings(path), 1, aiohttp_client, body_size=300_000)
    err, code = await asyncio.to_thread(
        read_one_line_and_hang_up, [*PONTE, "events", "1", "--config", path]
    )
    assert err == b"" and code == 141


def read_one_line_and_hang_up(command: list[str]) -> tuple[bytes, int]:
    """Run ``command``, read its first line, close the pipe; return its stderr and exit status."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    return err, proc.returncode


async def test_purge_durations_dry_run_and_json(tmp_path, aiohttp_client, capsys):
    """purge takes 12h/30d, refuses negatives, counts with --dry-run and answers --json."""
    path = config(tmp_path)
    await ingest(load_settings(path), 3, aiohttp_client)
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.execute("UPDATE deliveries SET status = 'succeeded'")
        conn.execute(
            "UPDATE events SET received_at = received_at - 86400 WHERE external_id != 'e2'"
        )
    capsys.readouterr()
    assert await cli("purge", "--older-than=-1d", "--config", path) == 2
    assert "must not be negative" in capsys.readouterr().err
    assert await cli("purge", "--older-than", "soon", "--config", path) == 2
    assert await cli("purge", "--older-than", "12h", "--dry-run", "--config", path) == 0
    assert "would purge 2 event(s) received before" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3
    assert await cli("purge", "--older-than", "12h", "--json", "--config", path) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["purged"] == 2 and done["dry_run"] is False and done["older_than_seconds"] == 43200
    assert await cli("purge", "--older-than", "30d", "--config", path) == 0
    assert "purged 0 event(s)" in capsys.readouterr().out


async def test_event_detail_shows_the_whole_body_and_json_headers(tmp_path, aiohttp_client, capsys):
    """events ID prints the entire body (not the first 2,000 characters) and headers as JSON."""
    path = config(tmp_path)
    await ingest(load_settings(path), 1, aiohttp_client, body_size=5000)
    capsys.readouterr()
    assert await cli("events", "1", "--config", path) == 0
    out = capsys.readouterr().out
    assert "x" * 5000 in out
    start = out.index("headers:") + len("headers:")
    headers = json.JSONDecoder().raw_decode(out[start:].lstrip())[0]
    assert headers["content-type"] == "application/json"


async def test_lists_have_a_time_column_in_the_configured_zone(tmp_path, aiohttp_client, capsys):
    """Lists show when, in messages.timezone (here Asia/Tokyo), not in UTC."""
    path = config(tmp_path, messages={"timezone": "Asia/Tokyo"})
    await ingest(load_settings(path), 1, aiohttp_client)
    capsys.readouterr()
    assert await cli("events", "--json", "--config", path) == 0
    utc = json.loads(capsys.readouterr().out)["items"][0]["received_at"]
    local = datetime.fromisoformat(utc).astimezone(ZoneInfo("Asia/Tokyo"))
    for command in ("events", "deliveries"):
        assert await cli(command, "--config", path) == 0
        out = capsys.readouterr().out
        assert local.strftime("%d/%m/%Y %H:%M:%S") in out
        assert out.split()[1] in ("RECEIVED", "UPDATED")


# --- 17: replay while sending, retry while the breaker is open, strict replay body ----------------


async def test_replay_of_an_event_being_sent_says_so(tmp_path, aiohttp_client, capsys):
    """Replaying an event whose only delivery is being sent says so, instead of "not configured"."""
    path = config(tmp_path)
    await ingest(load_settings(path), 1, aiohttp_client)
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.execute("UPDATE deliveries SET status = 'sending' WHERE sink = 'crm'")
        conn.execute("UPDATE deliveries SET status = 'succeeded' WHERE sink = 'arquivo'")
    capsys.readouterr()
    assert await cli("replay", "1", "--to", "crm", "--config", path) == 2
    assert "delivery to crm is being sent right now" in capsys.readouterr().err
    assert await cli("replay", "1", "--config", path) == 0
    assert (
        "rescheduled 1 delivery(ies) (1 being sent right now, left alone)"
        in capsys.readouterr().out
    )


async def test_per_event_replay_refuses_unknown_keys(tmp_path, aiohttp_client):
    """POST /api/events/<id>/replay answers 400 for a key it does not know, like bulk replay."""
    settings = load_settings(config(tmp_path))
    await ingest(settings, 1, aiohttp_client)
    client = await aiohttp_client(create_app(settings, worker=False))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    resp = await client.post("/api/events/1/replay", json={"sink": ["crm"]}, headers=auth)
    assert resp.status == 400 and "unknown key(s): sink" in (await resp.json())["error"]
    resp = await client.post("/api/events/1/replay", json={"sinks": ["crm"]}, headers=auth)
    assert resp.status == 200


async def test_retry_while_the_breaker_is_open_says_when(
    tmp_path, aiohttp_client, aiohttp_server, monkeypatch, capsys
):
    """retry --url of a delivery whose sink's breaker is open says when it will be sent."""

    async def fail(request: web.Request) -> web.Response:
        return web.Response(status=503)

    receiver = web.Application()
    receiver.router.add_post("/crm", fail)
    down = await aiohttp_server(receiver)
    sinks = {
        "crm": {
            "type": "webhook",
            "url": str(down.make_url("/crm")),
            "breaker_threshold": 1,
            "breaker_cooldown": "1h",
        }
    }
    raw = base_config(
        tmp_path,
        server={"admin_token": TOKEN},
        sinks=sinks,
        routes=[{"name": "r", "events": ["*"], "to": ["crm"]}],
        delivery={"retry_schedule": ["1h"]},
    )
    settings = load_settings(write(tmp_path / "ponte.yaml", raw))
    server = await aiohttp_server(create_app(settings))
    client = await aiohttp_client(server)
    assert (
        await post_signed(client, b'{"id": "b1", "event": "myeduzz.invoice_paid"}')
    ).status == 200
    for _ in range(500):  # bounded: until the failed attempt is recorded
        with sqlite3.connect(tmp_path / "ponte.db") as conn:
            if conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]:
                break
        await asyncio.sleep(0.02)
    monkeypatch.setenv("PONTE_ADMIN_TOKEN", TOKEN)
    capsys.readouterr()
    assert (
        await cli(
            "retry",
            "1",
            "--url",
            str(server.make_url("")),
            "--config",
            str(tmp_path / "ponte.yaml"),
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "rescheduled 1 delivery(ies)" in out
    assert (
        "sink crm's circuit breaker is open: it is sent when the breaker lets a try through, at "
        in out
    )
    assert await cli("replay", "--sink", "crm", "--url", str(server.make_url(""))) == 0
    assert "sink crm's circuit breaker is open" in capsys.readouterr().out
    assert await cli("sinks", "--url", str(server.make_url("")), "--json") == 0
    (crm,) = json.loads(capsys.readouterr().out)["items"]
    assert crm["breaker"] == "open" and crm["breaker_reopens_at"] > crm_attempt_time(tmp_path)
    assert await cli("sinks", "--url", str(server.make_url(""))) == 0
    assert "open" in capsys.readouterr().out.splitlines()[1]


def crm_attempt_time(tmp_path: Path) -> str:
    """When the first attempt started, as the API writes times (ISO-8601, UTC)."""
    from service.timeparse import iso

    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        return str(iso(conn.execute("SELECT MIN(started_at) FROM attempts").fetchone()[0]))


async def test_preview_of_a_stored_event_ignores_other_broken_sections(
    tmp_path, aiohttp_client, capsys, monkeypatch
):
    """preview ID --sink arquivo works while the source's secret and another sink are broken."""
    path = config(tmp_path)
    await ingest(load_settings(path), 1, aiohttp_client)
    raw = yaml.safe_load(Path(path).read_text())
    raw["sources"]["eduzz"]["secrets"] = ["${EDUZZ_SECRET_NOT_SET}"]
    raw["sinks"]["crm"] = {"type": "webhook", "url": "${CRM_URL_NOT_SET}", "bogus": 1}
    raw["server"]["port"] = "not a port"
    write(Path(path), raw)
    monkeypatch.delenv("EDUZZ_SECRET_NOT_SET", raising=False)
    capsys.readouterr()
    assert await cli("preview", "1", "--sink", "arquivo", "--config", path) == 0
    assert (
        json.loads(capsys.readouterr().out)["event"] == "myeduzz.invoice_paid"
    )  # the file sink's line
    assert await cli("preview", "1", "--sink", "crm", "--config", path) == 1
    assert "CRM_URL_NOT_SET" in capsys.readouterr().err
    (tmp_path / "ponte.db").unlink()
    assert await cli("preview", "1", "--sink", "arquivo", "--config", path) == 2
    assert "no database at" in capsys.readouterr().err and not (tmp_path / "ponte.db").exists()


async def test_an_overdue_pending_delivery_reads_waiting_for_the_breaker(
        tmp_path, aiohttp_client, capsys):
    """A pending delivery due an hour ago is not shown with that past time."""
    path = config(tmp_path)
    await ingest(load_settings(path), 1, aiohttp_client)
    past = datetime.now(ZoneInfo("UTC")).timestamp() - 3600
    with sqlite3.connect(tmp_path / "ponte.db") as conn:
        conn.execute("UPDATE deliveries SET next_attempt_at = ? WHERE sink = 'crm'", (past,))
    capsys.readouterr()
    assert await cli("deliveries", "--sink", "crm", "--config", path) == 0
    out = capsys.readouterr().out
    shown = datetime.fromtimestamp(past, ZoneInfo("America/Sao_Paulo")).strftime("%d/%m/%Y %H:%M")
    assert "waiting for the breaker" in out and shown not in out


@pytest.mark.parametrize("url", ["127.0.0.1:8090", "localhost", "ftp://127.0.0.1:8090"])
def test_url_without_a_scheme_is_a_clear_error(url, capsys, monkeypatch):
    """``--url 127.0.0.1:8090`` says how to write it, in one line, exit 1."""
    monkeypatch.setenv("PONTE_ADMIN_TOKEN", TOKEN)
    assert main(["deliveries", "--url", url]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"ponte: --url {url!r} must start with http:// or https:// (e.g. http://127.0.0.1:8080)"


def test_a_file_sinks_relative_path_follows_the_config_file(tmp_path, monkeypatch):
    """``path: out/vendas.jsonl`` in ops/ponte.yaml is ops/out/vendas.jsonl from any directory."""
    raw = base_config(tmp_path, sinks={"arquivo": {"type": "file", "path": "out/vendas.jsonl"}})
    path = write(tmp_path / "ops" / "ponte.yaml", raw)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings("../ops/ponte.yaml")
    assert settings.config.sinks["arquivo"].path == str(tmp_path / "ops" / "out" / "vendas.jsonl")
    assert load_settings(path).config.sinks["arquivo"].path == str(tmp_path / "ops" / "out" / "vendas.jsonl")
