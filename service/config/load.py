"""Reading a config: YAML -> the Structs of ``service.config.schema``, every problem at once.

Loading is strict: an unknown key, a wrong type or a missing ``${VAR}`` is an error
naming its YAML path (``sinks.vendas.webhook_url``). Every section is checked on its
own, so one run reports every problem at once. Text that reads as a number or boolean
is accepted where one is expected, so ``port: ${PORT}`` works.

Beyond what a Struct checks itself, each route's digests and each report are checked here
as they are read (their rules live with them, in ``service.batches``), and so are the
references between sections (unknown sinks and sources, duplicate names).
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from service.batches.digests import check_digest_targets, validate_digest
from service.batches.reports import check_report_references, validate_report
from service.config.schema import (
    DEFAULT_PATH,
    Config,
    DeliveryConfig,
    FileConfig,
    MessagesConfig,
    ReportConfig,
    RouteConfig,
    ServerConfig,
    SinkConfig,
    SourceConfig,
    StorageConfig,
)
from service.config.source import Substitution, read_yaml
from service.errors import ConfigError
from service.timeparse import Duration, parse_duration


def _dec_hook(type_: type, obj: Any) -> Any:
    if type_ is Duration:
        return parse_duration(obj)
    raise NotImplementedError


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
    if path and parts.get("sinks"):
        parts["sinks"] = {n: resolve_file_sink(c, path) for n, c in parts["sinks"].items()}
    return Config(**parts, path=path)


def resolve_storage(storage: StorageConfig, config_path: str) -> StorageConfig:
    """``storage`` with a relative SQLite path made absolute against the config file's directory."""
    if not storage.url.startswith("sqlite:///") or Path(storage.sqlite_path).is_absolute():
        return storage
    base = Path(config_path).resolve().parent
    path = os.path.normpath(base / storage.sqlite_path)
    return msgspec.structs.replace(storage, url=f"sqlite:///{path}")


def resolve_file_sink(cfg: Any, config_path: str) -> Any:
    """A file sink's relative ``path`` made absolute against the config file's directory."""
    if not isinstance(cfg, FileConfig) or Path(cfg.path).is_absolute():
        return cfg
    base = Path(config_path).resolve().parent
    return msgspec.structs.replace(cfg, path=os.path.normpath(base / cfg.path))


def _convert_section(key: str, value: Any, parts: dict[str, Any], errors: list[str]) -> None:
    if key in _SECTIONS:
        parts[key] = _convert(value if value is not None else {}, _SECTIONS[key], key, errors)
    elif key in _MAPS:
        parts[key] = _convert_map(value, _MAPS[key], key, errors)
    elif key == "routes":
        parts[key] = _convert_routes(value, errors)
    elif key == "reports":
        parts[key] = _convert_reports(value, errors)
    else:
        close = _close_match(key, [*_SECTIONS, *_MAPS, "routes", "reports"])
        errors.append(f"{key}: unknown section{close}")


def _close_match(word: str, choices: list[str]) -> str:
    found = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""


def _convert(value: Any, type_: Any, where: str, errors: list[str]) -> Any:
    try:
        return msgspec.convert(value, type_, dec_hook=_dec_hook, str_keys=True, strict=False)
    except msgspec.ValidationError as exc:
        errors.append(_missing_keys(where, value, type_) or _format_error(where, str(exc), type_))
        return None


def _missing_keys(where: str, value: Any, type_: Any) -> str | None:
    """Every required key absent from a mapping, in one line (msgspec names only the first)."""
    if not isinstance(value, dict):
        return None
    members = [m for m in _members(type_) if isinstance(m, type) and issubclass(m, msgspec.Struct)]
    tag = value.get("type")
    chosen = [m for m in members if len(members) == 1 or m.__struct_config__.tag == tag]
    if len(chosen) != 1:
        return None
    fields = msgspec.structs.fields(chosen[0])
    missing = [f"`{f.encode_name}`" for f in fields if f.required and f.encode_name not in value]
    if not missing:
        return None
    return f"{where}: missing key{'s' if len(missing) > 1 else ''} {', '.join(missing)}"


