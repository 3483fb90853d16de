"""The configuration's schema: strict msgspec Structs, one per section, sink and source type.

A Struct checks what its own fields can tell (a URL's form, a token's shape, a known time
zone) and raises ``ValueError("key: problem")``. Reading a file into these Structs, with
every problem named by its YAML path, and the checks that need more than one field's
worth of knowledge (digest rules, report schedules, references between sections) are in
``service.config.load``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from service.timeparse import Duration, parse_duration

DEFAULT_PATH = "config/ponte.yaml"  # where the config file is when none is named


class Base(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Strict base: unknown keys are errors."""


Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


class ServerConfig(Base, frozen=True):
    host: str = "127.0.0.1"
    port: Port = 8080
    max_body_bytes: Positive = 1_048_576
    admin_token: str | None = None
    read_timeout: Duration = Duration(30)
    ui_password: str | None = None  # the web console's password (the admin token also works)
    trusted_proxies: list[str] = []  # peers whose X-Forwarded-Proto is believed (the console)


class StorageConfig(Base, frozen=True):
    url: str = "sqlite:///data/ponte.db"
    retention_days: Positive = 30
    lease: Duration = Duration(30)  # PostgreSQL: a dead replica's claims return after this

    @property
    def sqlite_path(self) -> str:
        """The file path of a ``sqlite:///path`` URL (made absolute when the config is loaded)."""
        return self.url.removeprefix("sqlite:///")

    def __post_init__(self) -> None:
        if self.url.startswith(("postgresql://", "postgres://")):
            return
        if not self.url.startswith("sqlite:///") or self.url == "sqlite:///":
            raise ValueError("url: must look like sqlite:///path/to/ponte.db "
                             "(sqlite:////abs/path for an absolute path)"
                             " or postgresql://user:pass@host:5432/ponte")


# --- sources -----------------------------------------------------------------------


class SourceBase(Base, tag_field="type", frozen=True):
    secrets: list[str] = []

    @property
    def tokens(self) -> list[str]:
        """Every configured secret or token (several: rotation), empty ones left out."""
        return [s for s in self.secrets if s]


class EduzzSourceConfig(SourceBase, tag="eduzz", kw_only=True, frozen=True):
    """Eduzz: ``x-signature`` = lowercase hex HMAC-SHA256(secret, raw body)."""


class HmacSourceConfig(SourceBase, tag="hmac", kw_only=True, frozen=True):
    """Any provider that signs the raw body with an HMAC in one header."""

    header: str
    algorithm: Literal["sha256", "sha1", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""
    event_header: str | None = None
    id_header: str | None = None


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class HotmartSourceConfig(SourceBase, tag="hotmart", kw_only=True, frozen=True):
    """Hotmart postback v2: header ``X-HOTMART-HOTTOK`` equals a hottok (constant-time)."""

    hottok: str | list[str] = []

    @property
    def tokens(self) -> list[str]:
        return [s for s in [*_listed(self.hottok), *self.secrets] if s]


class KiwifySourceConfig(SourceBase, tag="kiwify", kw_only=True, frozen=True):
    """Kiwify: ``?signature=`` = hex HMAC-SHA1(token, raw body)."""

    token: str | list[str] = []

    @property
    def tokens(self) -> list[str]:
        return [s for s in [*_listed(self.token), *self.secrets] if s]


class TokenSourceConfig(SourceBase, tag="token", kw_only=True, frozen=True):
    """A shared token in a header, a query parameter or a body field (``service.ingest.sources.token``)."""

    token: str | list[str] = []
    header: str | None = None
    query: str | None = None
    field: str | None = None
    event: str = "event"
    id: str | None = None
    prefix: str = ""

    @property
    def tokens(self) -> list[str]:
        return [s for s in [*_listed(self.token), *self.secrets] if s]

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.header, self.query, self.field)) != 1:
            raise ValueError("header: say where the token is: one of header, query or field")


