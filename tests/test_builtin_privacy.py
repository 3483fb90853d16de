"""Built-in messages mask buyer data and secrets by field name, whatever the event."""

from __future__ import annotations

import msgspec
import pytest

from service.render.personal import masked, without_secrets
from test_messages import load, render

SHARED_KINDS = ["slack", "email", "telegram", "discord", "teams", "whatsapp"]
PERSONAL = ("alice.johnson@example.com", "12333333", "555-789-1234", "555-987-6543",
            "555-321-9876", "Rua avenida", "12345-123")  # fmt: skip
SECRET = "originsecrettest"


@pytest.mark.parametrize("kind", SHARED_KINDS)
def test_unknown_event_with_an_invoice_body_shows_no_personal_data(kind):
    """An event outside the catalogue with a buyer inside: masked on every shared channel."""
    envelope = load("myeduzz.invoice_paid")
    envelope["data"]["buyer"]["birthDate"] = "1990-04-05"
    envelope["data"]["buyer"] = {"buyer": envelope["data"]["buyer"]}  # deeper than one level
    envelope["data"]["customer"] = load("myeduzz.invoice_paid")["data"]["buyer"]
    text = msgspec.json.encode(render("myeduzz.invoice_partially_paid", kind, envelope)).decode()
    for value in (*PERSONAL, SECRET, "1990-04-05"):
        assert value not in text, (kind, value)
    assert "partially" in text  # the event is still named


@pytest.mark.parametrize("event", ["myeduzz.invoice_paid", "myeduzz.invoice_partially_paid"])
def test_file_and_sheets_messages_never_carry_a_secret_field(event):
    """The file line keeps the data (the seller's own archive) but not ``originSecret``."""
    for kind in ("file", "google_sheets"):
        text = msgspec.json.encode(render(event, kind, load("myeduzz.invoice_paid"))).decode()
        assert SECRET not in text


def test_masked_by_field_name_keeps_the_rest():
    """Names compare without case or separators; an invoice ``number`` stays visible."""
    doc = {"Email": "ana@x.com.br", "cpf": "123.456.789-09", "cell_phone": "+5511987654321",
           "number": 42, "address": {"number": "12"}, "access_token": "t0k", "name": "Ana"}
    out = masked(doc)
    assert out["Email"] == "a***@x.com.br" and "456.789" in out["cpf"] and "123" not in out["cpf"]
    assert out["cell_phone"].endswith("4321") and "9876" not in out["cell_phone"]
    assert out["number"] == 42 and out["address"] == {"number": "•••"}
    assert out["access_token"] == "[redacted]" and out["name"] == "Ana"
    assert without_secrets(doc)["Email"] == "ana@x.com.br"
