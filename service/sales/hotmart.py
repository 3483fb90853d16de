"""Hotmart postback v2.0.0 events as ``sale``.

Purchases carry ``data.purchase`` (``transaction``, ``price{value, currency_value}``,
``payment.type``), ``data.product`` and ``data.buyer``; the cart-abandonment and
subscription-cancellation events carry their own smaller shapes. ``PURCHASE_CANCELED``
is a payment the card issuer declined (``refused``); ``PURCHASE_PROTEST`` is a refund
request on a sale that is still paid.
"""

from __future__ import annotations

from typing import Any

from service.sales.common import build, node, number, obj

STATUS = {
    "purchase_approved": "paid", "purchase_complete": "paid", "purchase_protest": "paid",
    "purchase_billet_printed": "waiting_payment", "purchase_delayed": "waiting_payment",
    "purchase_canceled": "refused", "purchase_refunded": "refunded",
    "purchase_chargeback": "chargeback", "purchase_expired": "expired",
    "purchase_out_of_shopping_cart": "abandoned", "subscription_cancellation": "cancelled",
}  # fmt: skip


def sale(event: str, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The sale view of a Hotmart event, or None (``switch_plan``, club events ...)."""
    name = event.partition(".")[2]
    data = doc.get("data")
    if name not in STATUS or not isinstance(data, dict):
        return None
    if name == "purchase_out_of_shopping_cart":
        buyer = obj(data.get("buyer"))
        return build("hotmart", doc.get("id"), "abandoned", None, None, None,
                     node(data, "product", "name"), buyer)
    if name == "subscription_cancellation":
        return _cancellation(doc.get("id"), data)
    purchase = obj(data.get("purchase"))
    price = obj(purchase.get("price"))
    return build("hotmart", purchase.get("transaction"), STATUS[name], number(price.get("value")),
                 price.get("currency_value"), node(purchase, "payment", "type"),
                 node(data, "product", "name"), _buyer(data.get("buyer")))


def _cancellation(event_id: Any, data: dict[str, Any]) -> dict[str, Any]:
    subscriber = obj(data.get("subscriber"))
    phone = obj(subscriber.get("phone"))
    cell = "".join(str(phone.get(k) or "") for k in ("dddCell", "cell")) or None
    buyer = {"name": subscriber.get("name"), "email": subscriber.get("email"), "phone": cell}
    order = node(data, "subscription", "id") or subscriber.get("code") or event_id
    return build("hotmart", order, "cancelled", number(data.get("actual_recurrence_value")), None,
                 None, node(data, "product", "name"), buyer)


def _buyer(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    phone = value.get("checkout_phone") or value.get("phone")
    code = value.get("checkout_phone_code")
    if phone and code and not str(phone).startswith(("+", str(code))):
        phone = f"+{code} {phone}"
    return {"name": value.get("name"), "email": value.get("email"), "phone": phone,
            "document": value.get("document")}
