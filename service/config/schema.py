"""The configuration: strict msgspec Structs and ``load_config``.

Loading is strict: an unknown key, a wrong type or a missing ``${VAR}`` is an error
naming its YAML path (``sinks.vendas.webhook_url``). Every section is checked on its
own, so one run reports every problem at once. Text that reads as a number or boolean
is accepted where one is expected, so ``port: ${PORT}`` works.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from service.config.source import Substitution, read_yaml
from service.errors import ConfigError

DEFAULT_PATH = "config/ponte.yaml"


class Duration(float):
    """Seconds, written in the config as ``500ms``, ``5s``, ``1m``, ``2h`` or ``1d``."""


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FOREVER = 100 * 365 * 86400  # a century: longer is a typo, and an endless wait is never due
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(value: object) -> Duration:
    """Turn ``"5s"``/``"1m"``/a number of seconds into a Duration, or raise ValueError."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < _FOREVER:
        return Duration(value)
    seconds = duration_seconds(value) if isinstance(value, str) else None
    if seconds is None or seconds >= _FOREVER:
        raise ValueError(f"invalid duration {value!r} (use e.g. 500ms, 5s, 1m, 2h, 1d)")
    return Duration(seconds)


def duration_seconds(text: str) -> float | None:
    """The seconds in ``"500ms"``/``"5s"``/``"2h"``/``"7d"``, however many; None if not one."""
    match = _DURATION.match(text)
    return float(match[1]) * _UNITS[match[2]] if match else None


def _dec_hook(type_: type, obj: Any) -> Any:
    if type_ is Duration:
        return parse_duration(obj)
    raise NotImplementedError


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
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError as exc:
        raise ValueError(f"{key}: not a valid URL ({exc})") from None
    if not parts.hostname:
        raise ValueError(f"{key}: not a valid URL (no host)")


def whsec_key(secret: str) -> bytes | None:
    """The HMAC key inside a ``whsec_<base64>`` secret; None when it is not one."""
    import base64
    import binascii

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


SinkConfig = (
    SlackConfig | EmailConfig | WebhookConfig | FileConfig | WhatsAppConfig | GoogleSheetsConfig
    | TelegramConfig | DiscordConfig | TeamsConfig
)


def sink_kind(cfg: SinkConfig) -> str:
    """The ``type`` of a sink config (``slack``, ``email``, …)."""
    return str(type(cfg).__struct_config__.tag)


# --- routes, delivery, messages -----------------------------------------------------


class DigestConfig(Base, kw_only=True, frozen=True):
    """Group a target's events into one message: ``{group_by, wait, interval, max_items}``,
    or only while busy: ``{when_busy: 10/min}`` (rules in ``service.digests``)."""

    group_by: list[str] = []
    wait: Duration | None = None
    interval: Duration | None = None
    max_items: Annotated[int, msgspec.Meta(ge=1, le=100)] = 50
    when_busy: str | None = None

    def __post_init__(self) -> None:
        from service.batches.digests import validate_digest

        validate_digest(self)


class TargetConfig(Base, kw_only=True, frozen=True):
    sink: str
    template: dict[str, Any] | None = None
    digest: DigestConfig | None = None


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
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None


class ReportConfig(Base, kw_only=True, frozen=True):
    """A scheduled summary (``reports:``); periods and checks in ``service.reports``."""

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

    def __post_init__(self) -> None:
        from service.batches.reports import validate_report

        validate_report(self)


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


# --- loading -----------------------------------------------------------------------

_SECTIONS: dict[str, Any] = {
    "server": ServerConfig,
    "storage": StorageConfig,
    "delivery": DeliveryConfig,
    "messages": MessagesConfig,
}
_MAPS: dict[str, Any] = {"sources": SourceConfig, "sinks": SinkConfig}
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def resolve_path(explicit: str | None) -> str:
    """``--config``, else ``$PONTE_CONFIG``, else ``config/ponte.yaml``."""
    return explicit or os.environ.get("PONTE_CONFIG") or DEFAULT_PATH


def load_config(path: str, env: dict[str, str] | None = None) -> Config:
    """Read, substitute ``${VAR}`` and validate a config file; raise ConfigError with all problems."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config file ({exc.strerror})"]) from None
    return parse_config(read_yaml(text, path), env=env, path=path)


def parse_config(raw: Any, *, env: dict[str, str] | None = None, path: str = "") -> Config:
    """Validate an already-parsed YAML document; raise ConfigError with every problem."""
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): expected a mapping of sections"])
    errors: list[str] = []
    subst = Substitution(os.environ if env is None else env)
    raw = subst.run(raw)
    parts: dict[str, Any] = {}
    for key, value in raw.items():
        _convert_section(str(key), value, parts, errors)
    _check_references(parts, errors)  # also beside other errors: report as much as possible at once
    errors = subst.finish(errors)
    if errors:
        raise ConfigError(errors)
    if path and isinstance(parts.get("storage"), StorageConfig):
        parts["storage"] = resolve_storage(parts["storage"], path)
    return Config(**parts, path=path)


def resolve_storage(storage: StorageConfig, config_path: str) -> StorageConfig:
    """``storage`` with a relative SQLite path made absolute against the config file's directory."""
    if not storage.url.startswith("sqlite:///") or Path(storage.sqlite_path).is_absolute():
        return storage
    base = Path(config_path).resolve().parent
    path = os.path.normpath(base / storage.sqlite_path)
    return msgspec.structs.replace(storage, url=f"sqlite:///{path}")


