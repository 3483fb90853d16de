"""Kiwify webhook events as ``sale``.

An order event is one flat object: ``order_id``, ``order_status``, ``payment_method``,
``Product{product_name}``, ``Customer{full_name, email, mobile, CPF|cnpj}`` and
``Commissions{charge_amount, currency}``, where amounts are integer cents. An abandoned
cart is a smaller flat object (``id``, ``name``, ``email``, ``phone``, ``cpf``,
``product_name``) without ``webhook_event_type``.
"""

from __future__ import annotations

from typing import Any

from service.sales.common import build, node, number, obj

STATUS = {
    "order_approved": "paid", "subscription_renewed": "paid",
    "billet_created": "waiting_payment", "pix_created": "waiting_payment",
    "subscription_late": "waiting_payment", "order_rejected": "refused",
    "order_refunded": "refunded", "chargeback": "chargeback",
    "subscription_canceled": "cancelled", "abandoned_cart": "abandoned",
}  # fmt: skip


def payload(doc: dict[str, Any]) -> dict[str, Any]:
    """The order object: the body itself, or its ``order`` when Kiwify wraps it."""
    inner = doc.get("order")
    return inner if isinstance(inner, dict) and "order_id" in inner else doc


def sale(event: str, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The sale view of a Kiwify event, or None for events that are not sales."""
    name = event.partition(".")[2]
    if name not in STATUS:
        return None
    order = payload(doc)
    if name == "abandoned_cart":
        buyer = {"name": order.get("name"), "email": order.get("email"),
                 "phone": order.get("phone"), "document": order.get("cpf") or order.get("cnpj")}
        return build("kiwify", order.get("id"), "abandoned", None, None, None,
                     order.get("product_name"), buyer)
    fees = obj(order.get("Commissions"))
    amount = number(fees.get("charge_amount"), cents=True)
    currency = fees.get("currency") or fees.get("product_base_price_currency")
    customer = obj(order.get("Customer"))
    buyer = {"name": customer.get("full_name"), "email": customer.get("email"),
             "phone": customer.get("mobile"), "document": customer.get("CPF") or customer.get("cnpj")}
    return build("kiwify", order.get("order_id"), STATUS[name], amount, currency,
                 order.get("payment_method"), node(order, "Product", "product_name"), buyer)
