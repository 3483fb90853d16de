"""A signed sale through the app reaches fake Telegram, Discord and Teams; secrets stay hidden."""

from __future__ import annotations

import asyncio
import html
import json
import re
import sys
from typing import Any

import aiohttp
import structlog
import yaml
from chat_fakes import DiscordFake, TeamsFake, TelegramFake

from conftest import base_config, fixture_body, post_signed, sign
from sink_contract import CHAT_SECRETS, HOST, chat_fields, free_port
from test_delivery import db, wait_for

ADMIN = "admin-token-for-the-chat-tests"


async def chat_sinks(
    aiohttp_server: Any,
) -> tuple[dict[str, Any], TelegramFake, DiscordFake, TeamsFake]:
    """Three fakes on 127.0.0.1 and the sinks config pointing at them."""
    fakes = TelegramFake(), DiscordFake(), TeamsFake()
    sinks = {}
    for name, fake in zip(("telegram", "discord", "teams"), fakes, strict=True):
        server = await aiohttp_server(fake.app(), host=HOST)
        sinks[f"avisos-{name}"] = {
            "type": name,
            **chat_fields(name, f"http://{HOST}:{server.port}"),
        }
    return sinks, *fakes


def config(sinks: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    """Sections for ``settings_for``: the chat sinks on sales, operational events to a file."""
    ops = {"type": "file", "path": str(tmp_path / "ops.jsonl")}
    routes = [{"name": "vendas", "events": ["myeduzz.invoice_*"], "to": list(sinks)},
              {"name": "ops", "events": ["ponte.*"], "to": ["ops"]}]  # fmt: skip
    return {"sinks": {**sinks, "ops": ops}, "routes": routes, "server": {"admin_token": ADMIN}}


async def test_a_sale_reaches_telegram_discord_and_teams(
    tmp_path, settings_for, start, aiohttp_server
):
    """The built-in pt-BR messages arrive in each channel's format, and every delivery succeeds."""
    sinks, tg, dc, tm = await chat_sinks(aiohttp_server)
    client = await start(settings_for(**config(sinks, tmp_path)), worker=True)
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["data"]["buyer"]["name"] = "@everyone <b>Alice</b> **Johnson**"
    assert (await post_signed(client, json.dumps(doc).encode())).status == 200
    await wait_for(lambda: tg.sent and dc.sent and tm.sent)

    shown = html.unescape(re.sub(r"<[^>]*>", "", tg.sent[0]["text"]))
    assert "Venda aprovada" in shown and "R$ 301,50" in shown and "@everyone <b>Alice</b>" in shown
    embed = dc.sent[0]["embeds"][0]
    assert embed["title"] == "💰 Venda aprovada" and dc.sent[0]["allowed_mentions"] == {"parse": []}
    assert any(
        f["value"] == "\\@everyone \\<b\\>Alice\\</b\\> \\*\\*Johnson\\*\\*"
        for f in embed["fields"]
    )
    card = tm.sent[0]["attachments"][0]["content"]
    assert card["body"][0]["text"] == "💰 Venda aprovada"
    await wait_for(
        lambda: db(tmp_path, "SELECT DISTINCT status FROM deliveries") == [("succeeded",)]
    )


async def test_revoked_credentials_disable_each_sink_and_no_secret_leaks(
    tmp_path, settings_for, start, aiohttp_server
):
    """401 everywhere: deliveries fail, sinks are disabled (ponte.sink_disabled), nothing leaks."""
    sinks, tg, dc, tm = await chat_sinks(aiohttp_server)
    for fake in (tg, dc, tm):
        fake.mode = "revoked"
    with structlog.testing.capture_logs() as logs:
        client = await start(settings_for(**config(sinks, tmp_path)), worker=True)
        await post_signed(client, fixture_body("myeduzz.invoice_paid"))
        ops = tmp_path / "ops.jsonl"
        await wait_for(lambda: ops.exists() and ops.read_text().count("ponte.sink_disabled") >= 3)
        # the notice can come before the attempt's row commits (PostgreSQL's group commit)
        await wait_for(lambda: len(db(tmp_path, "SELECT 1 FROM attempts")) >= 3)
        auth = {"Authorization": f"Bearer {ADMIN}"}
        paths = ("/api/sinks", "/api/events/1", "/api/deliveries", "/metrics")
        answers = [await (await client.get(path, headers=auth)).text() for path in paths]
    states = {s["name"]: s for s in json.loads(answers[0])["items"]}
    for name in sinks:
        assert states[name]["enabled"] is False and "401" in states[name]["disabled_reason"]
    texts = [
        *answers,
        ops.read_text(),
        repr(logs),
        "\n".join(map(str, db(tmp_path, "SELECT * FROM attempts"))),
    ]
    for secret in CHAT_SECRETS:
        for text in texts:
            assert secret not in text
    assert "Unauthorized" in answers[1] and "Invalid Webhook Token" in answers[1]


async def test_ponte_serve_delivers_to_all_three_channels(tmp_path, aiohttp_server):
    """`ponte serve` as a process: a signed sale reaches the three fakes; no secret in its log."""
    sinks, tg, dc, tm = await chat_sinks(aiohttp_server)
    port = free_port()
    raw = base_config(tmp_path, **config(sinks, tmp_path))
    raw["server"]["port"] = port
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "service", "serve", "--config", str(path),
            stdout=out, stderr=out, cwd=tmp_path,
        )  # fmt: skip
        try:
            async with aiohttp.ClientSession() as session:
                base = f"http://{HOST}:{port}"
                await wait_for(lambda: _ready(session, f"{base}/readyz"), timeout=60)
                body = fixture_body("myeduzz.invoice_paid")
                headers = {"x-signature": sign(body), "content-type": "application/json"}
                async with session.post(f"{base}/webhooks/eduzz", data=body, headers=headers) as r:
                    assert r.status == 200
                await wait_for(lambda: tg.sent and dc.sent and tm.sent, timeout=30)
        finally:
            proc.terminate()
            await proc.wait()
    assert "Venda aprovada" in tg.sent[0]["text"]
    text = log.read_text(encoding="utf-8")
    assert "delivery_attempted" in text
    assert all(secret not in text for secret in CHAT_SECRETS)


