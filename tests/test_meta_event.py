"""Meta's normalisation rules for user_data, and the finishing of a server event (pure)."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from conftest import fixture_body
from service.render.builtin.messages import builtin_template
from service.render.meta_event import (
    Problem,
    check_age,
    custom_data,
    finish,
    hashed,
    normalise,
    user_data,
)

NOW = 1_765_000_000.0


def sha(text: str) -> str:
    """SHA-256 hex computed here, independently of the code under test."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("written", [
    "alice@example.com", "Alice@Example.com", "  ALICE@EXAMPLE.COM ", "\tAlice@example.COM\n",
])  # fmt: skip
def test_email_is_trimmed_and_lowercased(written):
    """Every written form of one address hashes the same."""
    assert normalise("em", written) == "alice@example.com"
    assert hashed("em", written) == sha("alice@example.com")


def test_meta_documented_email_example_hashes_to_metas_value():
    """Meta's own example (John_Smith@gmail.com) gives the hash Meta's docs print."""
    assert hashed("em", "John_Smith@gmail.com") == (
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    )


@pytest.mark.parametrize("written", [
    "(11) 98765-4321", "11 98765-4321", "11987654321", "011 98765-4321", "+55 11 98765-4321",
    "+55 (11) 98765-4321", "5511987654321", "+5511987654321", "0055 11 98765-4321",
    "55 11 9 8765 4321", "11.98765.4321", {"countryCode": "55", "areaCode": "11", "number": "987654321"},
])  # fmt: skip
def test_brazilian_cellphone_in_every_written_form_is_digits_with_55(written):
    """With or without +55/0055/trunk 0, spaces, dashes, dots or parentheses: 5511987654321."""
    assert normalise("ph", written) == "5511987654321"
    assert hashed("ph", written) == sha("5511987654321")


@pytest.mark.parametrize(("written", "digits"), [
    ("(21) 3456-7890", "552134567890"),  # a landline
    ("+1 (650) 555-1212", "16505551212"),  # a foreign number keeps its country code
    ("+351 912 345 678", "351912345678"),
])  # fmt: skip
def test_other_numbers_keep_or_gain_their_country_code(written, digits):
    """Landlines get 55 too; numbers written with another country code keep it."""
    assert normalise("ph", written) == digits


@pytest.mark.parametrize("written", ["98765-4321", "abc", "", None, "123"])
def test_what_is_not_a_phone_number_is_dropped(written):
    """No guessing: a value that is not a phone number is not sent at all."""
    assert hashed("ph", written) == ""


@pytest.mark.parametrize(("written", "normal"), [
    ("João", "joão"), ("VALÉRY", "valéry"), ("Conceição", "conceição"), ("D'Ávila", "dávila"),
    ("  Ana-Luísa ", "analuísa"), ("Mary", "mary"),
])  # fmt: skip
def test_names_are_lowercased_without_punctuation_keeping_accents(written, normal):
    """Meta: lowercase, no punctuation, special characters in UTF-8 (its example: Valéry -> valéry)."""
    assert normalise("fn", written) == normal
    assert hashed("ln", written) == sha(normal)


def test_decomposed_and_composed_accents_hash_the_same():
    """'é' typed as e + combining accent is the same name."""
    assert hashed("fn", "Vale\u0301ry") == hashed("fn", "Valéry") == sha("valéry")


def test_meta_documented_name_example_hashes_to_metas_value():
    """Meta's example Valéry -> valéry gives the hash Meta's docs print."""
    assert hashed("fn", "Valéry") == "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"


@pytest.mark.parametrize(("key", "written", "normal"), [
    ("ct", "São Paulo", "sãopaulo"), ("ct", "Rio de Janeiro", "riodejaneiro"),
    ("st", "São Paulo", "sp"), ("st", "SP", "sp"), ("st", "rio grande do sul", "rs"),
    ("zp", "01310-100", "01310100"), ("zp", " 12345 123", "12345123"),
    ("country", "Brasil", "br"), ("country", "BR", "br"), ("country", "Brazil", "br"),
    ("country", "Atlântida", ""), ("ge", "Feminino", "f"), ("db", "1991-05-26", "19910526"),
    ("external_id", " 66677677767 ", "66677677767"),
])  # fmt: skip
def test_place_and_other_fields(key, written, normal):
    """City without spaces, state as its UF, CEP digits, ISO country, gender, birth date, id."""
    assert normalise(key, written) == normal


