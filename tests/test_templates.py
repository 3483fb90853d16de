"""service.templates: sandboxed structured templates, escaping per sink kind, filters."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from service.errors import ConfigError, TemplateError
from service.render import filters
from service.render.templates import compile_template

EVIL = "<!channel> & <https://evil.example|clique>"


def context(**data: object) -> dict:
    """A render context like the one the worker builds."""
    return {
        "id": "zszf0uk65g701io8dbsckfeld",
        "event": "myeduzz.invoice_paid",
        "sentDate": "2024-01-09T14:45:00.000Z",
        "data": data,
        "source": "eduzz",
        "event_id": 7,
        "received_at": "2024-01-09T14:45:01Z",
    }


def render(source: object, kind: str = "webhook", timezone: str = "America/Sao_Paulo", **data):
    """Compile ``{"v": source}`` and return the rendered ``v``."""
    tpl = compile_template({"v": source}, kind=kind, timezone=timezone)
    return tpl.render(context(**data))["v"]


# --- filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.56, "R$ 1.234,56"),
        (301.5, "R$ 301,50"),
        (0, "R$ 0,00"),
        (10, "R$ 10,00"),
        (-10, "-R$ 10,00"),
        (1234567.891, "R$ 1.234.567,89"),
        ("1234.5", "R$ 1.234,50"),
        ("1.234,56", "R$ 1.234,56"),
        (Decimal("0.005"), "R$ 0,01"),
        ({"currency": "BRL", "value": 301.5}, "R$ 301,50"),
        ({"currency": "USD", "value": 10}, "US$ 10,00"),
        ({"currency": "EUR", "value": "10"}, "€ 10,00"),
        ({"currency": "ARS", "value": 10}, "ARS 10,00"),
        ({"value": 5}, "R$ 5,00"),
        ({"currency": "BRL"}, ""),
        (None, ""),
        ("", ""),
        ("abc", ""),
        (True, ""),
        (float("nan"), ""),
        ([1], ""),
    ],
)
def test_brl(value, expected):
    """brl formats numbers and money maps the Brazilian way and never crashes."""
    assert filters.brl(value) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (1234.5, None, "1.234,5"),
        (1234, None, "1.234"),
        (1234.5678, 2, "1.234,57"),
        (-1234.5, 1, "-1.234,5"),
        (0.1 + 0.2, None, "0,3"),
        ("7", 2, "7,00"),
        (None, None, ""),
        ("x", 2, ""),
    ],
)
def test_number(value, digits, expected):
    """number uses pt-BR separators; digits fixes the decimals."""
    assert filters.number(value, digits) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [((50,), "50%"), ((33.333, 1), "33,3%"), ((0.5, None, True), "50%"), ((None,), "")],
)
def test_percent(args, expected):
    """percent takes 0-100 values (or a ratio) and appends %."""
    assert filters.percent(*args) == expected


@pytest.mark.parametrize(
    ("value", "zone", "expected_date", "expected_datetime"),
    [
        ("2024-01-09T14:45:00.000Z", "America/Sao_Paulo", "09/01/2024", "09/01/2024 11:45"),
        ("2024-01-09T14:45:00.000Z", "UTC", "09/01/2024", "09/01/2024 14:45"),
        ("2024-01-09T14:45:00Z", "America/Sao_Paulo", "09/01/2024", "09/01/2024 11:45"),
        ("2024-01-09T02:00:00Z", "America/Sao_Paulo", "08/01/2024", "08/01/2024 23:00"),
        ("2023-09-20 17:25:42", "America/Sao_Paulo", "20/09/2023", "20/09/2023 14:25"),
        ("2024-01-09T14:45:00-03:00", "UTC", "09/01/2024", "09/01/2024 17:45"),
        ("2024-01-09", "America/Sao_Paulo", "09/01/2024", "09/01/2024"),
        ("não é data", "UTC", "não é data", "não é data"),
    ],
)
def test_date_and_datetime(value, zone, expected_date, expected_datetime):
    """date/datetime parse Eduzz's ISO forms and convert to the configured zone."""
    assert render("{{ data.at | date }}", timezone=zone, at=value) == expected_date
    assert render("{{ data.at | datetime }}", timezone=zone, at=value) == expected_datetime


