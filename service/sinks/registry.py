"""Every sink type Ponte has: one registration line each, and ``build_sink``.

Adding a sink type: its config Struct in ``service.config.schema`` (and the ``SinkConfig``
union), a module here that ends with its ``KIND`` record, and one line below. A test
(``tests/test_sink_kinds.py``) fails while a type of the union has no complete record.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from service.config.schema import FileConfig, SinkConfig, sink_kind
from service.render.formats import FORMATS, Format
from service.sinks import (
    discord,
    email,
    file,
    google_sheets,
    meta_capi,
    slack,
    teams,
    telegram,
    webhook,
    whatsapp,
)
from service.sinks.base import Context, Sink, SinkKind

KINDS: dict[str, SinkKind[Any]] = {
    kind.name: kind
    for kind in (
        slack.KIND,
        email.KIND,
        webhook.KIND,
        file.KIND,
        whatsapp.KIND,
        google_sheets.KIND,
        telegram.KIND,
        discord.KIND,
        teams.KIND,
        meta_capi.KIND,
    )
}


def kind_of(cfg: SinkConfig) -> SinkKind[Any]:
    """The record of a sink config's type."""
    return KINDS[sink_kind(cfg)]


def format_of(cfg: SinkConfig) -> Format:
    """The message format a sink receives: its type's, or a file sink's ``format``."""
    fmt = kind_of(cfg).format
    return FORMATS[cfg.format] if fmt is None and isinstance(cfg, FileConfig) else _known(fmt)


def message_kind(cfg: SinkConfig) -> str:
    """The name of the format a sink receives (``slack``, …; a file sink's ``format``)."""
    return format_of(cfg).name


def _known(fmt: Format | None) -> Format:
    if fmt is None:
        raise ValueError("a sink kind without a format must name one in its config")
    return fmt


def build_sink(name: str, cfg: SinkConfig, *, http: aiohttp.ClientSession, timeout: float) -> Sink:
    """The sink for ``cfg``; ``timeout`` (delivery.timeout) unless the sink sets its own."""
    limit = cfg.timeout if cfg.timeout is not None else timeout
    return kind_of(cfg).build(name, cfg, Context(http=http, timeout=limit))
