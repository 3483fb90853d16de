"""What a sink receives for a delivery: the route's template, else the built-in message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.config.schema import TokenSourceConfig
from service.render.batch_messages import is_batch, render_batch, templated
from service.render.builtin.messages import builtin_template
from service.sales import body_doc, message_data, sale_of
from service.store.records import Claimed
from service.timeparse import iso

if TYPE_CHECKING:
    from service.config.settings import Settings


def context_for(claimed: Claimed, hidden: str | None = None) -> dict[str, Any]:
    """The variables a template sees: the envelope plus Ponte's own facts about the event.

    ``hidden``: the dotted path of a token its source reads from the body, kept out of
    ``data`` (the raw body keeps it).
    """
    doc = body_doc(claimed.body)
    return {
        "id": doc.get("id", claimed.external_id),
        "event": claimed.event,
        "sentDate": doc.get("sentDate", claimed.sent_date),
        "data": message_data(claimed.event, doc, hidden),
        "sale": sale_of(claimed.event, doc),
        "source": claimed.source,
        "event_id": claimed.event_id,
        "received_at": iso(claimed.received_at),
    }


def message_for(settings: Settings, claimed: Claimed, kind: str) -> dict[str, Any] | None:
    """Render this delivery's message for a sink of ``kind`` (None: forward the raw body)."""
    template = settings.templates.get((claimed.route, claimed.sink))
    if is_batch(claimed.source, claimed.event) and not templated(settings, claimed, template):
        return render_batch(body_doc(claimed.body), kind)  # built-in digest / report message
    if template is None:
        template = builtin_template(claimed.event, kind, timezone=settings.config.messages.timezone)
    if template is None:
        return None
    source = settings.config.sources.get(claimed.source)
    hidden = source.field if isinstance(source, TokenSourceConfig) else None
    rendered = template.render(context_for(claimed, hidden))
    return rendered if isinstance(rendered, dict) else {"body": rendered}

