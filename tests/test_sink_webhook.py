"""Webhook specifics: Standard Webhooks signature, bodies, headers, redirects."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook

import service
from service.errors import ConfigError, PermanentSinkError
from service.sinks.base import Sink
from service.sinks.webhook import signature
from sink_contract import (
    HOST,
    SIGNING_SECRET,
    HttpReceiver,
    http,  # noqa: F401 - a fixture
    make_sink,
    outgoing,
    send_expecting,
)

RAW = b'{ "id" : "x",\n  "data": {"price": 10.50, "name": "Jos\xc3\xa9"} }'


@pytest.fixture
async def receiver(aiohttp_server: Any) -> HttpReceiver:
    """A customer endpoint that records requests and answers 200."""
    receiver = HttpReceiver(ok_body="thanks")
    server = await aiohttp_server(receiver.app(), host=HOST)
    receiver.port = server.port
    return receiver


def sink_for(receiver: HttpReceiver, client: aiohttp.ClientSession, **extra: Any) -> Sink:
    """A signing webhook sink pointed at ``receiver``."""
    return make_sink("webhook", receiver.port, client, **extra)


async def test_signature_verifies_with_standardwebhooks(
    receiver: HttpReceiver, http: aiohttp.ClientSession
) -> None:
    """The receiving side verifies the request with the public standardwebhooks library."""
    result = await sink_for(receiver, http).send(outgoing(body=RAW))
    assert (result.status_code, result.response) == (200, "thanks")
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert Webhook(SIGNING_SECRET).verify(request.body, headers) == json.loads(RAW)
    assert headers["webhook-id"] == "msg_42_7"


async def test_webhook_id_is_stable_across_attempts(
    receiver: HttpReceiver, http: aiohttp.ClientSession
) -> None:
    """Retries carry the same webhook-id so the receiver can drop duplicates."""
    sink = sink_for(receiver, http)
    await sink.send(outgoing(attempt=1))
    await sink.send(outgoing(attempt=2))
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert (first.headers["x-ponte-attempt"], second.headers["x-ponte-attempt"]) == ("1", "2")


def test_signature_matches_the_spec_example() -> None:
    """The Standard Webhooks spec's own test vector."""
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


async def test_raw_body_is_forwarded_byte_for_byte(
    receiver: HttpReceiver, http: aiohttp.ClientSession
) -> None:
    """Without a rendered body the original bytes go out unchanged, with Ponte's headers."""
    await sink_for(receiver, http).send(outgoing(body=RAW, attempt=3))
    [request] = receiver.requests
    assert request.body == RAW
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == f"Ponte/{service.__version__}"
    assert request.headers["x-ponte-event"] == "myeduzz.invoice_paid"
    assert (request.headers["x-ponte-delivery"], request.headers["x-ponte-attempt"]) == ("7", "3")


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        ({"id": 1, "nome": "José"}, b'{"id":1,"nome":"Jos\xc3\xa9"}'),
        ([1, 2], b"[1,2]"),
        ("plain text <ok>", b"plain text <ok>"),
    ],
)
async def test_rendered_body_is_sent(
    receiver: HttpReceiver, http: aiohttp.ClientSession, body: Any, sent: bytes
) -> None:
    """A rendered mapping or list is JSON-encoded; a string goes as is; both are signed."""
    await sink_for(receiver, http).send(outgoing(message={"body": body}))
    [request] = receiver.requests
    assert request.body == sent
    if not isinstance(body, str):  # standardwebhooks' verify also JSON-decodes the body
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert Webhook(SIGNING_SECRET).verify(request.body, headers) == body


async def test_headers_merge_config_then_message_then_ponte(
    receiver: HttpReceiver, http: aiohttp.ClientSession
) -> None:
    """Message headers override config headers; Ponte's own headers cannot be overridden."""
    sink = sink_for(receiver, http, headers={"X-Api-Key": "k1", "X-Team": "vendas"})
    rendered = {"x-api-key": "k2", "Content-Type": "text/plain", "X-Ponte-Delivery": "1"}
    message = {"headers": rendered}
    await sink.send(outgoing(message=message))
    [request] = receiver.requests
    assert (request.headers["X-Api-Key"], request.headers["X-Team"]) == ("k2", "vendas")
    assert request.headers["Content-Type"] == "text/plain"
    assert request.headers["x-ponte-delivery"] == "7"


@pytest.mark.parametrize(
    "headers",
    [{"X-Evil": "a\r\nX-Injected: 1"}, {"X-Evil": "a\nb"}, {"Bad Name": "v"}, {"X-Nul": "a\x00"}],
)
async def test_header_with_a_line_break_is_refused(
    receiver: HttpReceiver, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """A rendered header that could smuggle another header fails for good, before sending."""
    out = outgoing(message={"headers": headers})
    error = await send_expecting(sink_for(receiver, http), PermanentSinkError, out)
    assert receiver.requests == []
    assert "a\r" not in str(error)


async def test_redirect_is_followed_only_when_configured(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """302 fails for good by default; with follow_redirects the new location receives the POST."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.path)
        if request.path == "/new":
            return web.Response(text="moved ok")
        raise web.HTTPTemporaryRedirect("/new")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    server = await aiohttp_server(app, host=HOST)
    await send_expecting(make_sink("webhook", server.port, http), PermanentSinkError)
    assert seen == ["/hooks/eduzz"]
    result = await make_sink("webhook", server.port, http, follow_redirects=True).send(outgoing())
    assert (result.status_code, result.response, seen[-1]) == (200, "moved ok", "/new")


def test_malformed_signing_secret_is_a_config_error() -> None:
    """A secret that is not base64 after ``whsec_`` is refused at load time without being quoted."""
    from service.config.load import parse_config

    raw = {"sinks": {"crm": {"type": "webhook", "url": "http://127.0.0.1/",
                             "signing_secret": "whsec_not*base64!secret"}}}
    with pytest.raises(ConfigError) as info:
        parse_config(raw, env={})
    assert info.value.errors == ['sinks.crm.signing_secret: must be in the "whsec_<base64>" form']
