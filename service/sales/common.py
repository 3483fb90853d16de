"""What every platform's mapping shares: the status and payment-method vocabularies."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

STATUSES = ("paid", "waiting_payment", "refused", "refunded", "chargeback", "cancelled",
            "abandoned", "expired")
PAYMENT_METHODS = {
    "creditcard": "credit_card", "credit_card": "credit_card", "debitcard": "debit_card",
    "debit_card": "debit_card", "pix": "pix", "automaticpix": "pix", "bankslip": "boleto",
    "billet": "boleto", "boleto": "boleto", "installmentbankslip": "boleto",
    "paypal": "paypal", "eduzzbalance": "balance", "hotmart_balance": "balance",
    "free": "free", "google_pay": "google_pay", "apple_pay": "apple_pay",
}  # fmt: skip


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


def build(platform: str, order_id: Any, status: str | None, amount: float | None,
          currency: Any, payment_method: Any, product: Any, buyer: dict[str, Any]) -> dict[str, Any]:
    """A sale mapping with every key present (missing facts are None)."""
    cur = (text(currency) or "BRL").upper() if amount is not None else text(currency)
    return {
        "platform": platform,
        "order_id": text(order_id),
        "status": status,
        "amount": amount,
        "currency": cur,
        "total": {"currency": cur, "value": amount},
        "payment_method": method(payment_method),
        "product": text(product),
        "buyer": {k: text(buyer.get(k)) for k in ("name", "email", "phone", "document")},
    }


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}
