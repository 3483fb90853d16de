"""A receiver echoing a webhook sink's configured header values: none is stored or logged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web
from logcapture import fresh_loggers  # noqa: F401 - a fixture

from conftest import fixture_body, post_signed
from service.operate.route_test import routing_report
from service.sinks.redaction import message_secrets
from sink_contract import DISCORD_TOKEN, TELEGRAM_TOKEN, WHATSAPP_TOKEN
from test_delivery import wait_for

TOKEN = "tok-4f9c1d2e8b7a6350"
API_KEY = "chave-9a8b7c6d5e4f"
TOKEN_SECRETS = (TOKEN, API_KEY)


async def _echoing(aiohttp_server: Any, status: int) -> str:
    """An endpoint answering ``status`` with every request header and the bare token."""
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        text = f"denied: {json.dumps(dict(request.headers))} token={token}"
        return web.Response(status=status, text=text)

    app = web.Application()
    app.router.add_post("/hook", handle)
    return str((await aiohttp_server(app)).make_url("/hook"))


def _stored_text(db: Path) -> str:
    """Every text column that keeps a receiver's answer or an error, plus operational events."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT error, response FROM attempts").fetchall()
        rows += conn.execute("SELECT last_error, '' FROM deliveries").fetchall()
        rows += conn.execute(
            "SELECT CAST(body AS TEXT), '' FROM events WHERE source = 'ponte'").fetchall()
    return "\n".join(str(v) for row in rows for v in row)


async def test_echoed_header_values_are_redacted_everywhere(
        tmp_path, settings_for, start, aiohttp_server, fresh_loggers):
    """Attempt errors, the API, the log and ponte.delivery_failed hold none of the header values."""
    url = await _echoing(aiohttp_server, 400)
    sinks = {"crm": {"type": "webhook", "url": url,
                     "headers": {"Authorization": f"Bearer {TOKEN}", "X-Api-Key": API_KEY}}}
    routes = [{"name": "tudo", "events": ["myeduzz.*"], "to": ["crm"]}]
    settings = settings_for(sinks=sinks, routes=routes, server={"admin_token": "adm"},
                            delivery={"max_attempts": 1, "retry_schedule": ["50ms"]})
    with structlog.testing.capture_logs() as logs:
        client = await start(settings, worker=True)
        resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"))
        event_id = (await resp.json())["event_id"]
        await wait_for(lambda: _has_failed_event(tmp_path / "ponte.db"))
        detail = await (await client.get(f"/api/events/{event_id}",
                                         headers={"Authorization": "Bearer adm"})).text()
    assert any(e["event"] == "delivery_attempted" and e["error"] for e in logs)  # logs were seen
    stored = _stored_text(tmp_path / "ponte.db")
    assert "HTTP 400" in stored and "[redacted]" in stored  # the answer was kept, masked
    for secret in TOKEN_SECRETS:
        assert secret not in stored
        assert secret not in detail
        assert secret not in json.dumps(logs, default=str)


def _has_failed_event(db: Path) -> bool:
    with sqlite3.connect(db) as conn:
        sql = "SELECT 1 FROM events WHERE event = 'ponte.delivery_failed'"
        return bool(conn.execute(sql).fetchone())


