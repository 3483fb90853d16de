"""Every Hotmart and Kiwify fixture through the app and the worker to every channel.

Authenticated requests are accepted with no schema error, routed, rendered by the worker and
delivered: to fake Telegram, Discord and Teams servers (which refuse what the real APIs
refuse, limits included) and, for the other formats, to file sinks whose messages are
checked against each channel's limits.
"""

from __future__ import annotations

import json
from typing import Any

from chat_fakes import DiscordFake, TeamsFake, TelegramFake
from platformkit import HOTMART_EVENTS, KIWIFY_EVENTS, SOURCES, post_platform

from conftest import SECRET
from sink_contract import HOST, chat_fields
from test_delivery import db, wait_for
from test_platforms_messages import within_limits

EVENTS = HOTMART_EVENTS + KIWIFY_EVENTS
FILE_KINDS = ("slack", "email", "whatsapp", "google_sheets", "file")


async def test_every_fixture_reaches_every_channel_within_its_limits(
    tmp_path, settings_for, start, aiohttp_server
):
    """22 fixtures x 8 sinks: every delivery succeeds and every message is within its limits."""
    fakes: dict[str, Any] = {"telegram": TelegramFake(), "discord": DiscordFake(), "teams": TeamsFake()}
    sinks: dict[str, Any] = {}
    for kind, fake in fakes.items():
        server = await aiohttp_server(fake.app(), host=HOST)
        sinks[kind] = {"type": kind, "rate_per_second": 1000,
                       **chat_fields(kind, f"http://{HOST}:{server.port}")}  # fmt: skip
    for kind in FILE_KINDS:
        sinks[kind] = {"type": "file", "path": str(tmp_path / f"{kind}.jsonl"), "format": kind}
    sources = {"eduzz": {"type": "eduzz", "secrets": [SECRET]}, **SOURCES}
    routes = [{"name": "plataformas", "events": ["hotmart.*", "kiwify.*"], "to": list(sinks)}]
    client = await start(settings_for(sources=sources, sinks=sinks, routes=routes), worker=True)
    for event in EVENTS:
        resp = await post_platform(client, event)
        assert resp.status == 200 and (await resp.json())["status"] == "accepted", event

    total = len(EVENTS) * len(sinks)
    await wait_for(
        lambda: db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'")
        == [(total,)],
        timeout=60,
    )
    assert db(tmp_path, "SELECT COUNT(*) FROM events WHERE schema_error IS NOT NULL") == [(0,)]
    for kind, fake in fakes.items():
        assert len(fake.sent) == len(EVENTS), kind
    shown = json.dumps(fakes["telegram"].sent, ensure_ascii=False)
    assert "Venda aprovada na Hotmart" in shown and "Venda aprovada na Kiwify" in shown
    for kind in FILE_KINDS:
        lines = [json.loads(x) for x in (tmp_path / f"{kind}.jsonl").read_text().splitlines()]
        assert sorted(line["event"] for line in lines) == sorted(EVENTS), kind
        for line in lines:
            within_limits(kind, line["message"])


async def test_a_form_encoded_token_body_reaches_templates_as_data(tmp_path, settings_for, start):
    """A Monetizze-style form postback: a template reads its fields as ``data``, keys as sent;
    a flat JSON body too; the built-in generic message lists them, never the token."""
    cfg = {"type": "token", "token": "tok-1", "field": "chave_unica", "event": "tipo",
           "id": "venda[codigo]", "prefix": "monetizze."}  # fmt: skip
    template = {"text": "{{ data.tipo }}|{{ data['venda[codigo]'] }}|{{ data['comprador[nome]'] }}"
                        "|{{ data.chave_unica }}"}
    sinks = {
        "hook": {"type": "file", "path": str(tmp_path / "hook.jsonl"), "format": "slack"},
        "chat": {"type": "file", "path": str(tmp_path / "chat.jsonl"), "format": "slack"},
    }
    routes = [{"name": "monetizze", "events": ["monetizze.*"],
               "to": [{"sink": "hook", "template": template}, "chat"]}]  # fmt: skip
    sources = {"eduzz": {"type": "eduzz", "secrets": [SECRET]}, "monetizze": cfg}
    client = await start(settings_for(sources=sources, sinks=sinks, routes=routes), worker=True)
    form = b"chave_unica=tok-1&tipo=venda_finalizada&venda%5Bcodigo%5D=987&comprador%5Bnome%5D=Ana+Lima"
    flat = json.dumps({"chave_unica": "tok-1", "tipo": "venda_finalizada", "venda[codigo]": "988",
                       "comprador[nome]": "Bia"}).encode()  # fmt: skip
    for body, ctype in ((form, "application/x-www-form-urlencoded"), (flat, "application/json")):
        resp = await client.post("/webhooks/monetizze", data=body, headers={"content-type": ctype})
        assert (await resp.json())["status"] == "accepted"
    await wait_for(
        lambda: db(tmp_path, "SELECT COUNT(*) FROM deliveries WHERE status = 'succeeded'") == [(4,)]
    )
    hooks = [json.loads(x) for x in (tmp_path / "hook.jsonl").read_text().splitlines()]
    assert sorted(h["message"]["text"] for h in hooks) == [
        "venda_finalizada|987|Ana Lima|",
        "venda_finalizada|988|Bia|",
    ]
    chat = json.dumps(
        [json.loads(x)["message"] for x in (tmp_path / "chat.jsonl").read_text().splitlines()],
        ensure_ascii=False,
    )
    assert "Ana Lima" in chat and "venda_finalizada" in chat
    assert "tok-1" not in chat and "chave_unica" not in chat  # the token stays in the raw body only
