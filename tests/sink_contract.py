"""The contract every networked sink passes, and the in-process receivers it runs against.

A receiver has a ``mode``: ``ok`` (accept), ``transient`` (HTTP 503 / SMTP 451),
``permanent`` (HTTP 400 / SMTP 550) or ``stall`` (never answer until released).
Failing HTTP answers echo the request path and Authorization header back, like a careless
receiver would, so the tests also prove that sinks mask what they are sent back.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import traceback
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from multidict import CIMultiDict

from service.config.schema import (
    DiscordConfig,
    EmailConfig,
    GoogleSheetsConfig,
    MetaCapiConfig,
    SinkConfig,
    SlackConfig,
    TeamsConfig,
    TelegramConfig,
    WebhookConfig,
    WhatsAppConfig,
)
from service.errors import SinkError
from service.sinks.base import Outgoing, Sink
from service.sinks.registry import build_sink

TIMEOUT = 1.0  # a slow server must time out; a loaded CI machine must not (0.3 s flaked)
HOST = "127.0.0.1"
SLACK_PATH_TOKEN = "SlackPathToken0123456789"
BOT_TOKEN = "xoxb-0000-bot-token-that-is-secret"
SMTP_USER = "ponte"
SMTP_PASSWORD = "smtp-password-that-is-secret"
SIGNING_KEY = b"signing key that is very secret!"
SIGNING_SECRET = "whsec_" + base64.b64encode(SIGNING_KEY).decode()
WEBHOOK_QUERY_TOKEN = "QueryToken0123456789abcdef"
KINDS = ["slack_webhook", "slack_bot", "webhook", "email"]
# --- whatsapp and google_sheets (washeets) ---
WHATSAPP_TOKEN = "EAAG-contract-whatsapp-token-secret"
GOOGLE_ACCESS_TOKEN = "ya29.contract-google-access-token-secret"
GOOGLE_TOKEN_PATH = "/token"
GOOGLE_PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
KINDS += ["whatsapp", "google_sheets"]
OK_BODIES = {"slack_bot": '{"ok": true, "ts": "1.2"}', "whatsapp": '{"messages": [{"id": "wamid.1"}]}',
             "google_sheets": '{"updates": {"updatedRows": 1, "updatedRange": "Vendas!A1:B1"}}'}
# --- end whatsapp and google_sheets ---
BODY = b'{"id": "abc", "event": "myeduzz.invoice_paid", "data": {"price": {"value": 10.50}}}'


# --- chat sinks: telegram, discord, teams (helper "chat") ---------------------------------

KINDS += ["telegram", "discord", "teams"]
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
DISCORD_ID, DISCORD_TOKEN = "112233445566778899", "d1sc0rdW3bh00kT0k3nTh4tIsS3cr3t-0123456789abcdef"
TEAMS_SIG = "S1gN4tur3ThatIsVerySecret_0123456789abcdefAB"
CHAT_SECRETS = [TELEGRAM_TOKEN, TELEGRAM_TOKEN.partition(":")[2], DISCORD_TOKEN, TEAMS_SIG]
OK_BODIES.update({
    "telegram": '{"ok": true, "result": {"message_id": 5}}',
    "discord": '{"id": "1234"}',
})


def chat_fields(kind: str, base: str) -> dict[str, Any]:
    """The config fields of a chat sink of ``kind`` talking to ``base``."""
    if kind == "telegram":
        return {"token": TELEGRAM_TOKEN, "chat_id": -1001234567890, "api_url": base}
    if kind == "discord":
        return {"webhook_url": f"{base}/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}"}
    flow = f"{base}/workflows/0f1e2d3c/triggers/manual/paths/invoke"
    return {"webhook_url": f"{flow}?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={TEAMS_SIG}"}


# --- end of the chat block -----------------------------------------------------------------

# --- meta_capi: the Conversions API (its token travels as the access_token query parameter) ---
KINDS += ["meta_capi"]
META_TOKEN = "EAAGcontract-meta-capi-token-secret-0123456789"
OK_BODIES["meta_capi"] = '{"events_received": 1, "messages": [], "fbtrace_id": "AbCdEf"}'
MESSAGES: dict[str, dict[str, Any]] = {"meta_capi": {"event": {
    "event_name": "Purchase", "event_id": "abc", "user_data": {"em": "Alice@Example.com"},
    "custom_data": {"value": 10.5, "currency": "BRL"},
}}}  # the rendered message a kind needs; others forward the body (message None)


def outgoing_for(kind: str, **changes: Any) -> Outgoing:
    """``outgoing`` with the message ``kind`` needs (``MESSAGES``), ``changes`` applied."""
    return outgoing(**{"message": MESSAGES.get(kind), **changes})


def outgoing(**changes: Any) -> Outgoing:
    """A delivery of an Eduzz ``invoice_paid`` event, with ``changes`` applied."""
    fields: dict[str, Any] = dict(
        delivery_id=7, event_id=42, event="myeduzz.invoice_paid", source="eduzz",
        body=BODY, message=None, attempt=1,
    )  # fmt: skip
    return Outgoing(**{**fields, **changes})


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- HTTP receiver --------------------------------------------------------------------


@dataclass
class Request:
    """What the fake HTTP receiver was sent."""

    path: str
    headers: CIMultiDict[str]
    body: bytes


@dataclass
class HttpReceiver:
    """A fake Slack / customer endpoint: answers by ``mode``, records each request."""

    mode: str = "ok"
    ok_body: str = "ok"
    port: int = 0  # set by whoever starts the server
    requests: list[Request] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        """The aiohttp app answering every POST (and GET) path."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        app.router.add_get("/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request, then answer by mode."""
        if request.path == GOOGLE_TOKEN_PATH:  # google_sheets: the OAuth token endpoint
            return web.json_response({"access_token": GOOGLE_ACCESS_TOKEN, "expires_in": 3599})
        body = await request.read()
        self.requests.append(Request(request.path_qs, CIMultiDict(request.headers), body))
        echo = f"{request.path_qs} {request.headers.get('Authorization', '')}"
        if self.mode == "stall":
            await self.release.wait()
        if self.mode == "transient":
            return web.Response(status=503, text=f"overloaded: {echo}")
        if self.mode == "permanent":
            return web.Response(status=400, text=f"invalid_payload: {echo}")
        return web.Response(text=self.ok_body, content_type=self.ok_type)

    @property
    def ok_type(self) -> str:
        return "application/json" if self.ok_body.startswith("{") else "text/plain"


# --- SMTP receiver --------------------------------------------------------------------


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler that answers DATA by ``mode`` and keeps what it accepted."""

    mode: str = "ok"
    messages: list[Any] = field(default_factory=list)
    logins: list[bytes | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Accept, refuse or stall."""
        if self.mode == "stall":
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        if self.mode == "transient":
            return "451 4.3.0 Try again later"
        if self.mode == "permanent":
            return "550 5.7.1 Message rejected"
        self.messages.append(envelope)
        self.logins.append(session.auth_data.login if session.authenticated else None)
        return "250 2.0.0 Queued as ABC123"

    def reset(self) -> None:
        """Back to accepting, with nothing recorded."""
        self.mode, self.messages, self.logins = "ok", [], []
        self.release.set()
        self.release = threading.Event()


def authenticator(server: Any, session: Any, envelope: Any, mech: str, data: Any) -> AuthResult:
    """Accept only SMTP_USER / SMTP_PASSWORD."""
    good = isinstance(data, LoginPassword) and data.login == SMTP_USER.encode()
    good = good and data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=good, handled=False, auth_data=data if good else None)


def smtp_controller(recorder: SmtpRecorder, **kwargs: Any) -> Controller:
    """A started aiosmtpd server on 127.0.0.1 that offers AUTH over plain text.

    Not ``auth_required``: aiosmtpd warns about it without TLS. The recorder keeps the login
    of each message instead, so tests can see that the sink did log in."""
    options: dict[str, Any] = dict(auth_require_tls=False, authenticator=authenticator)
    controller = Controller(recorder, hostname=HOST, port=free_port(), **{**options, **kwargs})
    controller.start()
    return controller


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[SmtpRecorder, Controller]]:
    """One SMTP server per test module (import this fixture into the module)."""
    recorder = SmtpRecorder()
    controller = smtp_controller(recorder)
    yield recorder, controller
    recorder.release.set()
    controller.stop()


@pytest.fixture
def smtp(smtp_server: tuple[SmtpRecorder, Controller]) -> Iterator[SmtpRecorder]:
    """The module's SMTP recorder, reset for this test; stalls are released afterwards."""
    recorder, _ = smtp_server
    recorder.reset()
    yield recorder
    recorder.release.set()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """The client session the HTTP sinks share."""
    async with aiohttp.ClientSession() as session:
        yield session


# --- building sinks -------------------------------------------------------------------


def sink_config(kind: str, port: int, **extra: Any) -> Any:
    """A config of ``kind`` pointing at 127.0.0.1:``port`` with the test secrets; ``extra`` wins."""
    base = f"http://{HOST}:{port}"
    fields: dict[str, Any]
    match kind:
        case "slack_webhook":
            fields = {"webhook_url": f"{base}/services/T0000/B0000/{SLACK_PATH_TOKEN}"}
        case "slack_bot":
            fields = {"token": BOT_TOKEN, "channel": "C0123", "api_url": f"{base}/api"}
        case "webhook":
            url = f"{base}/hooks/eduzz?token={WEBHOOK_QUERY_TOKEN}"
            fields = {"url": url, "signing_secret": SIGNING_SECRET}
        case "telegram" | "discord" | "teams":
            fields = chat_fields(kind, base)
        case "email":
            fields = {
                "host": HOST, "port": port, "security": "none", "username": SMTP_USER,
                "password": SMTP_PASSWORD, "from_": "Ponte <ponte@example.com>",
                "to": ["financeiro@example.com"],
            }  # fmt: skip
        case "whatsapp" | "google_sheets":
            fields = _channel_fields(kind, base)
        case "meta_capi":
            fields = {"pixel_id": "123456789012345", "access_token": META_TOKEN, "api_url": f"{base}/v21.0"}
    return CONFIG_TYPES[kind](**{**fields, **extra})


def _channel_fields(kind: str, base: str) -> dict[str, Any]:
    """whatsapp / google_sheets settings (the key is inline JSON whose token_uri is the receiver)."""
    if kind == "whatsapp":
        return {"token": WHATSAPP_TOKEN, "phone_number_id": "1234567890", "to": ["+55 11 98765-4321"],
                "api_url": f"{base}/v21.0"}  # fmt: skip
    key = {"type": "service_account", "client_email": "ponte@test.iam.gserviceaccount.com",
           "private_key": GOOGLE_PRIVATE_KEY, "token_uri": f"{base}{GOOGLE_TOKEN_PATH}"}  # fmt: skip
    return {"spreadsheet_id": "1AbC", "sheet": "Vendas", "credentials": json.dumps(key), "api_url": f"{base}/v4"}


CONFIG_TYPES: dict[str, type[SinkConfig]] = {
    "slack_webhook": SlackConfig, "slack_bot": SlackConfig, "webhook": WebhookConfig, "email": EmailConfig,
    "whatsapp": WhatsAppConfig, "google_sheets": GoogleSheetsConfig,
    "telegram": TelegramConfig, "discord": DiscordConfig, "teams": TeamsConfig,
    "meta_capi": MetaCapiConfig,
}  # fmt: skip


def make_sink(kind: str, port: int, http: aiohttp.ClientSession, **extra: Any) -> Sink:
    """``build_sink`` for a test config, with the short test timeout."""
    return build_sink(f"test-{kind}", sink_config(kind, port, **extra), http=http, timeout=TIMEOUT)


SECRETS = [
    SLACK_PATH_TOKEN, f"T0000/B0000/{SLACK_PATH_TOKEN}", BOT_TOKEN, SMTP_PASSWORD,
    SIGNING_SECRET, SIGNING_SECRET.removeprefix("whsec_"), WEBHOOK_QUERY_TOKEN,
    WHATSAPP_TOKEN, GOOGLE_ACCESS_TOKEN, GOOGLE_PRIVATE_KEY.split("-----")[2].strip()[:64],
    *CHAT_SECRETS, META_TOKEN,
]  # fmt: skip


def assert_secret_free(exc: BaseException, logs: list[dict[str, Any]]) -> None:
    """No test secret in the error's str, repr, formatted traceback or the captured logs."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(logs)]
    for secret in SECRETS:
        for text in texts:
            assert secret not in text


async def send_expecting(
    sink: Sink, kind: type[SinkError], out: Outgoing | None = None
) -> SinkError:
    """Send once, expect ``kind`` (exactly, not a subclass), check no secret leaked."""
    with structlog.testing.capture_logs() as logs, pytest.raises(kind) as info:
        await sink.send(out or outgoing_for(sink.kind))
    assert type(info.value) is kind, repr(info.value)
    assert_secret_free(info.value, logs)
    return info.value