async def test_echoed_header_values_are_redacted_from_a_success_answer(
        tmp_path, settings_for, start, aiohttp_server):
    """A 200 answer that echoes the headers is kept as the attempt's response, masked."""
    url = await _echoing(aiohttp_server, 200)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    sinks = {"crm": {"type": "webhook", "url": url, "headers": headers}}
    routes = [{"name": "tudo", "events": ["*"], "to": ["crm"]}]
    client = await start(settings_for(sinks=sinks, routes=routes), worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    db = tmp_path / "ponte.db"
    await wait_for(lambda: bool(_rows(db, "SELECT 1 FROM attempts")))
    responses = _rows(db, "SELECT response FROM attempts")
    assert "[redacted]" in responses[0][0] and TOKEN not in responses[0][0]


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


META_TOKEN = "EAAGredaction-meta-token-5f4e3d2c1b0a"


async def test_an_echoed_meta_access_token_is_redacted_everywhere(
        tmp_path, settings_for, start, aiohttp_server, fresh_loggers):
    """A Graph error quoting the request URL (token included): masked in storage, API and logs."""
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        error = {"message": f"(#100) bad request {request.path_qs} token={request.query.get('access_token')}",
                 "type": "OAuthException", "code": 100, "fbtrace_id": "Aecho"}  # fmt: skip
        return web.json_response({"error": error}, status=400)

    app = web.Application()
    app.router.add_post("/v21.0/{pixel}/events", handle)
    server = await aiohttp_server(app)
    sinks = {"meta": {"type": "meta_capi", "pixel_id": "123456789012345", "access_token": META_TOKEN,
                      "api_url": str(server.make_url("/v21.0"))}}  # fmt: skip
    routes = [{"name": "vendas", "events": ["myeduzz.invoice_paid"], "to": [
        {"sink": "meta", "template": {"event": {"event_name": "Purchase", "event_time": "{{ received_at }}",
                                                "user_data": {"external_id": "{{ data.buyer.id }}"}}}}]}]  # fmt: skip
    settings = settings_for(sinks=sinks, routes=routes, server={"admin_token": "adm"},
                            delivery={"max_attempts": 1, "retry_schedule": ["50ms"]})
    with structlog.testing.capture_logs() as logs:
        client = await start(settings, worker=True)
        resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"))
        event_id = (await resp.json())["event_id"]
        await wait_for(lambda: _has_failed_event(tmp_path / "ponte.db"))
        detail = await (await client.get(f"/api/events/{event_id}",
                                         headers={"Authorization": "Bearer adm"})).text()
        metrics = await (await client.get("/metrics")).text()
    stored = _stored_text(tmp_path / "ponte.db")
    assert "Graph API error 100" in stored and "[redacted]" in stored
    for text in (stored, detail, metrics, json.dumps(logs, default=str)):
        assert META_TOKEN not in text


ROUTE_TOKEN = "rota-7d1e9c0b5a4f3e2d"


async def test_route_template_header_values_are_redacted_everywhere(
        tmp_path, settings_for, start, aiohttp_server, fresh_loggers):
    """A route template's ``Authorization: Bearer ${X}`` echoed in a 500: masked on every surface."""
    url = await _echoing(aiohttp_server, 500)
    sinks = {"crm": {"type": "webhook", "url": url}}
    target = {"sink": "crm", "template": {"headers": {"Authorization": f"Bearer {ROUTE_TOKEN}"}}}
    routes = [{"name": "tudo", "events": ["myeduzz.*"], "to": [target]}]
    settings = settings_for(sinks=sinks, routes=routes, server={"admin_token": "adm"},
                            delivery={"max_attempts": 2, "retry_schedule": ["50ms"]})
    with structlog.testing.capture_logs() as logs:
        client = await start(settings, worker=True)
        resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"))
        event_id = (await resp.json())["event_id"]
        await wait_for(lambda: _has_failed_event(tmp_path / "ponte.db"))
        auth = {"Authorization": "Bearer adm"}
        surfaces = [await (await client.get(p, headers=auth)).text()
                    for p in (f"/api/events/{event_id}", "/api/deliveries?status=failed")]
    stored = _stored_text(tmp_path / "ponte.db")
    assert "HTTP 500" in stored and "[redacted]" in stored
    assert "HTTP 500" in surfaces[1]
    for text in (stored, *surfaces, json.dumps(logs, default=str)):
        assert ROUTE_TOKEN not in text


def test_route_tester_shows_no_template_header_value(tmp_path, settings_for):
    """``ponte routes test`` and the console's Regras → Testar hide rendered header values."""
    sinks = {"crm": {"type": "webhook", "url": "https://crm.example/hook"}}
    target = {"sink": "crm", "template": {"headers": {"Authorization": f"Bearer {ROUTE_TOKEN}"},
                                          "body": {"e": "{{ event }}"}}}
    settings = settings_for(sinks=sinks, routes=[{"name": "r", "events": ["*"], "to": [target]}])
    report = routing_report(settings, "x", fixture_body("myeduzz.invoice_paid"))
    shown = json.dumps(report)
    assert ROUTE_TOKEN not in shown and '"Authorization": "[redacted]"' in shown


def _echo_app(answer: Any) -> web.Application:
    """A provider answering 200 with ``answer(request)`` (what it echoes of the request)."""
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(answer(request))

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", handle)
    return app


def _telegram_echo(request: web.Request) -> dict[str, Any]:
    return {"ok": True, "result": {"message_id": request.path}}


def _discord_echo(request: web.Request) -> dict[str, Any]:
    return {"id": request.path}


def _whatsapp_echo(request: web.Request) -> dict[str, Any]:
    return {"messages": [{"id": request.headers.get("Authorization", "")}]}


@pytest.mark.parametrize("kind", ["telegram", "discord", "whatsapp"])
async def test_success_answers_echoing_the_credential_are_stored_redacted(
        tmp_path, settings_for, start, aiohttp_server, kind):
    """A 2xx answer that echoes the token keeps it out of ``attempts.response``."""
    echo = {"telegram": _telegram_echo, "discord": _discord_echo, "whatsapp": _whatsapp_echo}[kind]
    base = str((await aiohttp_server(_echo_app(echo))).make_url("")).rstrip("/")
    sink, secret = {
        "telegram": ({"token": TELEGRAM_TOKEN, "chat_id": 5, "api_url": base}, TELEGRAM_TOKEN),
        "discord": ({"webhook_url": f"{base}/api/webhooks/1/{DISCORD_TOKEN}"}, DISCORD_TOKEN),
        "whatsapp": ({"token": WHATSAPP_TOKEN, "phone_number_id": "123", "to": ["+5511987654321"],
                      "api_url": base}, WHATSAPP_TOKEN),
    }[kind]
    sinks = {"chat": {"type": kind, **sink}}
    routes = [{"name": "tudo", "events": ["*"], "to": ["chat"]}]
    client = await start(settings_for(sinks=sinks, routes=routes), worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    db = tmp_path / "ponte.db"
    await wait_for(lambda: bool(_rows(db, "SELECT 1 FROM attempts WHERE outcome = 'succeeded'")))
    response = _rows(db, "SELECT response FROM attempts")[0][0]
    assert "[redacted]" in response and secret not in response
    assert secret.rpartition(":")[2] not in response


def test_plain_headers_a_template_renders_are_not_secrets():
    """``Content-Type: application/json`` is not masked in answers; ``Authorization`` is."""
    found = message_secrets({"headers": {"Content-Type": "application/json",
                                         "Authorization": f"Bearer {ROUTE_TOKEN}"}})
    assert ROUTE_TOKEN in found and "application/json" not in found