def test_date_of_missing_value_is_empty():
    """A missing or null date renders as an empty string."""
    assert render("[{{ data.at | datetime }}]", at=None) == "[]"
    assert render("[{{ data.nothing | date }}]") == "[]"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("mask_email", "alice.johnson@example.com", "a***@example.com"),
        ("mask_email", "not-an-email", "n***"),
        ("mask_email", None, ""),
        ("mask_document", "123.456.789-01", "***.456.789-**"),
        ("mask_document", "12345678901", "***.456.789-**"),
        ("mask_document", 99999999999, "***.999.999-**"),
        ("mask_document", "12.345.678/0001-90", "**.345.678/0001-**"),
        ("mask_document", "12333333", "******33"),
        ("mask_document", "ab", "**"),
        ("mask_document", None, ""),
        ("mask_phone", "+5515999999999", "+*********9999"),
        ("mask_phone", "555-789-1234", "***-***-1234"),
        ("mask_phone", {"countryCode": "55", "areaCode": "15", "number": "5999999999"},
         "** ** ******9999"),
        ("mask_phone", "123", "***"),
        ("mask_phone", None, ""),
        ("payment_method", "bankslip", "Boleto"),
        ("payment_method", "pix", "Pix"),
        ("payment_method", "creditCard", "Cartão de crédito"),
        ("payment_method", "combinedPayment", "Pagamento combinado"),
        ("payment_method", "installmentBankslip", "Boleto parcelado"),
        ("payment_method", "eduzzBalance", "Saldo Eduzz"),
        ("payment_method", "unknown", "Desconhecido"),
        ("payment_method", "paypal", "PayPal"),
        ("payment_method", "barter", "barter"),
        ("status_pt", "open", "Aberta"),
        ("status_pt", "paid", "Paga"),
        ("status_pt", "canceled", "Cancelada"),
        ("status_pt", "refunded", "Reembolsada"),
        ("status_pt", "waitingPayment", "Aguardando pagamento"),
        ("status_pt", "upToDate", "Em dia"),
        ("status_pt", "late", "Atrasada"),
        ("status_pt", "pendingDocuments", "Aguardando documentos"),
        ("status_pt", "somethingNew", "somethingNew"),
        ("status_pt", None, ""),
    ],
)  # fmt: skip
def test_label_and_mask_filters(name, value, expected):
    """Masks hide personal data; labels translate Eduzz enums and keep unknown values."""
    assert getattr(filters, name)(value) == expected


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        ("https://x.example/a?b=1&c=2", "Abrir", "<https://x.example/a?b=1&amp;c=2|Abrir>"),
        ("http://x.example", None, "<http://x.example|http://x.example>"),
        ("https://x.example/a|b", "<b>", "<https://x.example/a%7Cb|&lt;b&gt;>"),
        ("javascript:alert(1)", "Abrir", "Abrir"),
        ("example.com/bankslip.pdf", "Boleto", "Boleto"),
        (None, "Link", "Link"),
    ],
)
def test_slack_link(url, text, expected):
    """slack_link builds <url|text> only for http(s) URLs, escaping both parts."""
    assert render("{{ data.url | slack_link(data.text) }} ", kind="slack", url=url, text=text) == (
        expected + " "
    )


def test_clip_and_flatten():
    """clip shortens with an ellipsis; flatten goes one level deep."""
    assert filters.clip("abcdef", 4) == "abc…"
    assert filters.clip(None) == ""
    assert filters.flatten({"a": {"b": 1}, "c": 2, "d": {}}) == {"a.b": 1, "c": 2, "d": {}}
    assert filters.flatten("x") == {}


