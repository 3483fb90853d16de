"""What ``ponte preview`` / ``routes test`` add for whatsapp and google_sheets sinks.

The rendered message alone does not say everything these sinks send: a whatsapp sink's
recipients come from its own ``to`` (rendered and normalised per event), and a
google_sheets row gains the ``ID do evento`` column. ``sent_extras`` adds them (``to``,
``row``) beside the rendered keys, built by the same functions the sinks use.
"""

from __future__ import annotations

from typing import Any

from service.config.schema import GoogleSheetsConfig, SinkConfig, WhatsAppConfig
from service.errors import SinkError
from service.sinks.base import Outgoing
from service.sinks.google_sheets import build_row
from service.sinks.whatsapp import compile_recipients, recipients


def sent_extras(
    cfg: SinkConfig, body: bytes, event: str, source: str, message: dict[str, Any] | None
) -> dict[str, Any]:
    """``{"to": [...]}`` for whatsapp, ``{"row": {...}}`` for google_sheets, else ``{}``."""
    out = Outgoing(delivery_id=0, event_id=0, event=event, source=source, body=body,
                   message=message, attempt=1)  # fmt: skip
    try:
        if isinstance(cfg, WhatsAppConfig):
            return {"to": recipients(compile_recipients(cfg.to, "to"), out)}
        if isinstance(cfg, GoogleSheetsConfig):
            row = build_row(out)
            return {"row": dict(zip(row.headers, row.values, strict=True))}
    except SinkError as exc:
        return {"error": str(exc)}
    return {}
