"""Eduzz events as ``sale``: invoices, cart abandonment and subscriptions (contracts).

Which amount: a paid or refunded invoice's ``paid`` (else ``price``), others' ``price``;
a contract's recurring price. Contract status follows ``contract.status``, an attempted
charge the attempt's ``invoice.status``.
"""

from __future__ import annotations

from typing import Any

from service.sales.common import build, node, number, obj

INVOICE_STATUS = {
    "invoice_opened": "waiting_payment", "invoice_waiting_payment": "waiting_payment",
    "invoice_scheduled": "waiting_payment", "invoice_negotiated": "waiting_payment",
    "invoice_recovering": "refused", "invoice_refused": "refused", "invoice_paid": "paid",
    "invoice_waiting_refund": "paid", "invoice_refunded": "refunded",
    "invoice_chargeback": "chargeback", "invoice_canceled": "cancelled",
    "invoice_expired": "expired", "invoice_overdue": "expired",
}  # fmt: skip
CONTRACT_STATUS = {
    "uptodate": "paid", "free": "paid", "awaitingpayment": "waiting_payment",
    "trial": "waiting_payment", "late": "waiting_payment", "defaulter": "waiting_payment",
    "canceled": "cancelled", "suspended": "cancelled", "finished": "expired",
}  # fmt: skip
ATTEMPTS = ("contract_card_attempted", "contract_bankslip_attempted",
            "contract_pix_attempted", "contract_eduzz_balance_attempted")
CONTRACTS = ("contract_created", "contract_updated")
EVENTS = frozenset({*INVOICE_STATUS, *CONTRACTS, *ATTEMPTS, "cart_abandonment"})


def sale(event: str, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The sale view of an Eduzz event, or None when the event is not a sale."""
    name = event.partition(".")[2]
    data = doc.get("data")
    if not isinstance(data, dict) or name not in EVENTS:
        return None
    if name in INVOICE_STATUS:
        return _invoice(INVOICE_STATUS[name], data)
    if name == "cart_abandonment":
        return _abandoned(data)
    if name in CONTRACTS:
        return _contract(data)
    return _attempt(data)


def _invoice(status: str, data: dict[str, Any]) -> dict[str, Any]:
    keys = ("paid", "price") if status in ("paid", "refunded", "chargeback") else ("price", "paid")
    money = next((m for k in keys if isinstance(m := data.get(k), dict) and m.get("value") is not None), {})
    items = data.get("items")
    first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
    method = data.get("paymentMethod") or node(data, "payment", "method")
    return build("eduzz", data.get("id"), status, number(money.get("value")), money.get("currency"),
                 method, first.get("name"), _person(data.get("buyer")))


def _abandoned(data: dict[str, Any]) -> dict[str, Any]:
    product = data.get("productName") or node(data, "product", "name")
    return build("eduzz", data.get("transactionId") or data.get("id"), "abandoned", None, None,
                 data.get("paymentMethod"), product, _person(data.get("customer")))


def _contract(data: dict[str, Any]) -> dict[str, Any]:
    contract = obj(data.get("contract"))
    status = CONTRACT_STATUS.get(str(contract.get("status") or "").lower())
    products = data.get("products")
    first = products[0] if isinstance(products, list) and products and isinstance(products[0], dict) else {}
    money = node(contract, "recurrence", "price") or first.get("price") or {}
    money = money if isinstance(money, dict) else {}
    return build("eduzz", contract.get("id"), status, number(money.get("value")), money.get("currency"),
                 node(contract, "payment", "method"), first.get("name"), _person(data.get("customer")))


def _attempt(data: dict[str, Any]) -> dict[str, Any]:
    invoice = obj(data.get("invoice"))
    raw = str(invoice.get("status") or "").lower()
    status = "paid" if raw == "paid" else "refused" if invoice.get("failReason") else "waiting_payment"
    money = obj(invoice.get("price"))
    return build("eduzz", invoice.get("id"), status, number(money.get("value")), money.get("currency"),
                 node(invoice, "payment", "method"), None, _person(data.get("customer")))


def _person(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    phone = value.get("cellphone") or value.get("phone")
    if isinstance(phone, dict):  # contracts: {countryCode, areaCode, number}
        parts = (phone.get("countryCode"), phone.get("areaCode"), phone.get("number"))
        phone = " ".join(str(p) for p in parts if p) or None
        phone = f"+{phone}" if phone and phone[0].isdigit() and phone.count(" ") == 2 else phone
    return {"name": value.get("name"), "email": value.get("email"), "phone": phone,
            "document": value.get("document")}