async def _ready(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url) as resp:
            return resp.status == 200
    except aiohttp.ClientError:
        return False


async def test_rate_limits_wait_for_the_providers_hint_then_deliver(
    tmp_path, settings_for, start, aiohttp_server
):
    """429 with a hint reschedules each delivery at least that far ahead; a retry delivers it."""
    sinks, tg, dc, tm = await chat_sinks(aiohttp_server)
    for fake in (tg, dc, tm):
        fake.mode = "rate_limited"
    sections = {**config(sinks, tmp_path), "delivery": {"retry_schedule": ["1s"]}}
    client = await start(settings_for(**sections), worker=True)
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    query = (
        "SELECT d.id, d.sink, d.next_attempt_at - a.started_at, a.status_code FROM deliveries d "
        "JOIN attempts a ON a.delivery_id = d.id WHERE d.sink LIKE 'avisos-%'"
    )
    await wait_for(lambda: len(db(tmp_path, query)) == 3)
    for _, sink, wait, status in db(tmp_path, query):
        assert status == 429 and wait >= 7, (sink, wait)  # the schedule alone says ~1s
    for fake in (tg, dc, tm):
        fake.mode = "ok"
    auth = {"Authorization": f"Bearer {ADMIN}"}
    for delivery_id, *_ in db(tmp_path, query):
        assert (
            await client.post(f"/api/deliveries/{delivery_id}/retry", headers=auth)
        ).status == 200
    # the Telegram lane spaces a group's messages 3 s apart (20/min): the retry waits its turn
    await wait_for(lambda: tg.sent and dc.sent and tm.sent, timeout=20)