SourceConfig = (EduzzSourceConfig | HmacSourceConfig | HotmartSourceConfig | KiwifySourceConfig
                | TokenSourceConfig)


# --- sinks -------------------------------------------------------------------------


class SinkBase(Base, tag_field="type", frozen=True):
    enabled: bool = True
    concurrency: Positive = 4
    rate_per_second: Annotated[float, msgspec.Meta(gt=0)] | None = None
    timeout: Duration | None = None
    ordered_by: str | None = None
    breaker_threshold: Positive = 5
    breaker_cooldown: Duration = Duration(60)


class SlackConfig(SinkBase, tag="slack", kw_only=True, frozen=True):
    """Incoming webhook (``webhook_url``) or bot token (``token`` + ``channel``)."""

    webhook_url: str | None = None
    token: str | None = None
    channel: str | None = None
    api_url: str = "https://slack.com/api"
    rate_per_second: Annotated[float, msgspec.Meta(gt=0)] | None = 1.0

    def __post_init__(self) -> None:
        if (self.webhook_url is None) == (self.token is None):
            raise ValueError("a slack sink needs either webhook_url or token + channel")
        if self.token is not None and not self.channel:
            raise ValueError("channel: a slack sink with a token needs a channel")


class EmailConfig(SinkBase, tag="email", kw_only=True, frozen=True):
    host: str
    port: Port = 587
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: str | None = None
    from_: str = msgspec.field(name="from")
    to: Annotated[list[str], msgspec.Meta(min_length=1)]


class WebhookConfig(SinkBase, tag="webhook", kw_only=True, frozen=True):
    url: str
    signing_secret: str | None = None
    headers: dict[str, str] = {}
    follow_redirects: bool = False

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url: must start with http:// or https://")
        _check_url(self.url, "url")
        if self.signing_secret is not None and whsec_key(self.signing_secret) is None:
            raise ValueError('signing_secret: must be in the "whsec_<base64>" form')


def _check_url(url: str, key: str) -> None:
    """Raise ValueError (naming ``key``, never the URL: it may hold a token) unless it parses."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError as exc:
        raise ValueError(f"{key}: not a valid URL ({exc})") from None
    if not parts.hostname:
        raise ValueError(f"{key}: not a valid URL (no host)")


def whsec_key(secret: str) -> bytes | None:
    """The HMAC key inside a ``whsec_<base64>`` secret; None when it is not one."""
    if not secret.startswith("whsec_"):
        return None
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True) or None
    except (binascii.Error, ValueError):
        return None


class FileConfig(SinkBase, tag="file", kw_only=True, frozen=True):
    """Appends one JSON line per delivery; ``format`` picks whose built-in message it writes."""

    path: str
    format: Literal["file", "slack", "email", "webhook", "whatsapp", "google_sheets"] = "file"


class WhatsAppTemplateConfig(Base, kw_only=True, frozen=True):
    """An approved WhatsApp message template: its name and language code (``pt_BR``)."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    language: Annotated[str, msgspec.Meta(min_length=2)] = "pt_BR"


class WhatsAppConfig(SinkBase, tag="whatsapp", kw_only=True, frozen=True):
    """WhatsApp Business Cloud API: ``POST {api_url}/{phone_number_id}/messages``."""

    token: Annotated[str, msgspec.Meta(min_length=1)]
    phone_number_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+$")]
    to: Annotated[list[str], msgspec.Meta(min_length=1)]
    template: WhatsAppTemplateConfig | None = None
    api_url: str = "https://graph.facebook.com/v21.0"
    rate_per_second: Annotated[float, msgspec.Meta(gt=0)] | None = 80.0

    def __post_init__(self) -> None:
        _check_api_url(self.api_url)


class SheetColumnConfig(Base, kw_only=True, frozen=True):
    """One spreadsheet column: its header text and a template for each row's value."""

    header: Annotated[str, msgspec.Meta(min_length=1)]
    value: str


