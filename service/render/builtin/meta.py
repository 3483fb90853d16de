"""The built-in Meta Conversions API event (the meta_capi format): a paid sale -> ``Purchase``.

meta_capi -> ``{"event": {...}}``, the server event before ``service.render.meta_event``
finishes it (unix time, normalised and hashed user_data, defaults). Only paid sales have a
built-in event (``MAPPED``); any other event renders ``{"event": None}`` (no event), which
the sink refuses unsent and ``ponte check`` reports: such routes need an ``event`` template.

For now the Purchase reads the Eduzz invoice payload (FACTS §5: ``data.id``, ``paidAt``,
``paid``/``price``, ``items``, ``buyer``). ``sale.*`` (``service.sales``) does not carry the
payment time, buyer id, address or items yet; once it does, these expressions become
``sale.order_id``, ``sale.amount``, ``sale.buyer.email`` … and every platform's paid sale
joins ``MAPPED`` with the same Purchase.
"""

from __future__ import annotations

from typing import Any

from service.render.builtin.parts import Builders
from service.render.builtin.specs import SPECS, Spec

MAPPED = frozenset({"myeduzz.invoice_paid"})  # the paid sales; later: sale.status == paid
NONE: dict[str, Any] = {"event": None}
NAME = "(data.buyer.name | string).split()"
ITEMS = "data['items'] | as_list"
PAID = "(data.paid if data.paid.value is defined else data.price)"

PURCHASE: dict[str, Any] = {
    "event": {
        "event_name": "Purchase",
        "event_id": "{{ data.id }}",  # the order: one conversion for every retry and resend
        "event_time": "{{ data.paidAt or sentDate }}",
        "action_source": "website",
        "event_source_url": "{{ data.checkoutUrl | safe_url }}",
        "custom_data": {
            "value": f"{{{{ {PAID}.value }}}}",
            "currency": f"{{{{ {PAID}.currency }}}}",
            "order_id": "{{ data.id }}",
            "content_ids": f"{{{{ {ITEMS} | map(attribute='productId') | select | map('string') | list }}}}",
            "content_name": f"{{{{ {ITEMS} | map(attribute='name') | select | join(', ') }}}}",
            "num_items": f"{{{{ data.totalItems or ({ITEMS} | length) }}}}",
        },
        "user_data": {
            "em": "{{ data.buyer.email }}",
            "ph": "{{ data.buyer.cellphone or data.buyer.phone or data.buyer.phone2 }}",
            "fn": f"{{{{ {NAME} | first }}}}",
            "ln": f"{{{{ {NAME}[1:] | last }}}}",
            "ct": "{{ data.buyer.address.city }}",
            "st": "{{ data.buyer.address.state }}",
            "zp": "{{ data.buyer.address.zipCode }}",
            "country": "{{ data.buyer.address.country }}",
            "external_id": "{{ data.buyer.id }}",
            "fbc": "{{ data.fbc }}",
            "fbp": "{{ data.fbp }}",
            "client_ip_address": "{{ data.client_ip_address }}",
            "client_user_agent": "{{ data.client_user_agent }}",
        },
    }
}


def has_builtin(event: str) -> bool:
    """Whether ``event`` becomes a Meta event without a template."""
    return event in MAPPED


def _spec(spec: Spec) -> dict[str, Any]:
    """The Purchase for a paid sale's spec, ``NONE`` (no built-in event) for any other."""
    return PURCHASE if any(SPECS[name] is spec for name in MAPPED) else NONE


def _generic(title: str) -> dict[str, Any]:
    return NONE


BUILDERS = Builders(_spec, _generic)
