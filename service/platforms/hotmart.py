"""Hotmart postback v2.0.0 ``data`` shapes (docs/platforms.md cites the pages they follow)."""

from __future__ import annotations

import msgspec

Id = str | int
Number = float | int


class Lenient(msgspec.Struct, kw_only=True, frozen=True):
    """Base: snake_case keys as Hotmart sends them, unknown keys ignored."""


class Price(Lenient, frozen=True):
    value: Number | None = None
    currency_value: str | None = None


class Product(Lenient, frozen=True):
    id: Id | None = None
    ucode: str | None = None
    name: str | None = None
    has_co_production: bool | None = None


class Address(Lenient, frozen=True):
    city: str | None = None
    country: str | None = None
    country_iso: str | None = None
    state: str | None = None
    zipcode: str | None = None


class Buyer(Lenient, frozen=True):
    email: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    checkout_phone: str | None = None
    checkout_phone_code: str | None = None
    document: str | None = None
    document_type: str | None = None
    address: Address | None = None


class Payment(Lenient, frozen=True):
    type: str | None = None
    installments_number: int | None = None
    billet_barcode: str | None = None
    billet_url: str | None = None
    pix_code: str | None = None
    refusal_reason: str | None = None


class Purchase(Lenient, frozen=True):
    transaction: str | None = None
    status: str | None = None
    order_date: int | None = None
    approved_date: int | None = None
    price: Price | None = None
    full_price: Price | None = None
    original_offer_price: Price | None = None
    payment: Payment | None = None
    offer: dict[str, object] | None = None
    recurrence_number: int | None = None


class Plan(Lenient, frozen=True):
    id: Id | None = None
    name: str | None = None


class Subscription(Lenient, frozen=True):
    status: str | None = None
    plan: Plan | None = None
    subscriber: dict[str, object] | None = None


class Commission(Lenient, frozen=True):
    value: Number | None = None
    source: str | None = None
    currency_value: str | None = None


class PurchaseData(Lenient, frozen=True):
    """``PURCHASE_*`` events (approved, complete, canceled, refunded, chargeback ...)."""

    product: Product | None = None
    buyer: Buyer | None = None
    producer: dict[str, object] | None = None
    affiliates: list[dict[str, object]] | None = None
    commissions: list[Commission] | None = None
    purchase: Purchase | None = None
    subscription: Subscription | None = None


class CartBuyer(Lenient, frozen=True):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class CartData(Lenient, frozen=True):
    """``PURCHASE_OUT_OF_SHOPPING_CART``."""

    buyer_ip: str | None = None
    buyer: CartBuyer | None = None
    product: Product | None = None
    affiliate: bool | None = None
    offer: dict[str, object] | None = None


class SubscriberPhone(Lenient, frozen=True):
    dddPhone: str | None = None  # noqa: N815 - Hotmart's key
    phone: str | None = None
    dddCell: str | None = None  # noqa: N815 - Hotmart's key
    cell: str | None = None


class Subscriber(Lenient, frozen=True):
    code: str | None = None
    name: str | None = None
    email: str | None = None
    phone: SubscriberPhone | None = None


class CancelledSubscription(Lenient, frozen=True):
    id: Id | None = None
    plan: Plan | None = None


class CancellationData(Lenient, frozen=True):
    """``SUBSCRIPTION_CANCELLATION``."""

    date_next_charge: int | None = None
    cancellation_date: int | None = None
    actual_recurrence_value: Number | None = None
    product: Product | None = None
    subscriber: Subscriber | None = None
    subscription: CancelledSubscription | None = None


class SwitchedSubscription(Lenient, frozen=True):
    subscriber_code: str | None = None
    status: str | None = None
    product: Product | None = None
    user: dict[str, object] | None = None


class SwitchPlanData(Lenient, frozen=True):
    """``SWITCH_PLAN``."""

    switch_plan_date: int | None = None
    subscription: SwitchedSubscription | None = None
    plans: list[dict[str, object]] | None = None


PURCHASES = ("approved", "complete", "canceled", "billet_printed", "protest", "refunded",
             "chargeback", "expired", "delayed")
DATA_TYPES: dict[str, type[Lenient]] = {
    **{f"hotmart.purchase_{name}": PurchaseData for name in PURCHASES},
    "hotmart.purchase_out_of_shopping_cart": CartData,
    "hotmart.subscription_cancellation": CancellationData,
    "hotmart.switch_plan": SwitchPlanData,
}
EVENT_NAMES = tuple(sorted(DATA_TYPES))