class GoogleSheetsConfig(SinkBase, tag="google_sheets", kw_only=True, frozen=True):
    """Google Sheets API v4: one row appended per event, as a service account."""

    spreadsheet_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]+$")]
    sheet: Annotated[str, msgspec.Meta(min_length=1)]
    credentials: Annotated[str, msgspec.Meta(min_length=1)]
    columns: list[SheetColumnConfig] | None = None
    api_url: str = "https://sheets.googleapis.com/v4"
    rate_per_second: Annotated[float, msgspec.Meta(gt=0)] | None = 1.0  # 60 requests/minute

    def __post_init__(self) -> None:
        _check_api_url(self.api_url)


def _check_api_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError("api_url: must start with http:// or https://")


# --- chat sinks (telegram, discord, teams): defaults follow each provider's documented limits


_URL = ("http://", "https://")
_BOT_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
_CHAT_ID = re.compile(r"^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,})$")


class TelegramConfig(SinkBase, tag="telegram", kw_only=True, frozen=True):
    """Bot API ``sendMessage`` to one chat; 1 message/s to a user, 20/minute to a group."""

    token: str
    chat_id: int | str
    message_thread_id: Positive | None = None
    api_url: str = "https://api.telegram.org"
    link_previews: bool = False

    def __post_init__(self) -> None:
        if not _BOT_TOKEN.match(self.token):  # never echo the token itself
            raise ValueError("token: does not look like a bot token from @BotFather (123456:ABC…)")
        if not _CHAT_ID.match(str(self.chat_id)):
            raise ValueError("chat_id: must be a number (-100… for groups) or @channel_name")
        if not self.api_url.startswith(_URL):
            raise ValueError("api_url: must start with http:// or https://")
        if isinstance(self.chat_id, str) and not self.chat_id.startswith("@"):
            msgspec.structs.force_setattr(self, "chat_id", int(self.chat_id))  # "${VAR}" is text
        if self.rate_per_second is None:
            group = str(self.chat_id).startswith(("-", "@"))
            msgspec.structs.force_setattr(self, "rate_per_second", 20 / 60 if group else 1.0)


class DiscordConfig(SinkBase, tag="discord", kw_only=True, frozen=True):
    """An incoming webhook; 0.5 message/s (Discord allows 30/minute per channel)."""

    webhook_url: str
    rate_per_second: Annotated[float, msgspec.Meta(gt=0)] | None = 0.5

    def __post_init__(self) -> None:
        if not self.webhook_url.startswith(_URL) or "/webhooks/" not in self.webhook_url:
            raise ValueError("webhook_url: must be a Discord webhook URL (https://discord.com/api/webhooks/…)")


class TeamsConfig(SinkBase, tag="teams", kw_only=True, frozen=True):
    """A Teams Workflows webhook (Adaptive Card); 1 message/s (the Teams connector allows 100/minute)."""

    webhook_url: str
    rate_per_second: Annotated[float, msgspec.Meta(gt=0)] | None = 1.0

    def __post_init__(self) -> None:
        if not self.webhook_url.startswith(_URL):
            raise ValueError("webhook_url: must start with https:// (the URL the Workflows trigger shows)")


class MetaCapiConfig(SinkBase, tag="meta_capi", kw_only=True, frozen=True):
    """Meta Conversions API: ``POST {api_url}/{pixel_id}/events`` (``service.sinks.meta_capi``)."""

    pixel_id: Annotated[int, msgspec.Meta(ge=1)] | Annotated[str, msgspec.Meta(pattern=r"^[0-9]+$")]
    access_token: Annotated[str, msgspec.Meta(min_length=1)]
    test_event_code: str | None = None
    api_url: Annotated[str, msgspec.Meta(pattern=r"^https?://")] = "https://graph.facebook.com/v21.0"


SinkConfig = (
    SlackConfig | EmailConfig | WebhookConfig | FileConfig | WhatsAppConfig | GoogleSheetsConfig
    | TelegramConfig | DiscordConfig | TeamsConfig | MetaCapiConfig
)


