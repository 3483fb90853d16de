"""The sales summary: figures for a period's events of every platform, kept in the report.

Every platform's sale-like events are read through the one sale model (``service.sales``):
``KINDS`` names the events that count as a paid sale, a refund, a chargeback, a
cancellation or an abandoned cart. Amounts are summed per currency with ``Decimal``: never
mixed, never converted (revenue in BRL is the ``BRL`` sum; other currencies are shown
apart). Paid sales also get a tally per platform.

Which amount counts: ``sale.amount`` in ``sale.currency``; for Eduzz the invoice's own
fields as before (refund -> ``data.refund``, else paid, price; paid and chargeback ->
``data.paid``, else price; cancellation -> price). An event without a usable amount is
counted and not summed, and the message says how many there were.

Each order counts once per kind in a period: a second paid event for the same platform
and ``sale.order_id`` (a re-sent webhook, Kiwify's ``subscription_renewed`` beside its
``order_approved``) is left out and counted in ``repeated``. Hotmart's
``PURCHASE_COMPLETE`` (the guarantee period ended, days after ``PURCHASE_APPROVED``) is not
a new sale: it never counts, so a sale approved in one period and completed in another is
counted once. Products (top 10 by count, then revenue) are an Eduzz invoice's ``items[]``
with each item's price, else ``sale.product``; payment method is ``sale.payment_method``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from service.render.filters import _decimal, payment_method
from service.sales import sale_of

KINDS = {
    "myeduzz.invoice_paid": "paid", "hotmart.purchase_approved": "paid",
    "kiwify.order_approved": "paid", "kiwify.subscription_renewed": "paid",
    "myeduzz.invoice_refunded": "refunded", "hotmart.purchase_refunded": "refunded",
    "kiwify.order_refunded": "refunded",
    "myeduzz.invoice_chargeback": "chargeback", "hotmart.purchase_chargeback": "chargeback",
    "kiwify.chargeback": "chargeback",
    "myeduzz.invoice_canceled": "canceled", "hotmart.subscription_cancellation": "canceled",
    "kiwify.subscription_canceled": "canceled",
    "sun.cart_abandonment": "abandoned", "myeduzz.cart_abandonment": "abandoned",
    "hotmart.purchase_out_of_shopping_cart": "abandoned", "kiwify.abandoned_cart": "abandoned",
}  # fmt: skip
_AMOUNT_KEYS = {
    "paid": ("paid", "price"), "refunded": ("refund", "paid", "price"),
    "chargeback": ("paid", "price"), "canceled": ("price", "paid"),
}  # fmt: skip
TOP = 10
_KIND_NAMES = ("paid", "refunded", "chargeback", "canceled", "abandoned")
NO_PRODUCT = "(sem produto)"
Money = tuple[str, Decimal]


def money_of(value: Any) -> Money | None:
    """``{"currency": "BRL", "value": 301.5}`` -> ("BRL", Decimal("301.5")); else None."""
    if not isinstance(value, dict):
        return None
    amount = _decimal(value.get("value"))
    if amount is None:
        return None
    return str(value.get("currency") or "BRL").upper(), amount


def amount_of(kind: str, data: dict[str, Any]) -> Money | None:
    """The amount an Eduzz invoice event of ``kind`` (paid, refunded …) counts with."""
    for key in _AMOUNT_KEYS.get(kind, ()):
        found = money_of(data.get(key))
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Counted:
    """How an event counts: its kind, platform, order, the amount it adds (None: none),
    payment method and product."""

    kind: str
    platform: str
    order_id: str | None
    money: Money | None
    method: str | None
    product: str | None


def counted(event: str, doc: dict[str, Any]) -> Counted | None:
    """How ``event`` (its decoded envelope ``doc``) counts in figures; None: not at all.

    Eduzz events are read directly (the same facts as their ``sale``, without building it:
    a report reads every event of its period); other platforms through ``sale_of``.
    """
    kind = KINDS.get(event)
    if kind is None:
        return None
    if event.startswith(("myeduzz.", "sun.")):
        return _eduzz(kind, doc.get("data"))
    sale = sale_of(event, doc)
    if sale is None:
        return None
    money = None if kind == "abandoned" else money_of(sale["total"])
    return Counted(
        kind, sale["platform"], sale["order_id"], money, sale["payment_method"], sale["product"]
    )


def _eduzz(kind: str, data: Any) -> Counted:
    data = data if isinstance(data, dict) else {}
    order = data.get("transactionId") or data.get("id") if kind == "abandoned" else data.get("id")
    payment = data.get("payment")
    method = data.get("paymentMethod") or (
        payment.get("method") if isinstance(payment, dict) else None
    )
    money = None if kind == "abandoned" else amount_of(kind, data)
    return Counted(kind, "eduzz", None if order is None else str(order), money, method, None)


@dataclass
class Tally:
    """A count, sums per currency, and how many had no amount."""

    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)
    without_amount: int = 0

    def add(self, money: tuple[str, Decimal] | None) -> None:
        """Count one; sum its amount, or note that it had none."""
        self.count += 1
        if money is None:
            self.without_amount += 1
        else:
            self.amounts[money[0]] = self.amounts.get(money[0], Decimal(0)) + money[1]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts as decimal strings (exact)."""
        return {
            "count": self.count,
            "without_amount": self.without_amount,
            "amounts": {c: str(v) for c, v in sorted(self.amounts.items())},
        }


