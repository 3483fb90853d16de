"""The shared sink contract, ``build_sink`` and the HTTP helpers every HTTP sink uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web

from service.config.schema import EmailConfig, FileConfig, SlackConfig, WebhookConfig, sink_kind
from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.sinks.base import Sink
from service.sinks.email import EmailSender
from service.sinks.file import FileSender
from service.sinks.http import (
    Reply,
    check_status,
    json_object,
    parse_retry_after,
    redact,
    url_secrets,
)
from service.sinks.registry import build_sink
from service.sinks.slack import SlackSender
from service.sinks.webhook import WebhookSender
from sink_contract import (  # noqa: F401 - fixtures
    HOST,
    KINDS,
    OK_BODIES,
    HttpReceiver,
    SmtpRecorder,
    assert_secret_free,
    free_port,
    http,
    make_sink,
    outgoing,
    outgoing_for,
    send_expecting,
    smtp,
    smtp_server,
)


@dataclass
class Target:
    """A sink wired to its live receiver."""

    kind: str
    sink: Sink
    receiver: HttpReceiver | SmtpRecorder


@pytest.fixture(params=KINDS)
async def target(
    request: pytest.FixtureRequest,
    aiohttp_server: Any,
    http: aiohttp.ClientSession,
    smtp_server: Any,
    smtp: SmtpRecorder,
) -> AsyncIterator[Target]:
    """Each networked sink kind against an in-process receiver."""
    kind = request.param
    if kind == "email":
        yield Target(kind, make_sink(kind, smtp_server[1].port, http), smtp)
        return
    receiver = HttpReceiver(ok_body=OK_BODIES.get(kind, "ok"))
    server = await aiohttp_server(receiver.app(), host=HOST)
    yield Target(kind, make_sink(kind, server.port, http), receiver)
    receiver.release.set()


async def test_success_returns_a_send_result(target: Target) -> None:
    """An accepting receiver gives a SendResult with its status, and nothing secret is logged."""
    with structlog.testing.capture_logs() as logs:
        result = await target.sink.send(outgoing_for(target.kind))
    assert result.status_code == (250 if target.kind == "email" else 200)
    assert result.response
    assert_secret_free(Exception(result.response), logs)


async def test_receiver_failure_is_transient(target: Target) -> None:
    """HTTP 503 / SMTP 451 is worth a retry."""
    target.receiver.mode = "transient"
    error = await send_expecting(target.sink, TransientSinkError)
    assert error.status_code == (451 if target.kind == "email" else 503)


async def test_timeout_is_transient(target: Target) -> None:
    """A receiver that does not answer within the sink timeout is worth a retry."""
    target.receiver.mode = "stall"
    error = await send_expecting(target.sink, TransientSinkError)
    assert "timed out" in str(error)


async def test_refused_connection_is_transient(
    target: Target,
    http: aiohttp.ClientSession,
) -> None:
    """Nothing listening on the port is worth a retry."""
    sink = make_sink(target.kind, free_port(), http)
    await send_expecting(sink, TransientSinkError)


async def test_rejection_is_permanent(target: Target) -> None:
    """HTTP 400 / SMTP 550 fails for good, even when the receiver echoes our secrets back."""
    target.receiver.mode = "permanent"
    error = await send_expecting(target.sink, PermanentSinkError)
    assert error.status_code == (550 if target.kind == "email" else 400)


# --- build_sink ---------------------------------------------------------------------

CONFIGS = [
    (SlackConfig(webhook_url="https://hooks.slack.com/services/x"), SlackSender),
    (EmailConfig(host="h", from_="a@b.c", to=["d@e.f"]), EmailSender),
    (WebhookConfig(url="https://example.com/h"), WebhookSender),
    (FileConfig(path="data/x.jsonl"), FileSender),
]


@pytest.mark.parametrize(("cfg", "cls"), CONFIGS)
async def test_build_sink_picks_the_class_for_the_config(
    cfg: Any,
    cls: type,
    http: aiohttp.ClientSession,
) -> None:
    """Each config type builds its own sink, named and of the right kind."""
    sink = build_sink("s", cfg, http=http, timeout=10)
    assert isinstance(sink, cls)
    assert sink.name == "s"
    assert sink.kind == sink_kind(cfg)


async def test_a_sink_timeout_overrides_the_default(
    http: aiohttp.ClientSession,
) -> None:
    """``timeout`` is delivery.timeout unless the sink config sets its own."""
    plain = build_sink("a", WebhookConfig(url="http://x/"), http=http, timeout=10)
    own = build_sink("b", WebhookConfig(url="http://x/", timeout=2.5), http=http, timeout=10)
    assert (plain.timeout, own.timeout) == (10, 2.5)  # type: ignore[attr-defined]


# --- HTTP helpers -------------------------------------------------------------------

STATUSES = [
    (200, None),
    (204, None),
    (301, PermanentSinkError),
    (302, PermanentSinkError),
    (400, PermanentSinkError),
    (401, PermanentSinkError),
    (404, PermanentSinkError),
    (408, TransientSinkError),
    (410, SinkGoneError),
    (422, PermanentSinkError),
    (429, TransientSinkError),
    (500, TransientSinkError),
    (502, TransientSinkError),
    (503, TransientSinkError),
]


@pytest.mark.parametrize(("status", "expected"), STATUSES)
def test_check_status_classifies_http_statuses(status: int, expected: type | None) -> None:
    """2xx passes; 408/429/5xx are transient; 410 is gone; other 3xx/4xx are permanent."""
    reply = Reply(status, "body")
    if expected is None:
        check_status("x sink 'a'", reply)
        return
    with pytest.raises(expected) as info:
        check_status("x sink 'a'", reply)
    assert type(info.value) is expected
    assert info.value.status_code == status
    assert str(info.value).startswith(f"x sink 'a': HTTP {status}")


def test_check_status_passes_retry_after_on_transient_answers() -> None:
    """Retry-After on a 429 becomes ``retry_after`` in seconds."""
    with pytest.raises(TransientSinkError) as info:
        check_status("x", Reply(429, "", "7"))
    assert info.value.retry_after == 7


NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("Wed, 01 Jan 2025 12:01:00 GMT", 60.0),
        (None, None),
        ("", None),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("Wed, 99 Foo 2025", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    """Delta seconds or an HTTP-date become seconds from now (never negative); garbage is None."""
    assert parse_retry_after(value, now=NOW) == seconds


def test_redact_masks_every_part_of_a_url_that_may_hold_a_token() -> None:
    """The whole URL, its path and query, a password and long tokens are all masked."""
    token, key = "abcdefghijklmnop", "0123456789abcdefgh"
    url = f"https://user:pw-secret@host.example/services/T0/B0/{token}?key={key}"
    text = f"got {url} /services/T0/B0/{token} {token} {key} pw-secret"
    masked = redact(text, url_secrets(url))
    for part in ("abcdefghijklmnop", "0123456789abcdefgh", "pw-secret", "host.example/"):
        assert part not in masked


DEEP = "[" * 3000 + "]" * 3000
DEEP_OBJECT = '{"error": ' * 3000 + "1" + "}" * 3000


@pytest.mark.parametrize("text", [DEEP, DEEP_OBJECT])
def test_a_json_answer_nested_too_deep_is_not_json(text):
    """3,000 levels: ``json_object`` says "not a JSON object" instead of raising RecursionError."""
    assert json_object(text) == {}


@pytest.mark.parametrize("kind", ["telegram", "discord", "slack_bot", "whatsapp", "teams"])
async def test_a_deeply_nested_400_is_a_permanent_error_not_a_crash(aiohttp_server, http, kind):
    """A provider's 400 whose body nests 3,000 levels: PermanentSinkError, as any 400."""
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=400, text=DEEP_OBJECT, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    server = await aiohttp_server(app, host=HOST)
    sink = make_sink(kind, server.port, http)
    with pytest.raises(PermanentSinkError):
        await sink.send(outgoing(message=None))
