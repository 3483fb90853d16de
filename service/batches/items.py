"""Items of a digest or report: a stored event as one short pt-BR line plus its facts.

The line is the built-in message's one-line summary for the event (the ``file`` kind's
``summary``), so buyers' e-mails, documents and phones are masked as in single messages.
"""

from __future__ import annotations

from typing import Any

from service.batches.summary import counted
from service.eduzz import catalogue
from service.errors import TemplateError
from service.render.builtin.messages import builtin_template
from service.sales import body_doc, data_of, sale_of
from service.store.records import StoredItem
from service.timeparse import iso

LINE_LIMIT = 200


def decode_doc(body: bytes) -> dict[str, Any]:
    """The envelope as a mapping: a JSON object or a form-encoded body ({} when neither)."""
    return body_doc(body)


def event_name(item: StoredItem) -> str:
    """The stored event name with its app prefix restored (``invoice_paid`` -> ``myeduzz.…``)."""
    return catalogue.normalize_event_name(item.event)


def item_of(item: StoredItem, doc: dict[str, Any], timezone: str) -> dict[str, Any]:
    """One item as shown in a digest: ids, time, the one-line summary, amount and data."""
    event = event_name(item)
    found = counted(event, doc)
    money = found.money if found is not None else None
    sale = sale_of(event, doc)
    return {
        "event_id": item.event_id,
        "event": event,
        "external_id": item.external_id,
        "received_at": iso(item.received_at),
        "line": _line(item, event, doc, sale, timezone),
        "amount": None if money is None else {"currency": money[0], "value": str(money[1])},
        "data": data_of(event, doc),
        "sale": sale,
    }


def _line(
    item: StoredItem, event: str, doc: dict[str, Any], sale: dict[str, Any] | None, timezone: str
) -> str:
    context = {
        "id": doc.get("id", item.external_id),
        "event": event,
        "sentDate": doc.get("sentDate"),
        "data": data_of(event, doc),
        "sale": sale,
        "source": item.source,
        "event_id": item.event_id,
        "received_at": iso(item.received_at),
    }
    template = builtin_template(event, "file", timezone=timezone)
    try:
        rendered = template.render(context) if template is not None else {}
    except TemplateError:
        rendered = {}
    line = str(rendered.get("summary") or f"📨 {event}") if isinstance(rendered, dict) else event
    return line if len(line) <= LINE_LIMIT else line[: LINE_LIMIT - 1] + "…"
