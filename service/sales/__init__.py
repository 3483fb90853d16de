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
__all__ = ["PAYMENT_METHODS", "PLATFORMS", "SALE_PATHS", "STATUSES", "data_of", "has_sale", "sale_of"]


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