_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(.+)`$")
_BAD_TAG = re.compile(r"^Invalid value '(.*)'$")
_BAD_ENUM = re.compile(r"^Invalid enum value (.*)$")
_MISSING = re.compile(r"^Object missing required field `(.+)`$")
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
    if match := _MISSING.match(text):
        return f"{path}: missing key `{match[1]}`"
    if match := _BAD_ENUM.match(text):
        allowed = _allowed(type_, path.rpartition(".")[2])
        return f"{path}: unknown value {match[1]}" + (f" (one of: {', '.join(allowed)})" if allowed else "")
    if match := _KEYED.match(text):  # a __post_init__ check that names its key
        return f"{path}.{match[1]}: {match[2]}"
    return f"{path}: {text}"


def _allowed(type_: Any, key: str, depth: int = 3) -> list[str]:
    """The values a ``Literal`` field named ``key`` takes, found in ``type_`` or its parts."""
    for member in _members(type_):
        if not (isinstance(member, type) and issubclass(member, msgspec.Struct)) or depth == 0:
            continue
        for f in msgspec.structs.fields(member):
            inner = _unwrapped(f.type)
            if f.encode_name == key and typing.get_origin(inner) is Literal:
                return [str(v) for v in typing.get_args(inner)]
            if found := _allowed(inner, key, depth - 1):
                return found
    return []


def _unwrapped(type_: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` as ``X``."""
    if typing.get_origin(type_) is Annotated:
        type_ = typing.get_args(type_)[0]
    args = [a for a in typing.get_args(type_) if a is not type(None)]
    return args[0] if typing.get_origin(type_) in (typing.Union, types.UnionType) and len(args) == 1 else type_


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


def _convert_routes(value: Any, errors: list[str]) -> list[RouteConfig | None]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append("routes: expected a list of routes")
        return []
    return [_checked_route(_convert(item, RouteConfig, f"routes[{i}]", errors), f"routes[{i}]", errors)
            for i, item in enumerate(value)]


def _checked_route(route: RouteConfig | None, where: str, errors: list[str]) -> RouteConfig | None:
    """The route, or None (with its error) when a target's digest cannot work as written."""
    for j, target in enumerate(route.targets if route is not None else []):
        if target.digest is not None:
            try:
                validate_digest(target.digest)
            except ValueError as exc:
                errors.append(_format_error(where, f"{exc} - at `$.to[{j}].digest`", RouteConfig))
                return None
    return route


def _checked_report(report: ReportConfig | None, where: str, errors: list[str]) -> ReportConfig | None:
    """The report, or None (with its error) when it cannot be scheduled."""
    if report is not None:
        try:
            validate_report(report)
        except ValueError as exc:
            errors.append(_format_error(where, str(exc), ReportConfig))
            return None
    return report


def _convert_reports(value: Any, errors: list[str]) -> list[ReportConfig | None]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append("reports: expected a list")
        return []
    return [_checked_report(_convert(item, ReportConfig, f"reports[{i}]", errors), f"reports[{i}]", errors)
            for i, item in enumerate(value)]


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
    check_digest_targets(parts.get("routes") or [], sinks, errors)
    check_report_references(parts.get("reports") or [], sinks, errors)


def _check_sources(route: RouteConfig, where: str, parts: dict[str, Any], errors: list[str]) -> None:
    """Every name in a route's ``sources`` is a configured source (or ``ponte``, Ponte's own)."""
    known = [*(parts.get("sources") or {}), "ponte"]
    for k, name in enumerate(route.sources or []):
        if name not in known:
            close = _close_match(name, known)
            errors.append(f"{where}.sources[{k}]: unknown source {name!r}{close}")
