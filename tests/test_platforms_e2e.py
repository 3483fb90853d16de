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