def test_values_already_hashed_are_kept_and_others_hashed():
    """A 64-hex value is not hashed twice; unhashed keys (fbc, fbp, IP, agent) pass as they are."""
    done = sha("alice@example.com")
    given = {"em": done.upper(), "ph": ["(11) 98765-4321", "bad"], "fbc": "fb.1.1554763741205.AbCdEf",
             "fbp": "fb.1.1558571054389.1098115397", "client_ip_address": "2804:14c::1",
             "client_user_agent": "Mozilla/5.0", "fn": "", "ln": None}  # fmt: skip
    out = user_data(given)
    assert out == {"em": done, "ph": [sha("5511987654321")], "fbc": given["fbc"], "fbp": given["fbp"],
                   "client_ip_address": "2804:14c::1", "client_user_agent": "Mozilla/5.0"}  # fmt: skip


def test_finish_fills_event_id_time_and_source():
    """A template's event without them gets the envelope id, its sentDate and website."""
    event = finish({"event_name": "Lead", "user_data": {"em": "a@b.co"}}, envelope_id="env-1",
                   sent="2025-12-01T10:00:00Z", now=NOW)  # fmt: skip
    assert event["event_id"] == "env-1" and event["action_source"] == "website"
    assert event["event_time"] == 1764583200
    assert event["user_data"] == {"em": sha("a@b.co")}


@pytest.mark.parametrize(("rendered", "why"), [
    ({"user_data": {"em": "a@b.co"}}, "no event_name"),
    ({"event_name": "Purchase", "user_data": {"fn": "Ana", "ln": "Lima", "ct": "Recife"}},
     "no identifying field"),
    ({"event_name": "Purchase", "user_data": {"em": "a@b.co"}, "event_time": "ontem"},
     "neither unix seconds nor ISO-8601"),
    ("Purchase", "must be a mapping"),
])  # fmt: skip
def test_what_cannot_be_sent_is_a_problem_with_a_reason(rendered, why):
    """No event_name, nobody to match, a time that is not one: refused, with a clear reason."""
    with pytest.raises(Problem, match=why):
        finish(rendered, envelope_id="x", sent=None, now=NOW)


def test_seven_days_is_the_limit():
    """Exactly 7 days is accepted; a minute more is refused with the age in days."""
    check_age({"event_time": int(NOW - 7 * 86400)}, NOW)
    with pytest.raises(Problem, match=r"7\.0 days ago"):
        check_age({"event_time": int(NOW - 7 * 86400 - 60)}, NOW)


def test_custom_data_types():
    """value a number, currency upper case, ids as text, num_items an int; empties dropped."""
    out = custom_data({"value": "301,50", "currency": "brl", "order_id": 123, "content_ids": [1, "", None],
                       "num_items": "2", "content_name": ""})  # fmt: skip
    assert out == {"value": 301.5, "currency": "BRL", "order_id": "123", "content_ids": ["1"],
                   "content_type": "product", "num_items": 2}  # fmt: skip


def test_builtin_purchase_of_the_eduzz_example():
    """invoice_paid becomes a Purchase: order id, paidAt, paid value, products, hashed buyer."""
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    template = builtin_template("myeduzz.invoice_paid", "meta_capi")
    assert template is not None
    rendered = template.render({**doc, "source": "eduzz", "event_id": 1, "received_at": None})
    event = finish(rendered["event"], envelope_id=doc["id"], sent=doc["sentDate"], now=NOW)
    assert event["event_name"] == "Purchase" and event["event_id"] == "12345678"
    assert event["event_time"] == 1704908700  # 2024-01-10T17:45:00Z
    assert event["custom_data"] == {"value": 301.5, "currency": "BRL", "order_id": "12345678",
                                    "content_ids": ["P567", "P789"], "content_name": "Widget X, Gadget Y",
                                    "num_items": 2, "content_type": "product"}  # fmt: skip
    user = event["user_data"]
    assert user["em"] == sha("alice.johnson@example.com")
    assert user["fn"] == sha("alice") and user["ln"] == sha("johnson")
    assert user["external_id"] == sha("66677677767") and user["country"] == sha("br")
    assert user["zp"] == sha("12345123") and user["ct"] == sha("cidade")
    assert not {"fbc", "fbp", "client_ip_address", "client_user_agent"} & set(user)


def test_other_events_have_no_builtin_meta_event():
    """Only paid sales map by themselves: an opened invoice or a ping renders no event."""
    for name in ("myeduzz.invoice_opened", "ping", "nutror.lesson_started", "hotmart.purchase_approved"):
        template = builtin_template(name, "meta_capi")
        assert template is not None and template.render({"data": {}}) == {"event": None}


def test_now_is_used_when_there_is_no_time_at_all():
    """Neither a template time nor sentDate: the moment of sending."""
    event = finish({"event_name": "Lead", "user_data": {"external_id": "7"}}, envelope_id="e",
                   sent=None, now=time.time())  # fmt: skip
    assert abs(event["event_time"] - time.time()) < 5
