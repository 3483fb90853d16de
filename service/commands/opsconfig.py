"""What operator commands need from the config: ``storage`` only (plus a best-effort time zone
and the sink names), so they work in a shell without the service's variables, or right
after a bad edit of another section: that is when an operator needs to look."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.config.load import parse_config
from service.config.schema import MessagesConfig, StorageConfig
from service.config.settings import Settings, build_settings
from service.config.source import read_yaml
from service.errors import ConfigError


class CliError(Exception):
    """A problem the CLI reports in one line and exits 1 for (no database, no token…)."""


@dataclass(frozen=True)
class OpsConfig:
    """The parts of a config file the operator commands read."""

    path: str
    storage: StorageConfig
    timezone: str = MessagesConfig().timezone
    retention_days: int = 30
    sinks: dict[str, dict[str, Any]] = field(default_factory=dict)  # as written: may be invalid


def load_ops_config(path: str) -> OpsConfig:
    """Read ``path``; only ``storage`` must be valid (other sections may be broken or unset)."""
    raw = _sections(path)
    storage = parse_config({"storage": raw.get("storage")}, path=path).storage
    sinks: dict[Any, Any] = raw["sinks"] if isinstance(raw.get("sinks"), dict) else {}
    return OpsConfig(
        path,
        storage,
        _timezone(raw),
        storage.retention_days,
        {str(k): v if isinstance(v, dict) else {} for k, v in sinks.items()},
    )


def best_effort_timezone(path: str) -> str:
    """The configured time zone, or the default when the file cannot say."""
    try:
        return load_ops_config(path).timezone
    except ConfigError:
        return MessagesConfig().timezone


def _timezone(raw: dict[str, Any]) -> str:
    try:
        return parse_config({"messages": raw.get("messages")}).messages.timezone
    except ConfigError:
        return MessagesConfig().timezone


def existing_database(cfg: OpsConfig) -> str:
    """The database file, which must exist: operator commands never create one."""
    if not cfg.storage.url.startswith("sqlite:///"):
        return cfg.storage.url
    path = cfg.storage.sqlite_path
    if not Path(path).is_file():
        raise CliError(
            f"no database at {path} (storage.url in {cfg.path}; a relative path is "
            "relative to the config file's directory). Nothing was created."
        )
    return path


def service_running(database: str) -> bool:
    """True when a ``ponte serve`` holds the database's lock file."""
    try:
        fd = os.open(database + ".lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def preview_settings(path: str, sink: str) -> Settings:
    """Settings for previewing ``sink``: every other sink is stood in for by a file sink, and
    ``server`` and ``sources`` are left out, so their variables and mistakes do not matter.
    Routes keep their order, ``stop`` and targets, so the plan is the real one."""
    raw = _sections(path)
    sinks: dict[Any, Any] = raw["sinks"] if isinstance(raw.get("sinks"), dict) else {}
    if sink not in sinks:
        raise ConfigError([f"sinks: no sink {sink!r} in {path}"])
    stand_in = {"type": "file", "path": os.devnull}
    kept = {k: v for k, v in raw.items() if k not in ("server", "sources", "sinks")}
    kept["sinks"] = {name: cfg if name == sink else stand_in for name, cfg in sinks.items()}
    return build_settings(parse_config(kept, path=path))


def _sections(path: str) -> dict[str, Any]:
    """The config file's top-level mapping, ``${VAR}``s not yet expanded; ConfigError if not one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config file ({exc.strerror})"]) from None
    raw = read_yaml(text, path, strict_keys=False)
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}: expected a mapping of sections"])
    return raw
