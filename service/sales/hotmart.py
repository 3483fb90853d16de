"""Hotmart postback v2.0.0 events as ``sale``.

Purchases carry ``data.purchase`` (``transaction``, ``price{value, currency_value}``,
``payment.type``), ``data.product`` and ``data.buyer``; the cart-abandonment and
subscription-cancellation events carry their own smaller shapes. ``PURCHASE_CANCELED``
is a payment the card issuer declined (``refused``); ``PURCHASE_PROTEST`` is a refund
request on a sale that is still paid. Payment time: ``data.purchase.approved_date`` (unix
milliseconds); the one item: ``data.product`` at the purchase price; the buyer's id: the
subscriber code of a subscription (``data.subscription.subscriber.code``), Hotmart sends
no other.
"""

from __future__ import annotations

from typing import Any

from service.sales.common import address, build, item, node, number, obj

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
    product = obj(data.get("product"))
    if name == "purchase_out_of_shopping_cart":
        buyer = {k: v for k, v in obj(data.get("buyer")).items() if k != "address"}
        return build("hotmart", doc.get("id"), "abandoned", None, None, None,
                     product.get("name"), buyer, items=[item(product.get("id"), product.get("name"))])
    if name == "subscription_cancellation":
        return _cancellation(doc.get("id"), data)
    purchase = obj(data.get("purchase"))
    price = obj(purchase.get("price"))
    amount = number(price.get("value"))
    buyer = {**_buyer(data.get("buyer")), "id": node(data, "subscription", "subscriber", "code")}
    return build("hotmart", purchase.get("transaction"), STATUS[name], amount,
                 price.get("currency_value"), node(purchase, "payment", "type"), product.get("name"),
                 buyer, paid_at=purchase.get("approved_date"),
                 items=[item(product.get("id"), product.get("name"), amount)])  # fmt: skip


def _cancellation(event_id: Any, data: dict[str, Any]) -> dict[str, Any]:
    subscriber = obj(data.get("subscriber"))
    phone = obj(subscriber.get("phone"))
    cell = "".join(str(phone.get(k) or "") for k in ("dddCell", "cell")) or None
    buyer = {"name": subscriber.get("name"), "email": subscriber.get("email"), "phone": cell,
             "id": subscriber.get("code")}
    order = node(data, "subscription", "id") or subscriber.get("code") or event_id
    product = obj(data.get("product"))
    amount = number(data.get("actual_recurrence_value"))
    return build("hotmart", order, "cancelled", amount, None, None, product.get("name"), buyer,
                 items=[item(product.get("id"), product.get("name"), amount)])


def _buyer(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    phone = value.get("checkout_phone") or value.get("phone")
    code = value.get("checkout_phone_code")
    if phone and code and not str(phone).startswith(("+", str(code))):
        phone = f"+{code} {phone}"
    place = obj(value.get("address"))
    return {"name": value.get("name"), "email": value.get("email"), "phone": phone,
            "document": value.get("document"),
            "address": address(place.get("city"), place.get("state"), place.get("zipcode"),
                               place.get("country_iso") or place.get("country"))}  # fmt: skip
