"""How a message format escapes what ``{{ }}`` prints (never the text the author wrote).

An ``Escaping`` is part of a format's record (``service.render.formats``); templates read
it there. The formats use these:

- ``SLACK``: ``& < >`` become entities, so a payload cannot ping ``<!channel>`` or add a
  link (``slack_link`` builds safe links);
- ``EMAIL``: leaves under an ``html`` key are HTML-autoescaped, the ``subject`` leaf gets
  control characters replaced by spaces, and every leaf renders to text;
- ``WHATSAPP``: WhatsApp markup made inert (``whatsapp_format``);
- ``TELEGRAM``: every leaf HTML-autoescaped (Telegram's HTML parse mode);
- ``DISCORD``, ``TEAMS``: Markdown specials get a backslash, except under ``url``-like keys;
- ``PLAIN`` (webhook, file, google_sheets): none (Sheets rows are sent RAW).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.render.chatformat import escape_markdown, escape_teams
from service.render.filters import SlackText, slack_escape
from service.render.whatsapp_format import whatsapp_finalize

Finalize = Callable[[Any], Any]


def plain(value: Any) -> Any:
    """No escaping: ``None`` prints as ""."""
    return "" if value is None else value


def _slack(value: Any) -> Any:
    if isinstance(value, SlackText):
        return value
    return slack_escape("" if value is None else str(value))


def _discord(value: Any) -> Any:
    return escape_markdown("" if value is None else str(value))


def _teams(value: Any) -> Any:
    return escape_teams("" if value is None else str(value))


@dataclass(frozen=True, slots=True)
class Escaping:
    """What a format does to printed values; see the module docstring for each format."""

    finalize: Finalize = plain  # every printed value goes through it
    link_finalize: Finalize | None = None  # instead, under url-like keys (Markdown formats)
    html: bool = False  # every leaf is HTML-autoescaped
    html_key: str | None = None  # leaves under this key are HTML-autoescaped
    one_line_key: str | None = None  # this leaf has control characters replaced by spaces
    natives: bool = True  # a one-expression leaf renders its native value (number, list, …)
    slack: bool = False  # strings inside native values are Slack-escaped too


PLAIN = Escaping()
SLACK = Escaping(finalize=_slack, slack=True)
EMAIL = Escaping(html_key="html", one_line_key="subject", natives=False)
WHATSAPP = Escaping(finalize=whatsapp_finalize)
TELEGRAM = Escaping(html=True)
DISCORD = Escaping(finalize=_discord, link_finalize=plain)
TEAMS = Escaping(finalize=_teams, link_finalize=plain)
