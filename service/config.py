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
import yaml

from service.errors import ConfigError

DEFAULT_PATH = "config/ponte.yaml"


class Duration(float):
    """Seconds, written in the config as ``500ms``, ``5s``, ``1m``, ``2h`` or ``1d``."""


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(value: object) -> Duration:
    """Turn ``"5s"``/``"1m"``/a number of seconds into a Duration, or raise ValueError."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return Duration(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"invalid duration {value!r} (use e.g. 500ms, 5s, 1m, 2h, 1d)")
    return Duration(float(match[1]) * _UNITS[match[2]])


def _dec_hook(type_: type, obj: Any) -> Any:
    if type_ is Duration:
        return parse_duration(obj)
    raise NotImplementedError


class Base(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Strict base: unknown keys are errors."""


Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


class ServerConfig(Base):
    host: str = "127.0.0.1"
    port: Port = 8080
    max_body_bytes: Positive = 1_048_576
    admin_token: str | None = None
    read_timeout: Duration = Duration(30)


class StorageConfig(Base):
    url: str = "sqlite:///data/ponte.db"
    retention_days: Positive = 30
    lease: Duration = Duration(30)  # PostgreSQL: a dead replica's claims return after this

    @property
    def sqlite_path(self) -> str:
        """The file path of a ``sqlite:///path`` URL (relative to the working directory)."""
        return self.url.removeprefix("sqlite:///")

    def __post_init__(self) -> None:
        if self.url.startswith(("postgresql://", "postgres://")):
            return
        if not self.url.startswith("sqlite:///") or self.url == "sqlite:///":
            raise ValueError("url: must look like sqlite:///path/to/ponte.db (sqlite:////abs/path for an absolute path)"
                             " or postgresql://user:pass@host:5432/ponte")


# --- sources -----------------------------------------------------------------------


class SourceBase(Base, tag_field="type"):
    secrets: list[str] = []


class EduzzSource(SourceBase, tag="eduzz", kw_only=True):
    """Eduzz: ``x-signature`` = lowercase hex HMAC-SHA256(secret, raw body)."""