@dataclass
class Sales:
    """Running figures over a period's events."""

    events: int = 0
    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in _KIND_NAMES})
    platforms: dict[str, Tally] = field(default_factory=dict)
    products: dict[str, Tally] = field(default_factory=dict)
    methods: dict[str, Tally] = field(default_factory=dict)
    repeated: int = 0
    seen: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, event: str, doc: Any) -> None:
        """Take one event (its decoded envelope) into the figures.

        Events that are not sales only count as events; an order already counted for its
        kind in this period is left out (``repeated``).
        """
        self.events += 1
        doc = doc if isinstance(doc, dict) else {}
        found = counted(event, doc)
        if found is None:
            return
        if found.order_id is not None:
            key = (found.kind, found.platform, found.order_id)
            if key in self.seen:
                self.repeated += 1
                return
            self.seen.add(key)
        self.tallies[found.kind].add(found.money)
        if found.kind == "paid":
            self.platforms.setdefault(found.platform, Tally()).add(found.money)
            self._add_sale(found, doc.get("data") if found.platform == "eduzz" else None)

    def _add_sale(self, found: Counted, invoice: Any) -> None:
        method = payment_method(found.method or "unknown")
        self.methods.setdefault(method, Tally()).add(found.money)
        items = invoice.get("items") if isinstance(invoice, dict) else None
        items = [i for i in items or [] if isinstance(i, dict)]
        for item in items:
            name = str(item.get("name") or item.get("productId") or NO_PRODUCT)
            self.products.setdefault(name, Tally()).add(money_of(item.get("price")))
        if not items:
            self.products.setdefault(found.product or NO_PRODUCT, Tally()).add(found.money)

    def as_dict(self) -> dict[str, Any]:
        """The figures a summary message shows (and a custom template gets as ``summary``)."""
        return {
            "events": self.events,
            **{kind: tally.as_dict() for kind, tally in self.tallies.items()},
            "platforms": {p: t.as_dict() for p, t in sorted(self.platforms.items())},
            "repeated": self.repeated,
            "products": _ranked(self.products)[:TOP],
            "products_total": len(self.products),
            "methods": _ranked(self.methods),
        }


def _ranked(tallies: dict[str, Tally]) -> list[dict[str, Any]]:
    def order(item: tuple[str, Tally]) -> tuple[int, Decimal, str]:
        return (-item[1].count, -item[1].amounts.get("BRL", Decimal(0)), item[0])

    return [{"name": name, **tally.as_dict()} for name, tally in sorted(tallies.items(), key=order)]


def summarize(docs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Figures for (event name, decoded envelope) pairs."""
    sales = Sales()
    for event, doc in docs:
        sales.add(event, doc)
    return sales.as_dict()


def change(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Paid count and revenue now against the previous period (percent None when it had none)."""
    out: dict[str, Any] = {
        "paid_count": previous["paid"]["count"],
        "amounts": previous["paid"]["amounts"],
    }
    now_brl = Decimal(current["paid"]["amounts"].get("BRL", "0"))
    before = Decimal(previous["paid"]["amounts"].get("BRL", "0"))
    out["revenue_percent"] = None if before == 0 else float((now_brl - before) / before * 100)
    before_n = previous["paid"]["count"]
    out["count_percent"] = (
        None if before_n == 0 else (current["paid"]["count"] - before_n) / before_n * 100
    )
    return out
