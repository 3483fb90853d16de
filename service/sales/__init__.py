"""One sale model: every sale-like event of every platform seen the same way, as ``sale.*``.

``sale_of(event, doc)`` is pure: the event name (``myeduzz.invoice_paid``,
``hotmart.purchase_approved``, ``kiwify.order_approved``) picks the platform's mapping,
which reads the decoded envelope and returns a plain mapping (or None: not a sale)::

    platform        eduzz | hotmart | kiwify
    order_id        the platform's order / invoice / transaction id (text)
    status          one of STATUSES
    amount          a number in ``currency`` units (Kiwify's cents are divided by 100)
    currency        "BRL", "USD" ...
    total           {"currency", "value"}: the amount for the ``brl`` filter
    payment_method  one of PAYMENT_METHODS, else the platform's own value lowercased
    product         the (first) product's name
    buyer           {name, email, phone, document}

Missing facts are None, never absent, so every path exists on every sale. The mapping
tables are in docs/sales.md. Nothing here runs on ingest unless a route's ``where``
reads ``sale.*`` (see ``service.sales.view``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from service.sales import eduzz, hotmart, kiwify
from service.sales.common import PAYMENT_METHODS, STATUSES

PLATFORMS = ("eduzz", "hotmart", "kiwify")
SALE_PATHS = frozenset({
    "sale", "sale.platform", "sale.order_id", "sale.status", "sale.amount", "sale.currency",
    "sale.total", "sale.total.currency", "sale.total.value", "sale.payment_method",
    "sale.product", "sale.buyer", "sale.buyer.name", "sale.buyer.email", "sale.buyer.phone",
    "sale.buyer.document",
})  # fmt: skip
NUMBER_PATHS = frozenset({"sale.amount", "sale.total.value"})

_Mapper = Callable[[str, dict[str, Any]], dict[str, Any] | None]
_BY_PREFIX: dict[str, _Mapper] = {
    "myeduzz": eduzz.sale, "sun": eduzz.sale, "hotmart": hotmart.sale, "kiwify": kiwify.sale,
}
__all__ = ["PAYMENT_METHODS", "PLATFORMS", "SALE_PATHS", "STATUSES", "body_doc", "data_of",
           "has_sale", "message_data", "sale_of"]
_ENVELOPED = ("myeduzz.", "sun.", "hotmart.")


def sale_of(event: str, doc: Any) -> dict[str, Any] | None:
    """The ``sale`` view of an event (None: the event is not a sale, or not a mapping)."""
    mapper = _BY_PREFIX.get(event.partition(".")[0])
    if mapper is None or not isinstance(doc, dict):
        return None
    return mapper(event, doc)


def has_sale(event: str) -> bool:
    """Whether events named ``event`` can have a ``sale`` (cheap: one lookup)."""
    prefix, _, rest = event.partition(".")
    if prefix == "myeduzz" or prefix == "sun":
        return rest in eduzz.EVENTS
    return prefix in _BY_PREFIX


def data_of(event: str, doc: dict[str, Any]) -> Any:
    """A template's ``data``: the envelope's, or the whole body for Kiwify (it has no envelope)."""
    if "data" not in doc and event.startswith("kiwify."):
        return kiwify.payload(doc)
    return doc.get("data")


def message_data(event: str, doc: dict[str, Any], hidden: str | None = None) -> Any:
    """``data`` for a message: as ``data_of``; a body without an envelope (a ``token`` or
    ``hmac`` platform: a form-encoded Monetizze postback, a flat JSON object) is its own
    ``data``, without the field at ``hidden`` (the dotted path of a token sent in the body)."""
    if "data" in doc or event.startswith(_ENVELOPED) or event.startswith("kiwify."):
        return data_of(event, doc)
    return _without(doc, hidden.split(".")) if hidden else doc


def _without(doc: dict[str, Any], path: list[str]) -> dict[str, Any]:
    """A copy of ``doc`` without the value at ``path`` (copies only along the path)."""
    head, rest = path[0], path[1:]
    if head not in doc:
        return doc
    inner = doc[head]
    if not rest:
        return {k: v for k, v in doc.items() if k != head}
    if not isinstance(inner, dict):
        return doc
    return {**doc, head: _without(inner, rest)}


def body_doc(body: bytes) -> dict[str, Any]:
    """A stored body as a mapping: a JSON object, else a form-encoded body (keys as sent,
    ``venda[codigo]``, as the ``token`` source reads it), else {}."""
    try:
        doc = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            return {}
    return doc if isinstance(doc, dict) else {}