def sink_kind(cfg: SinkConfig) -> str:
    """The ``type`` of a sink config (``slack``, ``email``, …)."""
    return str(type(cfg).__struct_config__.tag)


# --- routes, delivery, messages -----------------------------------------------------


class DigestConfig(Base, kw_only=True, frozen=True):
    """Group a target's events into one message: ``{group_by, wait, interval, max_items}``,
    or only while busy: ``{when_busy: 10/min}`` (rules in ``service.batches.digests``,
    checked when the config is loaded)."""

    group_by: list[str] = []
    wait: Duration | None = None
    interval: Duration | None = None
    max_items: Annotated[int, msgspec.Meta(ge=1, le=100)] = 50
    when_busy: str | None = None
    max_groups: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20


class UnlessConfig(Base, kw_only=True, frozen=True):
    """A follow-up is cancelled by any of ``events`` holding the same values at ``same``
    (and matching ``where``): rules in ``service.routing.followups``."""

    events: list[str] = []  # required: an empty list is a check error with its path
    same: list[str] = []
    where: dict[str, Any] = {}


class QuietHoursConfig(Base, kw_only=True, frozen=True):
    """A daily window (``from`` … ``to``, local time in ``timezone``) in which nothing is sent."""

    from_: str = msgspec.field(name="from")
    to: str
    timezone: str


class TargetConfig(Base, kw_only=True, frozen=True):
    sink: str
    template: dict[str, Any] | None = None
    digest: DigestConfig | None = None
    after: Duration | None = None  # a follow-up: due this long after its event (1s … 30d)
    unless: UnlessConfig | None = None
    quiet_hours: QuietHoursConfig | None = None


class RouteConfig(Base, kw_only=True, frozen=True):
    name: str
    events: Annotated[list[str], msgspec.Meta(min_length=1)]
    where: dict[str, Any] = {}
    to: Annotated[list[str | TargetConfig], msgspec.Meta(min_length=1)]
    stop: bool = False
    sources: list[str] | None = None  # None: events from any source

    @property
    def targets(self) -> list[TargetConfig]:
        """``to`` with plain sink names turned into Targets."""
        return [TargetConfig(sink=t) if isinstance(t, str) else t for t in self.to]


DEFAULT_SCHEDULE = ["5s", "1m", "5m", "30m", "2h", "5h", "10h", "10h", "10h"]


class DeliveryConfig(Base, frozen=True):
    max_attempts: Positive = 10
    retry_schedule: Annotated[list[Duration], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [parse_duration(s) for s in DEFAULT_SCHEDULE]
    )
    timeout: Duration = Duration(10)
    concurrency: Positive = 32
    shutdown_grace: Duration = Duration(10)


DEFAULT_TIMEZONE = "America/Sao_Paulo"  # where Ponte's users are: messages show their time


class MessagesConfig(Base, frozen=True):
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None


class ReportConfig(Base, kw_only=True, frozen=True):
    """A scheduled summary (``reports:``); periods and checks in
    ``service.batches.reports``, checked when the config is loaded."""

    name: str
    every: Literal["hour", "day", "week", "month"]
    at: str = "00:00"
    timezone: str | None = None  # None: messages.timezone
    events: Annotated[list[str], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["myeduzz.invoice_*", "sun.cart_abandonment",
                                 "myeduzz.cart_abandonment", "hotmart.*", "kiwify.*"])
    where: dict[str, Any] = {}
    to: Annotated[list[str], msgspec.Meta(min_length=1)]
    template: dict[str, Any] | None = None


class Config(Base, frozen=True):
    server: ServerConfig = ServerConfig()
    storage: StorageConfig = StorageConfig()
    sources: dict[str, SourceConfig] = {}
    sinks: dict[str, SinkConfig] = {}
    routes: list[RouteConfig] = []
    delivery: DeliveryConfig = DeliveryConfig()
    messages: MessagesConfig = MessagesConfig()
    reports: list[ReportConfig] = []
    path: str = ""
