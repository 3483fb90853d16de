"""What a chat channel would receive for a rendered message: the provider's request body.

``ponte preview`` and ``ponte routes test`` show this for telegram, discord and teams (the
message after cutting to the provider's limits, with the fields Ponte adds) and for
meta_capi (the finished, hashed server event); other sink kinds show the rendered message
itself. Credentials are never part of a body.
"""

from __future__ import annotations

from typing import Any

from service.config.schema import (
    DiscordConfig,
    MetaCapiConfig,
    SinkConfig,
    TeamsConfig,
    TelegramConfig,
)
from service.errors import PermanentSinkError
from service.sinks import discord, meta_capi, teams, telegram
from service.sinks.base import Outgoing


def request_body(
    cfg: SinkConfig, message: dict[str, Any], event: str = "", source: str = "", body: bytes = b""
) -> Any:
    """The JSON body a chat or meta_capi sink would POST for ``message``; else ``message``."""
    out = Outgoing(delivery_id=0, event_id=0, event=event, source=source, body=body,
                   message=message, attempt=1)  # fmt: skip
    try:
        if isinstance(cfg, TelegramConfig):
            return telegram.build_payload(cfg, out)
        if isinstance(cfg, DiscordConfig):
            return discord.build_payload(out)
        if isinstance(cfg, TeamsConfig):
            return teams.build_payload(out)
        if isinstance(cfg, MetaCapiConfig):
            return meta_capi.preview(cfg, out)
    except PermanentSinkError as exc:
        return {"error": str(exc)}
    return message
