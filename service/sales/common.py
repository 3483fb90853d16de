"""What every platform's mapping shares: the status and payment-method vocabularies, and
the helpers that read a payment time, an address and an item the same way for all."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from service.timeparse import iso

STATUSES = ("paid", "waiting_payment", "refused", "refunded", "chargeback", "cancelled",
            "abandoned", "expired")
PAYMENT_METHODS = {
    "creditcard": "credit_card", "credit_card": "credit_card", "debitcard": "debit_card",
    "debit_card": "debit_card", "pix": "pix", "automaticpix": "pix", "bankslip": "boleto",
    "billet": "boleto", "boleto": "boleto", "installmentbankslip": "boleto",
    "paypal": "paypal", "eduzzbalance": "balance", "hotmart_balance": "balance",
    "free": "free", "google_pay": "google_pay", "apple_pay": "apple_pay",
}  # fmt: skip
PAID_ONCE = frozenset({"paid", "refunded", "chargeback"})  # statuses of a sale that was paid
ADDRESS_KEYS = ("city", "state", "zip", "country")
_MILLIS = 10**11  # a unix time above this is in milliseconds (Hotmart's), not seconds


def text(value: Any) -> str | None:
    """A scalar as stripped text; None for missing, empty or non-scalar values."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    shown = str(value).strip()
    return shown or None


def number(value: Any, *, cents: bool = False) -> float | None:
    """A JSON number (or numeric text) as a float of currency units; cents divided by 100."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return float(amount / 100 if cents else amount)


def method(value: Any) -> str | None:
    """A payment method in Ponte's vocabulary (``credit_card``, ``pix``, ``boleto`` ...)."""
    raw = text(value)
    if raw is None:
        return None
    return PAYMENT_METHODS.get(raw.lower(), raw.lower())


def node(doc: Any, *keys: str) -> Any:
    """``doc[k1][k2]…`` through mappings only; None when a step is missing."""
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def when(value: Any) -> str | None:
    """A time as ISO-8601 UTC (``2024-01-10T17:45:00.000Z``): from ISO-8601 text (without a
    zone: UTC, Ponte's rule), ``2026-12-06 10:31`` included, or unix seconds / milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return iso(value / 1000 if value > _MILLIS else value) if value > 0 else None
    raw = text(value)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def address(city: Any = None, state: Any = None, zip_code: Any = None, country: Any = None) -> dict[str, Any]:
    """The buyer's address as the sale model has it: {city, state, zip, country}, text or None."""
    return dict(zip(ADDRESS_KEYS, (text(v) for v in (city, state, zip_code, country)), strict=True))


def item(item_id: Any, name: Any, price: float | None = None, quantity: Any = 1) -> dict[str, Any] | None:
    """One item of a sale: {id, name, quantity, price}; None when it has neither id nor name."""
    ident, shown = text(item_id), text(name)
    if ident is None and shown is None:
        return None
    count = number(quantity)
    return {"id": ident, "name": shown, "quantity": int(count) if count and count >= 1 else 1,
            "price": price}  # fmt: skip


def build(platform: str, order_id: Any, status: str | None, amount: float | None,
          currency: Any, payment_method: Any, product: Any, buyer: dict[str, Any], *,
          paid_at: Any = None, items: Iterable[dict[str, Any] | None] = ()) -> dict[str, Any]:
    """A sale mapping with every key present (missing facts are None, no items ``[]``).

    ``buyer`` may hold ``id`` and ``address`` (from ``address``) beside name, email, phone
    and document; ``paid_at`` (read by ``when``) is kept only for a sale that was paid.
    """
    cur = (text(currency) or "BRL").upper() if amount is not None else text(currency)
    place = buyer.get("address")
    people = {k: text(buyer.get(k)) for k in ("name", "email", "phone", "document", "id")}
    return {
        "platform": platform,
        "order_id": text(order_id),
        "status": status,
        "amount": amount,
        "currency": cur,
        "total": {"currency": cur, "value": amount},
        "payment_method": method(payment_method),
        "product": text(product),
        "buyer": {**people, "address": place if isinstance(place, dict) else address()},
        "paid_at": when(paid_at) if status in PAID_ONCE else None,
        "items": [i for i in items if i is not None],
    }


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}
