"""Built-in messages and sale.* templates for Hotmart and Kiwify, every fixture and format."""

from __future__ import annotations

import json

import msgspec
import pytest
from platformkit import HOTMART_EVENTS, KIWIFY_EVENTS, body_of

from conftest import fixture_body
from service.render.builtin.messages import builtin_template
from service.render.formats import FORMATS
from service.render.templates import compile_template
from service.render.whatsapp_format import TEXT_LIMIT
from service.sales import data_of, sale_of
from test_messages import check_block_kit
from test_messages_chat import hostile, payload, provider_errors
from test_messages_whatsapp import HEADERS


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


# --- within each channel's limits, as the providers (the local fakes' validators) check -----


def within_limits(kind: str, message: dict | None) -> None:
    """Assert ``message`` is what a sink of ``kind`` can send: shape and the provider's limits."""
    if kind == "webhook":
        assert message is None  # the original body is forwarded
        return
    assert message is not None
    if kind == "slack":
        check_block_kit(message)
    elif kind == "email":
        assert set(message) == {"subject", "text", "html"}
        assert message["subject"].strip() and not {"\r", "\n"} & set(message["subject"])
        assert message["text"].strip() and message["html"].startswith("<div")
    elif kind in ("telegram", "discord", "teams"):
        assert provider_errors(kind, payload(kind, message)) is None
    elif kind == "whatsapp":
        assert set(message) == {"text"} and 0 < len(message["text"]) <= TEXT_LIMIT
    elif kind == "google_sheets":
        assert [c["header"] for c in message["columns"]] == HEADERS
        assert all(c["value"] is None or isinstance(c["value"], (str, int, float))
                   for c in message["columns"])
    msgspec.json.encode(message)


def rendered(event: str, kind: str, doc: dict) -> dict | None:
    template = builtin_template(event, kind)
    return None if template is None else template.render(context(event, json.dumps(doc).encode()))


@pytest.mark.parametrize("event", HOTMART_EVENTS + KIWIFY_EVENTS)
@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_fixture_renders_within_the_channel_limits(event, kind):
    """Each fixture's built-in message has the channel's shape and passes its provider's checks."""
    within_limits(kind, rendered(event, kind, json.loads(body_of(event))))


@pytest.mark.parametrize("event", HOTMART_EVENTS + KIWIFY_EVENTS)
@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_hostile_fixtures_stay_within_the_channel_limits(event, kind):
    """Every text of the fixture made huge and full of markup: still within each limit."""
    doc = hostile(json.loads(body_of(event)))
    if event.startswith("hotmart."):
        doc["event"] = json.loads(body_of(event))["event"]
    within_limits(kind, rendered(event, kind, doc))


@pytest.mark.parametrize(
    ("event", "buyer", "email", "product", "value"),
    [
        ("hotmart.purchase_approved", "Maria Souza", "maria.souza@example.com",
         "Curso de Fotografia", 1234.56),
        ("kiwify.order_approved", "João Pereira", "joao.pereira@example.com",
         "Mentoria Vendas Online", 497.0),
    ],
)
def test_sheet_columns_of_a_platform_sale_are_filled(event, buyer, email, product, value):
    """The Google Sheets row of a Hotmart or Kiwify sale has buyer, e-mail, product, value."""
    columns = rendered(event, "google_sheets", json.loads(body_of(event)))["columns"]
    values = {c["header"]: c["value"] for c in columns}
    assert (values["Comprador"], values["E-mail"], values["Produto"]) == (buyer, email, product)
    assert values["Valor (R$)"] == value and values["Pagamento"] == "Cartão de crédito"
    assert values["Status"] == "Paga"
