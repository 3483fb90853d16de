"""The sinks: one module per kind, registered by one ``case`` line in ``build_sink``.

Adding a sink: a config Struct in ``service.config``, a module here with a class that has
``name``, ``kind``, ``send`` and ``close`` (see ``base.Sink``), and one ``case`` below.
"""

from __future__ import annotations

from typing import assert_never

import aiohttp

from service.config.schema import (
    DiscordConfig,
    EmailConfig,
    FileConfig,
    GoogleSheetsConfig,
    SinkConfig,
    SlackConfig,
    TeamsConfig,
    TelegramConfig,
    WebhookConfig,
    WhatsAppConfig,
)
from service.sinks.base import Outgoing, SendResult, Sink
from service.sinks.discord import DiscordSender
from service.sinks.email import EmailSender
from service.sinks.file import FileSender
from service.sinks.google_sheets import GoogleSheetsSender
from service.sinks.slack import SlackSender
from service.sinks.teams import TeamsSender
from service.sinks.telegram import TelegramSender
from service.sinks.webhook import WebhookSender
from service.sinks.whatsapp import WhatsAppSender

__all__ = ["Outgoing", "SendResult", "Sink", "build_sink"]


def build_sink(
    name: str, cfg: SinkConfig, *, http: aiohttp.ClientSession, timeout: float
) -> Sink:
    """The sink for ``cfg``; ``timeout`` (delivery.timeout) unless the sink sets its own."""
    limit = cfg.timeout if cfg.timeout is not None else timeout
    match cfg:
        case SlackConfig():
            return SlackSender(name, cfg, http=http, timeout=limit)
        case EmailConfig():
            return EmailSender(name, cfg, timeout=limit)
        case WebhookConfig():
            return WebhookSender(name, cfg, http=http, timeout=limit)
        case FileConfig():
            return FileSender(name, cfg)
        case WhatsAppConfig():
            return WhatsAppSender(name, cfg, http=http, timeout=limit)
        case GoogleSheetsConfig():
            return GoogleSheetsSender(name, cfg, http=http, timeout=limit)
        case TelegramConfig():
            return TelegramSender(name, cfg, http=http, timeout=limit)
        case DiscordConfig():
            return DiscordSender(name, cfg, http=http, timeout=limit)
        case TeamsConfig():
            return TeamsSender(name, cfg, http=http, timeout=limit)
        case _:
            assert_never(cfg)