class HmacSource(SourceBase, tag="hmac", kw_only=True):
    """Any provider that signs the raw body with an HMAC in one header."""

    header: str
    algorithm: Literal["sha256", "sha1", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""
    event_header: str | None = None
    id_header: str | None = None


SourceConfig = EduzzSource | HmacSource


# --- sinks -------------------------------------------------------------------------


class SinkBase(Base, tag_field="type"):
    enabled: bool = True
    concurrency: Positive = 4
    rate_per_second: Annotated[float, msgspec.Meta(gt=0)] | None = None
    timeout: Duration | None = None
    ordered_by: str | None = None
    breaker_threshold: Positive = 5
    breaker_cooldown: Duration = Duration(60)


class SlackSink(SinkBase, tag="slack", kw_only=True):
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


class EmailSink(SinkBase, tag="email", kw_only=True):
    host: str
    port: Port = 587
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: str | None = None
    from_: str = msgspec.field(name="from")
    to: Annotated[list[str], msgspec.Meta(min_length=1)]


class WebhookSink(SinkBase, tag="webhook", kw_only=True):
    url: str
    signing_secret: str | None = None
    headers: dict[str, str] = {}
    follow_redirects: bool = False

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url: must start with http:// or https://")
        if self.signing_secret is not None and not _is_whsec(self.signing_secret):
            raise ValueError('signing_secret: must be in the "whsec_<base64>" form')


def _is_whsec(secret: str) -> bool:
    import base64
    import binascii

    if not secret.startswith("whsec_"):
        return False
    try:
        return bool(base64.b64decode(secret.removeprefix("whsec_"), validate=True))
    except (binascii.Error, ValueError):
        return False


class FileSink(SinkBase, tag="file", kw_only=True):
    """Appends one JSON line per delivery; ``format`` picks whose built-in message it writes."""

    path: str
    format: Literal["file", "slack", "email", "webhook"] = "file"


SinkConfig = SlackSink | EmailSink | WebhookSink | FileSink


# --- routes, delivery, messages -----------------------------------------------------


class Target(Base, kw_only=True):
    sink: str
    template: dict[str, Any] | None = None


class Route(Base, kw_only=True):
    name: str
    events: Annotated[list[str], msgspec.Meta(min_length=1)]
    where: dict[str, Any] = {}
    to: Annotated[list[str | Target], msgspec.Meta(min_length=1)]
    stop: bool = False

    @property
    def targets(self) -> list[Target]:
        """``to`` with plain sink names turned into Targets."""
        return [Target(sink=t) if isinstance(t, str) else t for t in self.to]


DEFAULT_SCHEDULE = ["5s", "1m", "5m", "30m", "2h", "5h", "10h", "10h", "10h"]


class DeliveryConfig(Base):
    max_attempts: Positive = 10
    retry_schedule: Annotated[list[Duration], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [parse_duration(s) for s in DEFAULT_SCHEDULE]
    )
    timeout: Duration = Duration(10)
    concurrency: Positive = 32
    shutdown_grace: Duration = Duration(10)


class MessagesConfig(Base):
    timezone: str = "America/Sao_Paulo"

    def __post_init__(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None


class Config(Base):
    server: ServerConfig = ServerConfig()
    storage: StorageConfig = StorageConfig()
    sources: dict[str, SourceConfig] = {}
    sinks: dict[str, SinkConfig] = {}
    routes: list[Route] = []
    delivery: DeliveryConfig = DeliveryConfig()
    messages: MessagesConfig = MessagesConfig()
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
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


def resolve_path(explicit: str | None) -> str:
    """``--config``, else ``$PONTE_CONFIG``, else ``config/ponte.yaml``."""
    return explicit or os.environ.get("PONTE_CONFIG") or DEFAULT_PATH


def load_config(path: str, env: dict[str, str] | None = None) -> Config:
    """Read, substitute ``${VAR}`` and validate a config file; raise ConfigError with all problems."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config file ({exc.strerror})"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: invalid YAML: {exc}"]) from None
    return parse_config(raw if raw is not None else {}, env=env, path=path)


def parse_config(raw: Any, *, env: dict[str, str] | None = None, path: str = "") -> Config:
    """Validate an already-parsed YAML document; raise ConfigError with every problem."""
    if not isinstance(raw, dict):
        raise ConfigError(["(top level): expected a mapping of sections"])
    errors: list[str] = []
    raw = _substitute(raw, os.environ if env is None else env, "", errors)
    parts: dict[str, Any] = {}
    for key, value in raw.items():
        _convert_section(str(key), value, parts, errors)
    _check_references(parts, errors)  # also beside other errors: report as much as possible at once
    if errors:
        raise ConfigError(errors)
    return Config(**parts, path=path)


def _convert_section(key: str, value: Any, parts: dict[str, Any], errors: list[str]) -> None:
    if key in _SECTIONS:
        parts[key] = _convert(value if value is not None else {}, _SECTIONS[key], key, errors)
    elif key in _MAPS:
        parts[key] = _convert_map(value, _MAPS[key], key, errors)
    elif key == "routes":
        parts[key] = _convert_routes(value, errors)
    else:
        close = _close_match(key, [*_SECTIONS, *_MAPS, "routes"])
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


def _convert_routes(value: Any, errors: list[str]) -> list[Route]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append("routes: expected a list of routes")
        return []
    return [_convert(item, Route, f"routes[{i}]", errors) for i, item in enumerate(value)]


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


def _substitute(node: Any, env: Any, where: str, errors: list[str]) -> Any:
    """Expand ``${VAR}``; a value that is only a variable expanding to "" counts as unset."""
    if isinstance(node, str):
        expanded = _expand(node, env, where, errors)
        return None if expanded == "" and _VAR.fullmatch(node.strip()) else expanded
    if isinstance(node, dict):
        items = ((k, _substitute(v, env, _join(where, k), errors)) for k, v in node.items())
        return {k: v for k, v in items if v is not None or node[k] is None}
    if isinstance(node, list):
        items = [_substitute(v, env, f"{where}[{i}]", errors) for i, v in enumerate(node)]
        return [v for v, raw in zip(items, node) if v is not None or raw is None]
    return node


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def _expand(text: str, env: Any, where: str, errors: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match[1], match[2]
        if name in env:
            return env[name]
        if default is not None:
            return default
        errors.append(f"{where}: environment variable {name} is not set")
        return ""

    return _VAR.sub(replace, text)
