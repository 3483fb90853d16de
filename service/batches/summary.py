"""The sales summary: figures for a period's events, computed once and kept in the report.

Amounts come from the event (``{"currency", "value"}``, a decimal number of units), summed
per currency with ``Decimal``: never mixed, never converted. Which amount counts:
paid invoice -> ``data.paid`` (else ``data.price``); refund -> ``data.refund`` (else paid,
price); chargeback -> paid, price; cancellation -> price. An event without a usable
amount is counted and not summed, and the message says how many there were. Products
(top 10 by count, then revenue) are the invoice's ``items[]`` with each item's price;
payment method is ``data.paymentMethod`` (else ``data.payment.method``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from service.render.filters import _decimal, payment_method

KINDS = {
    "myeduzz.invoice_paid": "paid", "myeduzz.invoice_refunded": "refunded",
    "myeduzz.invoice_chargeback": "chargeback", "myeduzz.invoice_canceled": "canceled",
    "sun.cart_abandonment": "abandoned",
}  # fmt: skip
_AMOUNT_KEYS = {
    "paid": ("paid", "price"), "refunded": ("refund", "paid", "price"),
    "chargeback": ("paid", "price"), "canceled": ("price", "paid"),
}  # fmt: skip
TOP = 10
_KIND_NAMES = ("paid", "refunded", "chargeback", "canceled", "abandoned")
NO_PRODUCT = "(sem produto)"


def money_of(value: Any) -> tuple[str, Decimal] | None:
    """``{"currency": "BRL", "value": 301.5}`` -> ("BRL", Decimal("301.5")); else None."""
    if not isinstance(value, dict):
        return None
    amount = _decimal(value.get("value"))
    if amount is None:
        return None
    return str(value.get("currency") or "BRL").upper(), amount


def amount_of(kind: str, data: dict[str, Any]) -> tuple[str, Decimal] | None:
    """The amount an event of ``kind`` (paid, refunded …) counts with, if it has one."""
    for key in _AMOUNT_KEYS.get(kind, ()):
        found = money_of(data.get(key))
        if found is not None:
            return found
    return None


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
    products: dict[str, Tally] = field(default_factory=dict)
    methods: dict[str, Tally] = field(default_factory=dict)

    def add(self, event: str, data: Any) -> None:
        """Take one event into the figures (events that are not sales only count as events)."""
        self.events += 1
        kind = KINDS.get(event)
        if kind is None:
            return
        data = data if isinstance(data, dict) else {}
        self.tallies[kind].add(None if kind == "abandoned" else amount_of(kind, data))
        if kind == "paid":
            self._add_sale(data)

    def _add_sale(self, data: dict[str, Any]) -> None:
        method = data.get("paymentMethod") or (data.get("payment") or {}).get("method") or "unknown"
        self.methods.setdefault(payment_method(method), Tally()).add(amount_of("paid", data))
        items = [i for i in data.get("items") or [] if isinstance(i, dict)]
        for item in items:
            name = str(item.get("name") or item.get("productId") or NO_PRODUCT)
            self.products.setdefault(name, Tally()).add(money_of(item.get("price")))
        if not items:
            self.products.setdefault(NO_PRODUCT, Tally()).add(amount_of("paid", data))

    def as_dict(self) -> dict[str, Any]:
        """The figures a summary message shows (and a custom template gets as ``summary``)."""
        return {
            "events": self.events,
            **{kind: tally.as_dict() for kind, tally in self.tallies.items()},
            "products": _ranked(self.products)[:TOP],
            "products_total": len(self.products),
            "methods": _ranked(self.methods),
        }


def _ranked(tallies: dict[str, Tally]) -> list[dict[str, Any]]:
    def order(item: tuple[str, Tally]) -> tuple[int, Decimal, str]:
        return (-item[1].count, -item[1].amounts.get("BRL", Decimal(0)), item[0])

    return [{"name": name, **tally.as_dict()} for name, tally in sorted(tallies.items(), key=order)]


def summarize(docs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Figures for (event name, data) pairs."""
    sales = Sales()
    for event, data in docs:
        sales.add(event, data)
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
