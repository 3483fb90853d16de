"""One signed Eduzz sale reaches a fake Slack, a real SMTP server and a webhook endpoint."""

from __future__ import annotations

import asyncio
import email
import json
import socket
from email import policy
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from conftest import fixture_body, post_signed
from test_delivery import Endpoint, db, serve, wait_for


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


async def slack_server(aiohttp_server: Any) -> tuple[list[dict[str, Any]], str]:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/services/T0/B0/secret", hook)
    server = await aiohttp_server(app)
    return received, str(server.make_url("/services/T0/B0/secret"))


async def test_a_sale_reaches_slack_email_and_webhook(tmp_path, settings_for, start, aiohttp_server, smtp):
    """The built-in Portuguese messages arrive with the sale's details; the webhook gets the raw body."""
    inbox, port = smtp
    slack, slack_url = await slack_server(aiohttp_server)
    crm = Endpoint()
    sinks = {
        "vendas": {"type": "slack", "webhook_url": slack_url},
        "financeiro": {"type": "email", "host": "127.0.0.1", "port": port, "security": "none",
                       "from": "Ponte <ponte@example.com>", "to": ["fin@example.com", "ceo@example.com"]},
        "crm": {"type": "webhook", "url": await serve(aiohttp_server, crm)},
    }
    routes = [{"name": "vendas", "events": ["myeduzz.invoice_paid"],
               "where": {"data.price.value": {"gte": 100}}, "to": ["vendas", "financeiro", "crm"]}]
    client = await start(settings_for(sinks=sinks, routes=routes), worker=True)
    body = fixture_body("myeduzz.invoice_paid")
    assert (await post_signed(client, body)).status == 200
    await wait_for(lambda: slack and inbox.messages and crm.received)

    text = json.dumps(slack[0], ensure_ascii=False)
    assert "Alice Johnson" in text and "R$ 301,50" in text and slack[0]["blocks"]
    rcpts, raw = inbox.messages[0]
    assert sorted(rcpts) == ["ceo@example.com", "fin@example.com"]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["From"] == "Ponte <ponte@example.com>"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    assert "R$ 301,50" in message.get_body(("plain",)).get_content()
    assert crm.received[0][1] == body
    await wait_for(lambda: db(tmp_path, "SELECT DISTINCT status FROM deliveries") == [("succeeded",)])


async def test_slack_mentions_in_payload_values_are_defused(tmp_path, settings_for, start, aiohttp_server):
    """A buyer named <!channel> cannot ping a Slack channel through Ponte's message."""
    slack, slack_url = await slack_server(aiohttp_server)
    sinks = {"vendas": {"type": "slack", "webhook_url": slack_url}}
    client = await start(settings_for(sinks=sinks, routes=[{"name": "v", "events": ["*"], "to": ["vendas"]}]),
                         worker=True)
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["data"]["buyer"]["name"] = "<!channel> <@U123> <https://evil.example|clique>"
    await post_signed(client, json.dumps(doc).encode())
    await wait_for(lambda: slack)
    text = json.dumps(slack[0])
    assert "<!channel>" not in text and "<@U123>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text


async def test_operational_event_reaches_the_team(tmp_path, settings_for, start, aiohttp_server):
    """A delivery that fails for good emits ponte.delivery_failed, routed like any event."""
    bad = Endpoint([400])
    sinks = {"crm": {"type": "webhook", "url": await serve(aiohttp_server, bad)},
             "ops": {"type": "file", "path": str(tmp_path / "ops.jsonl")}}
    routes = [{"name": "crm", "events": ["myeduzz.*"], "to": ["crm"]},
              {"name": "ops", "events": ["ponte.*"], "to": ["ops"]}]
    client = await start(settings_for(sinks=sinks, routes=routes), worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    path = tmp_path / "ops.jsonl"
    await wait_for(lambda: path.exists() and path.read_text().strip())
    line = json.loads(path.read_text().splitlines()[0])
    assert line["event"] == "ponte.delivery_failed"
    assert "crm" in json.dumps(line)
    await asyncio.sleep(0.1)


async def test_file_sink_format_slack_writes_the_slack_message(tmp_path, settings_for, start):
    """The default config's file sink writes exactly what Slack would receive."""
    path = tmp_path / "slack.jsonl"
    sinks = {"arquivo": {"type": "file", "path": str(path), "format": "slack"}}
    client = await start(settings_for(sinks=sinks), worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: path.exists() and path.read_text().strip())
    line = json.loads(path.read_text().splitlines()[0])
    assert "Alice Johnson" in line["message"]["text"] and line["message"]["blocks"]


async def test_operator_disabling_a_sink_emits_an_operational_event(tmp_path, settings_for, start):
    """POST /api/sinks/<name>/disable tells the routes with ponte.sink_disabled."""
    ops = tmp_path / "ops.jsonl"
    sinks = {"crm": {"type": "webhook", "url": "http://127.0.0.1:9/x"}, "ops": {"type": "file", "path": str(ops)}}
    routes = [{"name": "crm", "events": ["myeduzz.*"], "to": ["crm"]},
              {"name": "ops", "events": ["ponte.*"], "to": ["ops"]}]
    client = await start(settings_for(server={"admin_token": "t"}, sinks=sinks, routes=routes), worker=True)
    resp = await client.post("/api/sinks/crm/disable", headers={"Authorization": "Bearer t"})
    assert resp.status == 200
    await wait_for(lambda: ops.exists() and "ponte.sink_disabled" in ops.read_text())
