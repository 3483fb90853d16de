"""Discord against the local webhook fake: limits, mentions, 429 hints, a deleted webhook."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from chat_fakes import RETRY_AFTER, DiscordFake, discord_errors

from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.sinks.base import Sink
from service.sinks.discord import build_payload, embed_chars
from sink_contract import (
    DISCORD_TOKEN,
    HOST,
    http,  # noqa: F401 - a fixture
    make_sink,
    outgoing,
    send_expecting,
)


async def discord(
    aiohttp_server: Any, http: aiohttp.ClientSession, **extra: Any
) -> tuple[DiscordFake, Sink]:
    """A fake Discord and a discord sink pointing at its webhook."""
    fake = DiscordFake()
    server = await aiohttp_server(fake.app(), host=HOST)
    return fake, make_sink("discord", server.port, http, **extra)


async def test_posts_content_and_embeds_without_mentions(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """Content and embeds arrive with ``allowed_mentions: {parse: []}``; ``wait=true``: an id."""
    fake, sink = await discord(aiohttp_server, http)
    embed = {"title": "Venda", "color": 0x2ECC71, "fields": [{"name": "Valor", "value": "R$ 1,00"}]}
    result = await sink.send(outgoing(message={"content": "Nova venda", "embeds": [embed]}))
    assert result.response == "ok message_id=1001"
    assert fake.queries == ["wait=true"]
    assert fake.sent[0]["allowed_mentions"] == {"parse": []}
    assert fake.sent[0]["embeds"][0]["fields"] == [
        {"name": "Valor", "value": "R$ 1,00", "inline": True}
    ]


async def test_embeds_given_as_json_text_are_decoded(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """A template may render ``embeds`` as JSON text."""
    fake, sink = await discord(aiohttp_server, http)
    await sink.send(outgoing(message={"embeds": '[{"title": "x"}]'}))
    assert fake.sent[0]["embeds"] == [{"title": "x"}]


async def test_oversized_message_is_fitted_to_every_limit(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """Content, titles, fields and the 6,000 total are cut so Discord accepts the message."""
    fake, sink = await discord(aiohttp_server, http)
    fields = [{"name": "n" * 300, "value": "v" * 2000} for _ in range(30)]
    embeds = [
        {
            "title": "t" * 400,
            "description": "d" * 5000,
            "fields": fields,
            "footer": {"text": "f" * 3000},
        }
    ] * 3
    await sink.send(outgoing(message={"content": "c" * 5000, "embeds": embeds}))
    sent = fake.sent[0]
    assert len(sent["content"]) == 2000 and sent["content"].endswith("…")
    assert embed_chars(sent["embeds"]) <= 6000 and discord_errors(sent) == {}


def test_an_embed_without_fields_over_6000_has_its_text_cut() -> None:
    """Ten embeds of long descriptions: embeds dropped, then the description cut."""
    embeds = [
        {"title": "x", "description": "d" * 4096, "footer": {"text": "f" * 2048}} for _ in range(10)
    ]
    payload = build_payload(outgoing(message={"embeds": embeds}))
    assert embed_chars(payload["embeds"]) <= 6000 and discord_errors(payload) == {}


async def test_an_empty_message_gets_a_description(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """Discord refuses empty messages: Ponte names the event instead."""
    fake, sink = await discord(aiohttp_server, http)
    await sink.send(outgoing(message={"content": "", "embeds": []}))
    assert "myeduzz" in fake.sent[0]["content"]


async def test_rate_limit_honours_the_json_retry_after(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """429's ``retry_after`` (seconds, JSON) wins over the Retry-After header."""
    fake, sink = await discord(aiohttp_server, http)
    fake.mode = "rate_limited"
    error = await send_expecting(sink, TransientSinkError)
    assert error.retry_after == RETRY_AFTER + 0.5  # type: ignore[attr-defined]


@pytest.mark.parametrize(("change", "status"), [({"revoke": True}, 401), ({"other_id": True}, 404)])
async def test_a_deleted_or_reset_webhook_disables_the_sink(
    aiohttp_server: Any, http: aiohttp.ClientSession, change: dict[str, bool], status: int
) -> None:
    """Invalid token (401) and unknown webhook (404) disable the sink; the token never shows."""
    fake = DiscordFake(mode="revoked" if "revoke" in change else "ok")
    server = await aiohttp_server(fake.app(), host=HOST)
    url = f"http://{HOST}:{server.port}/api/webhooks/" + (
        "999" if "other_id" in change else "112233445566778899"
    )
    sink = make_sink("discord", server.port, http, webhook_url=f"{url}/{DISCORD_TOKEN}")
    error = await send_expecting(sink, SinkGoneError)
    assert error.status_code == status and "Discord" in error.reason  # type: ignore[attr-defined]


async def test_invalid_form_body_names_the_field(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """Discord's 50035 error says which field was wrong; permanent."""
    _fake, sink = await discord(aiohttp_server, http)
    error = await send_expecting(
        sink, PermanentSinkError, outgoing(message={"embeds": [{"title": "x", "color": -1}]})
    )
    assert "Invalid Form Body" in str(error) and "embeds.0.color" in str(error)


async def test_server_error_is_transient(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """A 500 is retried."""
    fake, sink = await discord(aiohttp_server, http)
    fake.mode = "down"
    await send_expecting(sink, TransientSinkError)


def test_embeds_that_are_not_objects_fail_permanently() -> None:
    """A template rendering embeds to a number cannot be sent."""
    with pytest.raises(PermanentSinkError, match="embeds must be a list"):
        build_payload(outgoing(message={"embeds": [1, 2]}))


def test_fields_that_are_not_a_list_fail_permanently() -> None:
    """``fields`` rendered to text cannot be fitted: a clear error, not a crash."""
    with pytest.raises(PermanentSinkError, match=r"embeds\[0\]\.fields must be a list"):
        build_payload(outgoing(message={"embeds": [{"title": "x", "fields": "a, b"}]}))


def test_a_footer_that_is_text_does_not_break_the_count() -> None:
    """Odd shapes are counted as nothing rather than crashing the sink."""
    assert embed_chars([{"title": "ab", "footer": "text", "author": None}]) == 2