# --- structure, native leaves, fields ------------------------------------------------------


def test_native_leaf_keeps_the_type():
    """A one-expression leaf renders to the native value; other leaves are strings."""
    tpl = compile_template(
        {"value": "{{ data.price.value }}", "label": "Valor: {{ data.price.value }}",
         "spaced": "  {{ data.price }}  ", "flag": "{{ data.flag }}", "missing": "{{ data.nope }}",
         "constant": 3, "none": None, "list": ["{{ data.price.value * 2 }}", True]},
        kind="webhook",
    )  # fmt: skip
    out = tpl.render(context(price={"currency": "BRL", "value": 301.5}, flag=False))
    assert out == {
        "value": 301.5, "label": "Valor: 301.5", "spaced": {"currency": "BRL", "value": 301.5},
        "flag": False, "missing": None, "constant": 3, "none": None, "list": [603.0, True],
    }  # fmt: skip
    assert isinstance(out["value"], float)
    msgspec.json.encode(out)


def test_missing_fields_render_empty():
    """However deep, a missing payload field is an empty string, not an error."""
    assert render("[{{ data.buyer.address.city }}]") == "[]"
    assert render("[{% for i in data.nothing %}x{% endfor %}]") == "[]"


def test_mapping_keys_win_over_methods():
    """data.items is the invoice's items list, not dict.items."""
    items = [{"name": "Widget X"}, {"name": "Gadget Y"}]
    assert render("{{ data.items | map(attribute='name') | join(', ') }}", items=items) == (
        "Widget X, Gadget Y"
    )
    assert render("[{{ data.values }}]") == "[]"


def test_fields_lists_payload_paths():
    """fields has every dotted path read, without loop or set variables."""
    tpl = compile_template(
        {"text": "{{ data.buyer.name }} {{ data.price.value | brl }}"
                 "{% for i in data.items %}{{ i.name }}{% endfor %}",
         "more": ["{% set x = data.offer %}{{ x.name }} {{ id }} {{ data['utm'].source }}",
                  "{{ data.items[0].name }} {{ loop }}"]},
        kind="slack",
    )  # fmt: skip
    assert {"data.buyer.name", "data.price.value", "data.items", "id", "data.offer"} <= tpl.fields
    assert "data.utm.source" in tpl.fields
    assert not {"i", "i.name", "x", "x.name", "loop"} & tpl.fields
    assert isinstance(tpl.fields, frozenset)


# --- errors -------------------------------------------------------------------------------


def test_syntax_errors_name_every_leaf_and_line():
    """All leaves' syntax errors come back in one ConfigError with path and line."""
    tree = {"text": "ok {{ x", "blocks": [{"text": "a\n{% if %}"}], "body": "{{ y | nope }}"}
    with pytest.raises(ConfigError) as info:
        compile_template(tree, kind="slack", where="routes[0].to[1].template")
    errors = info.value.errors
    assert len(errors) == 3
    assert errors[0].startswith("routes[0].to[1].template.text: template syntax error at line 1:")
    assert errors[1].startswith(
        "routes[0].to[1].template.blocks[0].text: template syntax error at line 2:"
    )
    assert "nope" in errors[2]


def test_unknown_filter_in_a_branch_is_a_config_error():
    """An unknown filter is caught at compile time even inside {% if %}."""
    with pytest.raises(ConfigError, match="no filter named 'brll'"):
        compile_template("{% if data.x %}{{ data.x | brll }}{% endif %}", kind="webhook")


def test_bad_kind_and_time_zone():
    """An unknown kind is a programming error; an unknown zone is a config error."""
    with pytest.raises(ValueError, match="kind"):
        compile_template({}, kind="sms")
    with pytest.raises(ConfigError, match="time zone"):
        compile_template({}, kind="slack", timezone="Mars/Olympus")


