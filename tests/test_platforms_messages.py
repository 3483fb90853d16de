"""Built-in messages and sale.* templates for Hotmart and Kiwify, every fixture and format."""

from __future__ import annotations

import json

import pytest
from platformkit import HOTMART_EVENTS, KIWIFY_EVENTS, body_of

from conftest import fixture_body
from service.render.builtin.messages import builtin_template
from service.render.formats import FORMATS
from service.render.templates import compile_template
from service.sales import data_of, sale_of


def context(event: str, body: bytes) -> dict:
    doc = json.loads(body)
    return {"id": doc.get("id"), "event": event, "sentDate": None, "data": data_of(event, doc),
            "sale": sale_of(event, doc), "source": "x", "event_id": 1,
            "received_at": "2026-12-06T10:00:00.000Z"}


@pytest.mark.parametrize("event", HOTMART_EVENTS + KIWIFY_EVENTS)
@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_fixture_renders_in_every_format(event, kind):
    """Each fixture renders its built-in message (or is forwarded) without error."""
    template = builtin_template(event, kind)
    if template is None:
        return
    rendered = template.render(context(event, body_of(event)))
    assert rendered


@pytest.mark.parametrize("event", ["hotmart.purchase_approved", "kiwify.order_approved"])
@pytest.mark.parametrize("kind", ["slack", "email", "telegram", "whatsapp", "discord", "teams"])
def test_main_sale_messages_name_buyer_product_and_amount(event, kind):
    """The approved-sale message names the buyer, the product and the amount in R$."""
    text = json.dumps(builtin_template(event, kind).render(context(event, body_of(event))),
                      ensure_ascii=False)
    expected = {"hotmart.purchase_approved": ("Maria Souza", "Curso de Fotografia", "R$ 1.234,56"),
                "kiwify.order_approved": ("João Pereira", "Mentoria Vendas Online", "R$ 497,00")}
    for part in expected[event]:
        assert part in text
    assert "maria.souza@example.com" not in text and "joao.pereira@example.com" not in text


def test_one_sale_template_renders_the_same_fields_for_three_platforms():
    """``{{ sale.* }}`` reads the same for an Eduzz, a Hotmart and a Kiwify sale."""
    template = compile_template({"text": "{{ sale.platform }}|{{ sale.status }}|{{ sale.total | brl }}|"
                                 "{{ sale.payment_method }}|{{ sale.buyer.email | mask_email }}"},
                                kind="webhook", where="t")
    bodies = {"myeduzz.invoice_paid": fixture_body("myeduzz.invoice_paid"),
              "hotmart.purchase_approved": body_of("hotmart.purchase_approved"),
              "kiwify.order_approved": body_of("kiwify.order_approved")}
    out = [template.render(context(e, b))["text"] for e, b in bodies.items()]
    assert out == ["eduzz|paid|R$ 301,50|credit_card|a***@example.com",
                   "hotmart|paid|R$ 1.234,56|credit_card|m***@example.com",
                   "kiwify|paid|R$ 497,00|credit_card|j***@example.com"]


def test_kiwify_cents_become_a_decimal_amount():
    """Kiwify's ``charge_amount`` 49700 (cents) is sale.amount 497.0."""
    sale = sale_of("kiwify.order_approved", json.loads(body_of("kiwify.order_approved")))
    assert sale["amount"] == 497.0 and sale["currency"] == "BRL"
