"""Telegram against the local Bot API fake: payload, HTML cut, errors, the token kept secret."""

from __future__ import annotations

import html
import re
from typing import Any

import aiohttp
import pytest
import structlog
from chat_fakes import RETRY_AFTER, TelegramFake, telegram_text_error

from service.config.load import parse_config
from service.errors import ConfigError, PermanentSinkError, SinkGoneError, TransientSinkError
from service.render.chatformat import cut_html, utf16_len
from service.sinks.base import Sink
from sink_contract import (
    HOST,
    TELEGRAM_TOKEN,
    assert_secret_free,
    http,  # noqa: F401 - a fixture
    make_sink,
    outgoing,
    send_expecting,
)


async def telegram(
    aiohttp_server: Any, http: aiohttp.ClientSession, **extra: Any
) -> tuple[TelegramFake, Sink]:
    """A fake Bot API and a telegram sink pointing at it."""
    fake = TelegramFake()
    server = await aiohttp_server(fake.app(), host=HOST)
    return fake, make_sink("telegram", server.port, http, **extra)


async def test_sends_html_to_the_chat_without_link_previews(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """sendMessage gets chat_id, HTML text, parse_mode, previews off; the token is in the path."""
    fake, sink = await telegram(aiohttp_server, http, message_thread_id=7)
    result = await sink.send(outgoing(message={"text": "<b>Venda</b> R$ 10,50"}))
    assert result.response == "ok message_id=1"
    assert fake.paths == [f"/bot{TELEGRAM_TOKEN}/sendMessage"]
    assert fake.sent == [{
        "chat_id": -1001234567890, "text": "<b>Venda</b> R$ 10,50", "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True}, "message_thread_id": 7,
    }]  # fmt: skip


async def test_link_previews_can_be_turned_on(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """``link_previews: true`` asks Telegram to show them."""
    fake, sink = await telegram(aiohttp_server, http, link_previews=True)
    await sink.send(outgoing(message={"text": "oi"}))
    assert fake.sent[0]["link_preview_options"] == {"is_disabled": False}
    assert "message_thread_id" not in fake.sent[0]


async def test_empty_text_falls_back_to_a_description(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """A template that renders nothing still sends a valid message naming the event."""
    fake, sink = await telegram(aiohttp_server, http)
    await sink.send(outgoing(message={"text": "  "}))
    assert "myeduzz.invoice_paid" in fake.sent[0]["text"]


async def test_a_long_message_is_cut_with_a_visible_ellipsis(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """10,000 characters of markup and entities arrive cut to 4,096, tags closed, "…" shown."""
    fake, sink = await telegram(aiohttp_server, http)
    text = "<b>Título</b>\n" + "<i>a &amp; b</i> 💰 " * 700
    await sink.send(outgoing(message={"text": text}))
    sent = fake.sent[0]["text"]
    assert utf16_len(sent) <= 4096 and "…" in sent
    assert telegram_text_error(sent) is None


@pytest.mark.parametrize("limit", [1, 2, 5, 9, 10, 11, 14, 15, 16, 20, 27, 40])
def test_cut_html_never_cuts_inside_a_tag_or_entity(limit: int) -> None:
    """Every cut point gives well-formed Telegram HTML within the limit."""
    text = '<b>x &amp; y</b><a href="https://e.com/?a=1&amp;b=2">link</a> ok &lt;tail&gt;'
    cut = cut_html(text, limit)
    assert utf16_len(cut) <= limit and cut.rstrip("</ab>").endswith("…")
    assert telegram_text_error(cut) is None


def test_cut_html_keeps_short_text_unchanged() -> None:
    """Text within the limit is not touched."""
    assert cut_html("<b>oi</b>", 4096) == "<b>oi</b>"


async def test_hostile_values_arrive_inert(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """A buyer name full of HTML, Markdown and mentions shows as text in the built-in message."""
    from service.render.builtin.messages import builtin_template

    fake, sink = await telegram(aiohttp_server, http)
    evil = "@everyone <b>x</b> <script>alert(1)</script> **y** & </i>"
    data = {"buyer": {"name": evil, "email": "a@b.com"}, "id": 1, "price": {"value": 1}}
    message = builtin_template("myeduzz.invoice_paid", "telegram").render(
        {"event": "myeduzz.invoice_paid", "data": data, "id": "x", "sentDate": None}
    )
    await sink.send(outgoing(message=message))
    sent = fake.sent[0]["text"]
    visible = html.unescape(re.sub(r"<[^>]*>", "", sent))
    assert "<script>" not in sent and evil in visible
    assert "a@b.com" not in sent


async def test_rate_limit_honours_parameters_retry_after(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """429 is transient and waits ``parameters.retry_after`` seconds."""
    fake, sink = await telegram(aiohttp_server, http)
    fake.mode = "rate_limited"
    error = await send_expecting(sink, TransientSinkError)
    assert error.status_code == 429 and error.retry_after == RETRY_AFTER  # type: ignore[attr-defined]


@pytest.mark.parametrize(("mode", "status"), [("revoked", 401), ("blocked", 403)])
async def test_revoked_token_or_lost_chat_disables_the_sink(
    aiohttp_server: Any, http: aiohttp.ClientSession, mode: str, status: int
) -> None:
    """401/403 are permanent and disable the sink, with a reason and no token."""
    fake, sink = await telegram(aiohttp_server, http)
    fake.mode = mode
    error = await send_expecting(sink, SinkGoneError)
    assert error.status_code == status and str(status) in error.reason  # type: ignore[attr-defined]


async def test_a_wrong_token_is_never_shown(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """A token the API does not know gives 401 without the token in error or logs."""
    other = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
    _fake, sink = await telegram(aiohttp_server, http, token=other)
    with structlog.testing.capture_logs() as logs, pytest.raises(SinkGoneError) as info:
        await sink.send(outgoing())
    assert other not in repr(info.value) and other not in str(logs)
    assert_secret_free(info.value, logs)


async def test_group_upgraded_to_supergroup_names_the_new_chat(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """A migrated group is permanent and says which chat_id to use now."""
    fake, sink = await telegram(aiohttp_server, http)
    fake.mode = "migrated"
    error = await send_expecting(sink, PermanentSinkError)
    assert "-1009876543210" in str(error)


async def test_unknown_chat_is_permanent_with_telegrams_words(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """Telegram's description reaches the attempt history."""
    _fake, sink = await telegram(aiohttp_server, http, chat_id=-1000000000001)
    error = await send_expecting(sink, PermanentSinkError)
    assert "chat not found" in str(error) and error.status_code == 400


async def test_bad_gateway_is_transient(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """A 502 from Telegram's front end is retried."""
    fake, sink = await telegram(aiohttp_server, http)
    fake.mode = "down"
    error = await send_expecting(sink, TransientSinkError)
    assert error.status_code == 502


async def test_a_template_with_unsupported_html_fails_with_the_parse_error(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """An author's ``<div>`` is refused by Telegram: permanent, with its reason."""
    _fake, sink = await telegram(aiohttp_server, http)
    error = await send_expecting(
        sink, PermanentSinkError, outgoing(message={"text": "<div>x</div>"})
    )
    assert "Unsupported start tag" in str(error)


# --- config ----------------------------------------------------------------------------


def sinks(**sink: Any) -> Any:
    """Parse a config with one sink named ``t``."""
    return parse_config({"sinks": {"t": {"type": "telegram", **sink}}}, env={})


@pytest.mark.parametrize(
    ("chat_id", "rate"), [(-100123, 20 / 60), ("@canal_vendas", 20 / 60), (42, 1.0)]
)
def test_default_rate_follows_telegrams_limits(chat_id: Any, rate: float) -> None:
    """Groups and channels: 20 messages a minute; a private chat: 1 a second."""
    assert sinks(token=TELEGRAM_TOKEN, chat_id=chat_id).sinks["t"].rate_per_second == rate


def test_bad_token_is_a_config_error_that_does_not_echo_it() -> None:
    """A malformed token is refused by path, without printing what was given."""
    with pytest.raises(ConfigError) as info:
        sinks(token="not-a-token-secret", chat_id=1)
    assert info.value.errors[0].startswith("sinks.t.token:")
    assert "not-a-token-secret" not in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"), [("chat_id", "vendas"), ("api_url", "ftp://x"), ("message_thread_id", 0)]
)
def test_bad_settings_are_config_errors_with_their_path(field: str, value: Any) -> None:
    """chat_id, api_url and message_thread_id are checked at load time."""
    with pytest.raises(ConfigError) as info:
        sinks(**{"token": TELEGRAM_TOKEN, "chat_id": 1, field: value})
    assert info.value.errors[0].startswith(f"sinks.t.{field}")


def test_a_numeric_chat_id_from_an_env_var_becomes_a_number() -> None:
    """``chat_id: ${VAR}`` gives text; it is sent as the number Telegram knows."""
    raw = {"sinks": {"t": {"type": "telegram", "token": "${T}", "chat_id": "${C}"}}}
    config = parse_config(raw, env={"T": TELEGRAM_TOKEN, "C": "-1001234567890"})
    assert config.sinks["t"].chat_id == -1001234567890