@pytest.mark.parametrize(
    "source",
    [
        "{{ 1/0 }}",
        "x {{ 1/0 }}",
        "{{ 'a' + 1 }}",
        "{{ data.text | date('%Q') ~ (data.text - 1) }}",
        "{{ range }}",
        "{{ lipsum() | int / 0 }}",
        "{{ data.items[0:2] | sum }}",
    ],
)
def test_runtime_failures_are_template_errors(source):
    """Any failure while rendering is a TemplateError naming the leaf."""
    with pytest.raises(TemplateError, match=r"^template\.v: "):
        render(source, items=["a", "b"], text="x")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__.__mro__ }}",
        "x {{ ''.__class__ }}",
        "{{ data.__class__ }}",
        "[{{ data.__class__ }}]",
        "{{ data.buyer.__init__.__globals__ }}",
        "{% for c in data.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ data.__dict__ }}",
        "{{ range.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
@pytest.mark.parametrize("kind", ["slack", "webhook", "email", "file"])
def test_sandbox_refuses_python_internals(source, kind):
    """Reaching for Python internals is a TemplateError and never leaks them."""
    with pytest.raises(TemplateError, match="unsafe") as info:
        render(source, kind=kind, buyer={"name": "A"})
    assert "<class" not in str(info.value) and "<function" not in str(info.value)


def test_template_error_is_the_only_exception():
    """Even a JSON-less native value fails as TemplateError."""
    with pytest.raises(TemplateError, match="not a JSON value"):
        render("{{ lipsum }}")


# --- escaping per kind --------------------------------------------------------------------


def test_slack_output_is_escaped():
    """Payload values cannot ping or link in Slack; author text and slack_link stay intact."""
    tpl = compile_template(
        {"text": "*Comprador* <@U123> {{ data.buyer.name }}",
         "native": "{{ data.buyer }}", "bare": "{{ data.buyer.name }}",
         "link": "{{ data.url | slack_link(data.buyer.name) }}"},
        kind="slack",
    )  # fmt: skip
    out = tpl.render(context(buyer={"name": EVIL}, url="https://ok.example/x"))
    escaped = "&lt;!channel&gt; &amp; &lt;https://evil.example|clique&gt;"
    assert out["text"] == f"*Comprador* <@U123> {escaped}"
    assert out["native"] == {"name": escaped}
    assert out["bare"] == escaped
    assert out["link"] == f"<https://ok.example/x|{escaped}>"
    assert "<!channel>" not in msgspec.json.encode(out).decode()


def test_email_html_is_escaped_and_subject_is_one_line():
    """HTML leaves are autoescaped; the subject loses CR/LF; text stays plain."""
    tpl = compile_template(
        {"subject": "Venda: {{ data.buyer.name }}\n", "text": "{{ data.buyer.name }}",
         "html": "<p>{{ data.buyer.name }}</p>{{ data.safe | safe }}"},
        kind="email",
    )  # fmt: skip
    name = "<script>alert(1)</script>\r\nBcc: x@example.com"
    out = tpl.render(context(buyer={"name": name}, safe="<b>ok</b>"))
    assert "\r" not in out["subject"] and "\n" not in out["subject"]
    assert out["subject"] == "Venda: <script>alert(1)</script> Bcc: x@example.com"
    assert out["html"].startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt;")
    assert out["html"].endswith("<b>ok</b>")
    assert out["text"] == name


def test_webhook_output_is_plain():
    """Webhook and file templates do not escape."""
    assert render("x {{ data.buyer.name }}", kind="webhook", buyer={"name": EVIL}) == f"x {EVIL}"
    assert render("x {{ data.buyer.name }}", kind="file", buyer={"name": EVIL}) == f"x {EVIL}"


def test_missing_keys_never_reach_dict_methods():
    """A missing key named like a dict method is missing, in every access form."""
    assert render("[{{ data['items'] }}|{{ data.get }}|{{ data.keys | length }}]") == "[||0]"
    rows = [{"name": "a"}, {"other": 1}]
    assert render("{{ data.rows | map(attribute='values') | select | list }}", rows=rows) == []
