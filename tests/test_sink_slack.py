"""Slack specifics: payloads, the bot API's ``ok: false`` errors, Retry-After, 410, redirects."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.sinks.base import Sink
from sink_contract import (
    BOT_TOKEN,
    HOST,
    HttpReceiver,
    http,  # noqa: F401 - a fixture
    make_sink,
    outgoing,
    send_expecting,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve(aiohttp_server: Any, http: aiohttp.ClientSession) -> Callable[..., Any]:
    """``await serve(kind, handler)``: a Slack sink of ``kind`` talking to ``handler``."""

    async def start(kind: str, handler: Handler) -> Sink:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = await aiohttp_server(app, host=HOST)
        return make_sink(kind, server.port, http)

    return start


def answer(status: int = 200, text: str = "ok", **headers: str) -> Handler:
    """A handler that always gives the same answer."""

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=status, text=text, headers=headers)

    return handle


def api_answer(body: dict[str, Any], **headers: str) -> Handler:
    """A Web API handler answering HTTP 200 with ``body`` as JSON."""
    return answer(200, json.dumps(body), **headers)


async def test_webhook_posts_text_and_blocks(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """The rendered text and blocks are posted as JSON to the webhook URL."""
    receiver = HttpReceiver()
    server = await aiohttp_server(receiver.app(), host=HOST)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Paid*"}}]
    sink = make_sink("slack_webhook", server.port, http)
    result = await sink.send(outgoing(message={"text": "Paid &lt;x&gt;", "blocks": blocks}))
    assert (result.status_code, result.response) == (200, "ok")
    [request] = receiver.requests
    assert request.path.startswith("/services/")
    assert request.headers["Content-Type"].startswith("application/json")
    assert json.loads(request.body) == {"text": "Paid &lt;x&gt;", "blocks": blocks}


async def test_without_a_message_the_event_is_described_escaped(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """No template: a plain text naming the event and source, with &, <, > escaped."""
    receiver = HttpReceiver()
    server = await aiohttp_server(receiver.app(), host=HOST)
    sink = make_sink("slack_webhook", server.port, http)
    await sink.send(outgoing(event="a<b>&c", source="eduzz"))
    sent = json.loads(receiver.requests[0].body)
    assert sent == {"text": "Ponte: evento a&lt;b&gt;&amp;c recebido de eduzz"}


async def test_bot_posts_to_chat_post_message_with_the_token(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """Bot mode: POST {api_url}/chat.postMessage, Bearer token, channel in the JSON."""
    receiver = HttpReceiver(ok_body='{"ok": true, "ts": "171.0001"}')
    server = await aiohttp_server(receiver.app(), host=HOST)
    result = await make_sink("slack_bot", server.port, http).send(outgoing(message={"text": "hi"}))
    assert result.response == "ok ts=171.0001"
    [request] = receiver.requests
    assert request.path == "/api/chat.postMessage"
    assert request.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert json.loads(request.body) == {"channel": "C0123", "text": "hi"}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("ratelimited", TransientSinkError),
        ("internal_error", TransientSinkError),
        ("service_unavailable", TransientSinkError),
        ("request_timeout", TransientSinkError),
        ("fatal_error", TransientSinkError),
        ("channel_not_found", PermanentSinkError),
        ("not_in_channel", PermanentSinkError),
        ("invalid_auth", PermanentSinkError),
        ("token_revoked", PermanentSinkError),
        ("invalid_blocks", PermanentSinkError),
        ("msg_too_long", PermanentSinkError),
        ("some_new_error", PermanentSinkError),
    ],
)
async def test_bot_ok_false_errors_are_classified(
    serve: Any, error: str, expected: type[Exception]
) -> None:
    """HTTP 200 with ``ok: false``: a few errors are retried, the rest (even unknown) are not."""
    sink = await serve("slack_bot", api_answer({"ok": False, "error": error}))
    raised = await send_expecting(sink, expected)  # type: ignore[arg-type]
    assert error in str(raised)


async def test_bot_ratelimited_keeps_retry_after(serve: Any) -> None:
    """A ``ratelimited`` answer passes on the Retry-After header."""
    handler = api_answer({"ok": False, "error": "ratelimited"}, **{"Retry-After": "30"})
    sink = await serve("slack_bot", handler)
    error = await send_expecting(sink, TransientSinkError)
    assert error.retry_after == 30  # type: ignore[attr-defined]


async def test_bot_answer_that_is_not_slack_json_is_permanent(serve: Any) -> None:
    """An HTTP 200 that is not the Web API's JSON means a wrong api_url: retrying will not help."""
    sink = await serve("slack_bot", answer(200, "<html>hello</html>"))
    await send_expecting(sink, PermanentSinkError)


@pytest.mark.parametrize("kind", ["slack_webhook", "slack_bot"])
async def test_429_retry_after_seconds(serve: Any, kind: str) -> None:
    """429 with ``Retry-After: 7`` is transient with retry_after == 7."""
    sink = await serve(kind, answer(429, "rate limited", **{"Retry-After": "7"}))
    error = await send_expecting(sink, TransientSinkError)
    assert (error.status_code, error.retry_after) == (429, 7)  # type: ignore[attr-defined]


async def test_429_retry_after_http_date(serve: Any) -> None:
    """An HTTP-date Retry-After becomes the seconds until then."""
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    sink = await serve("slack_webhook", answer(429, "", **{"Retry-After": when}))
    error = await send_expecting(sink, TransientSinkError)
    assert 115 <= error.retry_after <= 120  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "text"), [(410, "channel_is_archived"), (404, "no_service"), (410, "no_service")]
)
async def test_gone_webhook_disables_the_sink(serve: Any, status: int, text: str) -> None:
    """410, or Slack's ``no_service``, means the webhook is gone for good."""
    sink = await serve("slack_webhook", answer(status, text))
    error = await send_expecting(sink, SinkGoneError)
    assert error.status_code == status


@pytest.mark.parametrize("text", ["invalid_payload", "no_text", "channel_is_archived"])
async def test_webhook_4xx_bodies_are_permanent(serve: Any, text: str) -> None:
    """Slack's 4xx answers fail for good and say why."""
    sink = await serve("slack_webhook", answer(400, text))
    error = await send_expecting(sink, PermanentSinkError)
    assert str(error).endswith(f"HTTP 400 ({text})")


async def test_redirect_is_not_followed(serve: Any) -> None:
    """A 302 is a permanent failure; the Location is not visited and not quoted."""
    visited: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        visited.append(request.path)
        if request.path == "/elsewhere":
            return web.Response(text="ok")
        raise web.HTTPFound("/elsewhere")

    sink = await serve("slack_webhook", handle)
    error = await send_expecting(sink, PermanentSinkError)
    assert "302" in str(error) and "redirect" in str(error) and "elsewhere" not in str(error)
    assert visited == [visited[0]] and visited[0] != "/elsewhere"
