"""What a sink receives for a delivery: the route's template, else the built-in message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from service.render.batch_messages import is_batch, render_batch, templated
from service.render.builtin.messages import builtin_template
from service.sales import data_of, sale_of
from service.store.records import Claimed
from service.timeparse import iso

if TYPE_CHECKING:
    from service.config.settings import Settings


def context_for(claimed: Claimed) -> dict[str, Any]:
    """The variables a template sees: the envelope plus Ponte's own facts about the event."""
    doc = _decode(claimed.body)
    return {
        "id": doc.get("id", claimed.external_id),
        "event": claimed.event,
        "sentDate": doc.get("sentDate", claimed.sent_date),
        "data": data_of(claimed.event, doc),
        "sale": sale_of(claimed.event, doc),
        "source": claimed.source,
        "event_id": claimed.event_id,
        "received_at": iso(claimed.received_at),
    }


def message_for(settings: Settings, claimed: Claimed, kind: str) -> dict[str, Any] | None:
    """Render this delivery's message for a sink of ``kind`` (None: forward the raw body)."""
    template = settings.templates.get((claimed.route, claimed.sink))
    if is_batch(claimed.source, claimed.event) and not templated(settings, claimed, template):
        return render_batch(_decode(claimed.body), kind)  # built-in digest / report message
    if template is None:
        template = builtin_template(claimed.event, kind, timezone=settings.config.messages.timezone)
    if template is None:
        return None
    rendered = template.render(context_for(claimed))
    return rendered if isinstance(rendered, dict) else {"body": rendered}


def _decode(body: bytes) -> dict[str, Any]:
    try:
        doc = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}
