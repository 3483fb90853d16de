"""Teams specifics against the local Workflows fake: the card envelope, size, a regenerated URL."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec
from chat_fakes import RETRY_AFTER, TEAMS_LIMIT, TeamsFake, teams_errors

from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.sinks.base import Sink
from service.sinks.teams import CUT_NOTE, build_payload
from sink_contract import (
    HOST,
    TEAMS_SIG,
    http,  # noqa: F401 - a fixture
    make_sink,
    outgoing,
    send_expecting,
)


async def teams(
    aiohttp_server: Any, http: aiohttp.ClientSession, **extra: Any
) -> tuple[TeamsFake, Sink]:
    """A fake Workflows trigger and a teams sink pointing at it."""
    fake = TeamsFake()
    server = await aiohttp_server(fake.app(), host=HOST)
    return fake, make_sink("teams", server.port, http, **extra)


CARD = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "Venda"}]}


async def test_posts_the_card_as_a_message_attachment(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """The card travels in ``attachments[0].content`` as an Adaptive Card; 202 is success."""
    fake, sink = await teams(aiohttp_server, http)
    result = await sink.send(outgoing(message={"card": CARD}))
    assert (result.status_code, result.response) == (202, "accepted")
    attachment = fake.sent[0]["attachments"][0]
    assert fake.sent[0]["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["body"] == CARD["body"]


async def test_a_card_without_type_or_version_gets_them(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """A template may write just the body; type, schema and version are added."""
    fake, sink = await teams(aiohttp_server, http)
    await sink.send(outgoing(message={"card": {"body": [{"type": "TextBlock", "text": "x"}]}}))
    assert fake.sent[0]["attachments"][0]["content"]["version"] == "1.4"


async def test_an_oversized_card_is_cut_to_fit(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """200 text blocks of 1,000 characters are cut under Teams' size limit, with a note."""
    fake, sink = await teams(aiohttp_server, http)
    body = [{"type": "TextBlock", "text": "x" * 1000, "wrap": True} for _ in range(200)]
    await sink.send(outgoing(message={"card": {"body": body}}))
    content = fake.sent[0]["attachments"][0]["content"]
    assert content["body"][-1] == CUT_NOTE and len(content["body"]) < 200
    assert len(msgspec.json.encode(fake.sent[0])) <= TEAMS_LIMIT


def test_no_card_gets_a_description() -> None:
    """Without a rendered card the message still names the event."""
    payload = build_payload(outgoing())
    assert teams_errors(payload) == []
    assert "invoice" in payload["attachments"][0]["content"]["body"][0]["text"]


def test_a_card_that_is_not_an_object_fails_permanently() -> None:
    """A card rendered to a list or bad JSON text cannot be sent."""
    for card in ([1], "{not json"):
        try:
            build_payload(outgoing(message={"card": card}))
        except PermanentSinkError as exc:
            assert "card" in str(exc)
        else:
            raise AssertionError(card)


async def test_a_regenerated_url_disables_the_sink_without_showing_sig(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """401 (its body echoes the signature) disables the sink; ``sig`` is masked."""
    fake, sink = await teams(aiohttp_server, http)
    fake.mode = "revoked"
    error = await send_expecting(sink, SinkGoneError)
    assert error.status_code == 401 and "DirectApiInvalidAuthorizationSignature" in str(error)
    assert TEAMS_SIG not in str(error)


async def test_a_deleted_flow_disables_the_sink(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """404 WorkflowNotFound disables the sink."""
    fake = TeamsFake()
    server = await aiohttp_server(fake.app(), host=HOST)
    url = f"http://{HOST}:{server.port}/workflows/gone/triggers/manual/paths/invoke?sig={TEAMS_SIG}"
    error = await send_expecting(
        make_sink("teams", server.port, http, webhook_url=url), SinkGoneError
    )
    assert error.status_code == 404


async def test_throttling_honours_retry_after(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """429 waits the Retry-After seconds."""
    fake, sink = await teams(aiohttp_server, http)
    fake.mode = "rate_limited"
    error = await send_expecting(sink, TransientSinkError)
    assert error.retry_after == RETRY_AFTER  # type: ignore[attr-defined]


async def test_bad_gateway_is_transient(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """A 502 is retried."""
    fake, sink = await teams(aiohttp_server, http)
    fake.mode = "down"
    await send_expecting(sink, TransientSinkError)


async def test_an_invalid_card_is_permanent_with_the_reason(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """A card the flow cannot post (an unknown element) fails for good, saying why."""
    _fake, sink = await teams(aiohttp_server, http)
    card = {"body": [{"type": "Marquee", "text": "x"}]}
    error = await send_expecting(sink, PermanentSinkError, outgoing(message={"card": card}))
    assert "InvalidRequestContent" in str(error) and "Marquee" in str(error)


def test_one_huge_text_block_is_shortened_not_dropped() -> None:
    """A card that is one 100,000-character text keeps its start, cut with "…"."""
    card = {"body": [{"type": "TextBlock", "text": "ação " * 20_000}]}
    payload = build_payload(outgoing(message={"card": card}))
    body = payload["attachments"][0]["content"]["body"]
    assert len(msgspec.json.encode(payload)) <= TEAMS_LIMIT and teams_errors(payload) == []
    assert body[0]["text"].startswith("ação ação") and body[0]["text"].endswith("…")
    assert body[-1] == CUT_NOTE
