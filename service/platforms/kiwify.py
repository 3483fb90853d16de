"""Kiwify webhook shapes: one flat order object per event, amounts in integer cents."""

from __future__ import annotations

import msgspec

Id = str | int
Cents = int | str  # Kiwify's examples send cents as numbers and, at times, as text


class Lenient(msgspec.Struct, kw_only=True, frozen=True):
    """Base: keys as Kiwify sends them (snake_case and a few Capitalised objects)."""


class Product(Lenient, frozen=True):
    product_id: Id | None = None
    product_name: str | None = None


class Customer(Lenient, frozen=True):
    full_name: str | None = None
    first_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    CPF: str | None = None
    cnpj: str | None = None
    ip: str | None = None
    city: str | None = None
    state: str | None = None
    zipcode: str | None = None


class Commissions(Lenient, frozen=True):
    charge_amount: Cents | None = None
    product_base_price: Cents | None = None
    product_base_price_currency: str | None = None
    kiwify_fee: Cents | None = None
    settlement_amount: Cents | None = None
    my_commission: Cents | None = None
    currency: str | None = None
    commissioned_stores: list[dict[str, object]] | None = None


class Subscription(Lenient, frozen=True):
    id: Id | None = None
    status: str | None = None
    start_date: str | None = None
    next_payment: str | None = None
    plan: dict[str, object] | None = None
    charges: dict[str, object] | None = None


class Order(Lenient, frozen=True):
    """Every order and subscription event (``order_approved`` … ``subscription_renewed``)."""

    order_id: Id | None = None
    order_ref: str | None = None
    order_status: str | None = None
    webhook_event_type: str | None = None
    product_type: str | None = None
    payment_method: str | None = None
    installments: int | None = None
    card_type: str | None = None
    card_last4digits: str | None = None
    card_rejection_reason: str | None = None
    boleto_URL: str | None = None  # noqa: N815 - Kiwify's key
    boleto_barcode: str | None = None
    boleto_expiry_date: str | None = None
    pix_code: str | None = None
    pix_expiration: str | None = None
    sale_type: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    approved_date: str | None = None
    refunded_at: str | None = None
    product: Product | None = msgspec.field(default=None, name="Product")
    customer: Customer | None = msgspec.field(default=None, name="Customer")
    commissions: Commissions | None = msgspec.field(default=None, name="Commissions")
    tracking: dict[str, object] | None = msgspec.field(default=None, name="TrackingParameters")
    subscription: Subscription | None = msgspec.field(default=None, name="Subscription")
    subscription_id: Id | None = None
    access_url: str | None = None


class AbandonedCart(Lenient, frozen=True):
    """``kiwify.abandoned_cart``: the checkout a buyer left."""

    id: Id | None = None
    checkout_link: str | None = None
    status: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    cpf: str | None = None
    cnpj: str | None = None
    product_id: Id | None = None
    product_name: str | None = None
    offer_name: str | None = None
    store_id: Id | None = None
    country: str | None = None
    created_at: str | None = None


ORDER_EVENTS = ("order_approved", "order_refunded", "chargeback", "billet_created", "pix_created",
                "order_rejected", "subscription_canceled", "subscription_late",
                "subscription_renewed")
DATA_TYPES: dict[str, type[Lenient]] = {
    **{f"kiwify.{name}": Order for name in ORDER_EVENTS},
    "kiwify.abandoned_cart": AbandonedCart,
}
EVENT_NAMES = tuple(sorted(DATA_TYPES))
