"""A launch burst as one digest through the real Slack and e-mail sinks (local Slack, aiosmtpd)."""

from __future__ import annotations

import email
import json
from email import policy

from digestkit import FakeClock, paid_body, start_app, tick

from conftest import post_signed
from service.config.load import parse_config
from service.config.settings import build_settings
from test_delivery import wait_for
from test_end_to_end import slack_server, smtp  # noqa: F401 - fixture


async def test_a_burst_reaches_slack_and_email_as_one_digest(
    tmp_path,
    aiohttp_client,
    aiohttp_server,
    smtp,  # noqa: F811 - the fixture imported above
):
    """120 sales in a minute: one Slack message within Block Kit limits, one e-mail with a table."""
    inbox, port = smtp
    slack, slack_url = await slack_server(aiohttp_server)
    digest = {"wait": "30s", "interval": "2m", "max_items": 100}
    raw = {
        "storage": {"url": f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": ["test-secret"]}},
        "sinks": {
            "vendas": {"type": "slack", "webhook_url": slack_url},
            "financeiro": {
                "type": "email",
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "from": "Ponte <ponte@example.com>",
                "to": ["fin@example.com"],
            },
        },
        "routes": [
            {
                "name": "vendas",
                "events": ["myeduzz.invoice_paid"],
                "to": [
                    {"sink": "vendas", "digest": digest},
                    {"sink": "financeiro", "digest": digest},
                ],
            }
        ],
    }
    clock = FakeClock()
    client = await start_app(aiohttp_client, build_settings(parse_config(raw, env={})), clock)
    for i in range(120):
        assert (await post_signed(client, paid_body(i, 1234.56))).status == 200
    await tick(client)
    clock.advance(31)
    await tick(client)
    await wait_for(lambda: slack and inbox.messages)
    message = slack[0]
    assert len(slack) == 1 and len(message["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message["blocks"])
    text = json.dumps(message, ensure_ascii=False)
    assert "📦 120 ×" in text and "R$ 148.147,20" in text and "e mais" in text
    assert "c1@example.com" not in text  # buyers' e-mails never reach the channel
    mail = email.message_from_bytes(inbox.messages[0][1], policy=policy.default)
    html = mail.get_body(("html",)).get_content()
    assert "📦 120 ×" in mail["Subject"] and html.count("<tr>") >= 100
    assert "R$ 148.147,20" in mail.get_body(("plain",)).get_content()