def _convert_section(key: str, value: Any, parts: dict[str, Any], errors: list[str]) -> None:
    if key in _SECTIONS:
        parts[key] = _convert(value if value is not None else {}, _SECTIONS[key], key, errors)
    elif key in _MAPS:
        parts[key] = _convert_map(value, _MAPS[key], key, errors)
    elif key == "routes":
        parts[key] = _convert_routes(value, errors)
    elif key == "reports":
        parts[key] = _convert_list(value, ReportConfig, key, errors)
    else:
        close = _close_match(key, [*_SECTIONS, *_MAPS, "routes", "reports"])
        errors.append(f"{key}: unknown section{close}")


def _close_match(word: str, choices: list[str]) -> str:
    import difflib

    found = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""


def _convert(value: Any, type_: Any, where: str, errors: list[str]) -> Any:
    try:
        return msgspec.convert(value, type_, dec_hook=_dec_hook, str_keys=True, strict=False)
    except msgspec.ValidationError as exc:
        errors.append(_format_error(where, str(exc), type_))
        return None


_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(.+)`$")
_BAD_TAG = re.compile(r"^Invalid value '(.*)'$")
_KEYED = re.compile(r"^([a-z_]+): (.+)$", re.S)


def _format_error(where: str, message: str, type_: Any) -> str:
    text, _, at = message.rpartition(" - at `")
    if not text:
        text, at = message, "$`"
    path = where + at.rstrip("`").removeprefix("$")
    if match := _UNKNOWN_FIELD.match(text):
        key = match[1]
        return f"{path}.{key}: unknown key{_close_match(key, _field_names(type_))}"
    if (match := _BAD_TAG.match(text)) and path.endswith(".type"):
        return f"{path}: unknown type {match[1]!r} (one of: {', '.join(_tags(type_))})"
    if match := _KEYED.match(text):  # a __post_init__ check that names its key
        return f"{path}.{match[1]}: {match[2]}"
    return f"{path}: {text}"


def _members(type_: Any) -> list[Any]:
    return list(getattr(type_, "__args__", None) or [type_])


def _field_names(type_: Any) -> list[str]:
    names: list[str] = []
    for member in _members(type_):
        if isinstance(member, type) and issubclass(member, msgspec.Struct):
            names += [f.encode_name for f in msgspec.structs.fields(member)]
    return names


def _tags(type_: Any) -> list[str]:
    return [str(m.__struct_config__.tag) for m in _members(type_) if hasattr(m, "__struct_config__")]


def _convert_map(value: Any, type_: Any, where: str, errors: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{where}: expected a mapping of name -> {where[:-1]}")
        return {}
    out = {}
    for name, item in value.items():
        if not _NAME.match(str(name)):
            errors.append(f"{where}.{name}: names may use letters, digits, '_', '-' and '.'")
        out[str(name)] = _convert(item, type_, f"{where}.{name}", errors)
    return out


def _convert_routes(value: Any, errors: list[str]) -> list[RouteConfig]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append("routes: expected a list of routes")
        return []
    return [_convert(item, RouteConfig, f"routes[{i}]", errors) for i, item in enumerate(value)]


def _convert_list(value: Any, type_: Any, where: str, errors: list[str]) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(f"{where}: expected a list")
        return []
    return [_convert(item, type_, f"{where}[{i}]", errors) for i, item in enumerate(value)]


def _check_references(parts: dict[str, Any], errors: list[str]) -> None:
    sinks = parts.get("sinks") or {}
    seen: set[str] = set()
    for i, route in enumerate(parts.get("routes") or []):
        if route is None:  # its own errors are already reported
            continue
        if route.name in seen:
            errors.append(f"routes[{i}].name: duplicate route name {route.name!r}")
        seen.add(route.name)
        for j, target in enumerate(route.targets):
            if target.sink not in sinks:
                close = _close_match(target.sink, list(sinks))
                errors.append(f"routes[{i}].to[{j}]: unknown sink {target.sink!r}{close}")
        _check_sources(route, f"routes[{i}]", parts, errors)
    from service.batches.digests import check_digest_targets
    from service.batches.reports import check_report_references

    check_digest_targets(parts.get("routes") or [], sinks, errors)
    check_report_references(parts.get("reports") or [], sinks, errors)


def _check_sources(route: RouteConfig, where: str, parts: dict[str, Any], errors: list[str]) -> None:
    """Every name in a route's ``sources`` is a configured source (or ``ponte``, Ponte's own)."""
    known = [*(parts.get("sources") or {}), "ponte"]
    for k, name in enumerate(route.sources or []):
        if name not in known:
            close = _close_match(name, known)
            errors.append(f"{where}.sources[{k}]: unknown source {name!r}{close}")
