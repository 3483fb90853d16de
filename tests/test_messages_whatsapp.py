"""Built-in whatsapp and google_sheets messages for every Eduzz event; WhatsApp escaping; phones."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.render.builtin.specs import SPECS
from service.render.phones import PhoneError, mask, to_e164
from service.render.whatsapp_format import TEXT_LIMIT, whatsapp_escape
from test_messages import FIXTURES, load, poison, render

HEADERS = ["Data", "Evento", "Comprador", "E-mail", "Produto", "Valor (R$)", "Pagamento", "Status",
           "ID do evento"]  # fmt: skip
MARKUP = re.compile(r"(?<![\w])[*_~`][^\s*_~`]")  # a marker that could open formatting


@pytest.mark.parametrize("event", FIXTURES)
def test_whatsapp_text_for_every_event(event: str) -> None:
    """Bold headline, the event's facts, within 4,096 characters; e-mails masked."""
    text = render(event, "whatsapp")["text"]
    spec = SPECS[event]
    assert text.startswith(f"*{spec.emoji} {spec.headline}*\n")
    assert 0 < len(text) <= TEXT_LIMIT and event in text
    assert "@example.com" not in text or "\u2217\u2217\u2217@" in text


@pytest.mark.parametrize("event", FIXTURES)
def test_hostile_payload_is_inert_and_within_the_limit(event: str) -> None:
    """Huge values full of WhatsApp markup stay within 4,096 characters and cannot format."""
    envelope = poison(load(event))
    envelope["event"] = event
    text = render(event, "whatsapp", envelope)["text"]
    assert len(text) <= TEXT_LIMIT
    written = {f"*{label}:*" for label, _ in SPECS[event].fields} | {
        f"*{SPECS[event].emoji} {SPECS[event].headline}*"
    }
    for piece in written:
        text = text.replace(piece, "")
    assert "*bold*" not in text and not MARKUP.search(text.replace(" \u2217", " ")), text[:300]
    assert "\r" not in text


@pytest.mark.parametrize("event", FIXTURES)
def test_sheet_columns_for_every_event(event: str) -> None:
    """The same nine columns for every event; the event id and the headline are filled in."""
    envelope = load(event)
    columns = render(event, "google_sheets", envelope)["columns"]
    assert [c["header"] for c in columns] == HEADERS
    values = {c["header"]: c["value"] for c in columns}
    assert values["Evento"] == SPECS[event].headline
    assert values["ID do evento"] == (envelope.get("id") or "ponte-1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", values["Data"])  # unambiguous
    assert all(isinstance(v, (str, int, float)) for v in values.values() if v is not None)


def test_sale_columns_in_the_sheet() -> None:
    """An approved sale: local time, buyer, unmasked e-mail (private sheet), value as a number."""
    values = {
        c["header"]: c["value"] for c in render("myeduzz.invoice_paid", "google_sheets")["columns"]
    }
    assert (
        values["Comprador"] == "Alice Johnson" and values["E-mail"] == "alice.johnson@example.com"
    )
    assert values["Valor (R$)"] == 301.5 and values["Pagamento"] == "Cartão de crédito"
    assert values["Status"] == "Paga" and values["Data"] == "2024-01-20 12:00:00"


@pytest.mark.parametrize(("event", "value"), [
    ("myeduzz.invoice_paid", 301.5), ("myeduzz.invoice_refunded", -301.5),
    ("myeduzz.invoice_chargeback", -301.5), ("invoice_refunded", -301.5),
])
def test_refunds_and_chargebacks_are_negative_so_a_column_sum_is_revenue(event: str, value: float) -> None:
    """A refund or a chargeback takes money back: its value is negative (also unprefixed names)."""
    envelope = load(event if "." in event else f"myeduzz.{event}")
    columns = render(event, "google_sheets", envelope)["columns"]
    assert {c["header"]: c["value"] for c in columns}["Valor (R$)"] == value


@pytest.mark.parametrize("kind", ["whatsapp", "google_sheets"])
@pytest.mark.parametrize("event", ["acme.thing_happened", "ping"])
def test_unknown_events_get_a_generic_message(kind: str, event: str) -> None:
    """Events without a spec still render (fields listed / default columns)."""
    message = render(event, kind, {"event": event, "data": {"a_b": "*x*"}})
    if kind == "whatsapp":
        assert message["text"].startswith(f"*📨 Evento {event}*") and "\u2217x\u2217" in message["text"]
    else:
        assert [c["header"] for c in message["columns"]] == HEADERS


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("*oi*", "\u2217oi\u2217"), ("_it_ ~s~", "\uff3fit\uff3f \u223cs\u223c"),
        ("```code```", "\u02cb\u02cb\u02cbcode\u02cb\u02cb\u02cb"),
        ("joao_silva", "joao_silva"), ("a\n> citação", "a > citação"), ("x\r\n- item", "x - item"),
        ("https://x.com/a_b*c", "https://x.com/a_b*c"), ("https://x.com/ *y*", "https://x.com/ \u2217y\u2217"),
    ],
)  # fmt: skip
def test_whatsapp_escape(text: str, escaped: str) -> None:
    """Markers that could pair become look-alikes; line breaks become spaces; bare URLs stay."""
    assert whatsapp_escape(text) == escaped


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(11) 98765-4321", "+5511987654321"), ("11987654321", "+5511987654321"),
        ("011 98765-4321", "+5511987654321"), ("+55 11 98765-4321", "+5511987654321"),
        ("5511987654321", "+5511987654321"), ("0055 11 98765-4321", "+5511987654321"),
        ("(21) 3456-7890", "+552134567890"), ("+1 650 555 1234", "+16505551234"),
        ({"countryCode": "55", "areaCode": "11", "number": "987654321"}, "+5511987654321"),
    ],
)  # fmt: skip
def test_numbers_are_normalised_with_brazils_rules(raw: object, e164: str) -> None:
    """Brazilian numbers in any usual writing, and foreign ones with +, become E.164."""
    assert to_e164(raw) == e164


@pytest.mark.parametrize(
    "raw", [None, "", "   ", "abc", "123", "(11) 1234", "+55 11 98765-43210000"]
)
def test_bad_numbers_are_refused_without_showing_them(raw: object) -> None:
    """Not a phone number: PhoneError whose text shows at most the last four digits."""
    with pytest.raises(PhoneError) as info:
        to_e164(raw)
    digits = re.sub(r"\D", "", str(raw or ""))
    assert len(digits) < 5 or digits not in str(info.value)


def test_mask_shows_only_the_last_digits() -> None:
    """Masking keeps the last four digits only."""
    assert mask("+5511987654321") == "…4321" and mask("123") == "…23" and mask("12") == "…"


@given(st.text())
def test_escaped_text_can_never_format(text: str) -> None:
    """For any text: no line breaks, and every marker left sits between two letters or digits."""
    out = whatsapp_escape(text)
    if out == text and text.startswith(("http://", "https://")):
        return  # a bare URL is left as is
    assert "\n" not in out and "\r" not in out
    for at, char in enumerate(out):
        if char in "*_~`":
            assert 0 < at < len(out) - 1 and out[at - 1].isalnum() and out[at + 1].isalnum()


@given(st.one_of(st.text(), st.integers(), st.none(),
                 st.dictionaries(st.sampled_from(["countryCode", "areaCode", "number"]), st.text())))
def test_any_input_is_a_number_or_a_phone_error(value: object) -> None:
    """Normalisation never fails with anything but PhoneError, and success is E.164."""
    try:
        number = to_e164(value)
    except PhoneError:
        return
    assert re.fullmatch(r"\+[1-9]\d{6,14}", number)
