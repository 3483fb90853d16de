"""The built-in Meta Conversions API event (the meta_capi format): a paid sale -> ``Purchase``.

meta_capi -> ``{"event": {...}}``, the server event before ``service.render.meta_event``
finishes it (unix time, normalised and hashed user_data, defaults). Only the paid sales of
``service.sales.PAID_SALES`` have a built-in event (``MAPPED``: Eduzz's ``invoice_paid``,
Hotmart's ``purchase_approved``, Kiwify's ``order_approved`` and ``subscription_renewed``);
any other event renders ``{"event": None}`` (no event), which the sink refuses unsent and
``ponte check`` reports: such routes need an ``event`` template.

The Purchase reads the one sale model (``sale.*``), so it is the same for every platform:
the order id as ``event_id`` (one conversion for every retry, replay and resend), the
payment time (``sale.paid_at``, else the envelope's ``sentDate``, else when Ponte received
it), amount and currency, the items, and the buyer. ``fbc``, ``fbp``,
``client_ip_address`` and ``client_user_agent`` are read from ``data`` when the payload
carries them under those names.
"""

from __future__ import annotations

from typing import Any

from service.render.builtin.parts import Builders
from service.render.builtin.sale_specs import SALE_SPECS
from service.render.builtin.specs import SPECS, Spec
from service.sales import PAID_SALES

MAPPED = PAID_SALES
NONE: dict[str, Any] = {"event": None}
NAME = "(sale.buyer.name or '').split()"
ITEMS = "sale['items'] or []"
PLACE = "sale.buyer.address"

PURCHASE: dict[str, Any] = {
    "event": {
        "event_name": "Purchase",
        "event_id": "{{ sale.order_id }}",  # the order: one conversion for every retry and resend
        "event_time": "{{ sale.paid_at or sentDate or received_at }}",
        "action_source": "website",
        "event_source_url": "{{ data.checkoutUrl | safe_url }}",
        "custom_data": {
            "value": "{{ sale.amount }}",
            "currency": "{{ sale.currency }}",
            "order_id": "{{ sale.order_id }}",
            "content_ids": f"{{{{ ({ITEMS}) | map(attribute='id') | select | list }}}}",
            "content_name": f"{{{{ ({ITEMS}) | map(attribute='name') | select | join(', ') }}}}",
            "num_items": f"{{{{ (({ITEMS}) | sum(attribute='quantity')) or none }}}}",
        },
        "user_data": {
            "em": "{{ sale.buyer.email }}",
            "ph": "{{ sale.buyer.phone }}",
            "fn": f"{{{{ {NAME} | first }}}}",
            "ln": f"{{{{ {NAME}[1:] | last }}}}",
            "ct": f"{{{{ {PLACE}.city }}}}",
            "st": f"{{{{ {PLACE}.state }}}}",
            "zp": f"{{{{ {PLACE}.zip }}}}",
            "country": f"{{{{ {PLACE}.country }}}}",
            "external_id": "{{ sale.buyer.id }}",
            "fbc": "{{ data.fbc }}",
            "fbp": "{{ data.fbp }}",
            "client_ip_address": "{{ data.client_ip_address }}",
            "client_user_agent": "{{ data.client_user_agent }}",
        },
    }
}
_SPECS = {**SPECS, **SALE_SPECS}


def has_builtin(event: str) -> bool:
    """Whether ``event`` becomes a Meta event without a template."""
    return event in MAPPED


def _spec(spec: Spec) -> dict[str, Any]:
    """The Purchase for a paid sale's spec, ``NONE`` (no built-in event) for any other."""
    return PURCHASE if any(_SPECS.get(name) is spec for name in MAPPED) else NONE


def _generic(title: str) -> dict[str, Any]:
    return NONE


BUILDERS = Builders(_spec, _generic)
