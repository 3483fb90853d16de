"""Small pieces the chat sinks (telegram, discord, teams) share: reading answers and messages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec

from service.config.schema import DiscordConfig, TeamsConfig, TelegramConfig
from service.errors import PermanentSinkError

JSON = "application/json; charset=utf-8"
CHAT_CONFIGS = (TelegramConfig, DiscordConfig, TeamsConfig)


def seconds(value: Any) -> float | None:
    """A non-negative number of seconds from a JSON value, else None."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    return float(value) if ok else None


def structured(value: Any, label: str, key: str) -> Any:
    """A rendered ``embeds``/``card`` value: JSON text is decoded; PermanentSinkError if invalid."""
    if not isinstance(value, str):
        return value
    try:
        return msgspec.json.decode(value)
    except msgspec.DecodeError:
        raise PermanentSinkError(f"{label}: {key} is not valid JSON") from None


def chat_warnings(name: str, cfg: TelegramConfig | DiscordConfig | TeamsConfig) -> list[str]:
    """Valid but risky chat sink settings: a token sent in clear, a Teams URL without ``sig=``."""
    found: list[str] = []
    key, url = (
        ("api_url", cfg.api_url)
        if isinstance(cfg, TelegramConfig)
        else ("webhook_url", cfg.webhook_url)
    )
    host = urlsplit(url).hostname or ""
    if url.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        found.append(f"sinks.{name}.{key}: plain http:// sends the credential unencrypted")
    if key == "webhook_url" and "workflows" in url and "sig=" not in url:
        found.append(f"sinks.{name}.webhook_url: no sig= in the URL; copy the whole Workflows URL")
    return found
