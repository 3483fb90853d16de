"""service.eduzz.messages: the built-in message of every Eduzz event, per sink kind."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import msgspec
import pytest

from service import eduzz as messages
from service.render.builtin.messages import builtin_template
from service.render.builtin.specs import SPECS
from service.render.personal import without_secrets

EDUZZ = Path(messages.__file__).parent
FIXTURES = sorted(p.stem for p in (EDUZZ / "fixtures").glob("*.json"))
KINDS = ["slack", "email", "file"]
EVIL = "<!channel> & <https://evil.example|clique>\r\n*bold* "


def load(event: str) -> dict:
    """The fixture envelope of ``event``."""
    return json.loads((EDUZZ / "fixtures" / f"{event}.json").read_text(encoding="utf-8"))


def context(event: str, envelope: dict) -> dict:
    """The render context the worker builds (event name with its app prefix)."""
    return {
        "id": envelope.get("id"),
        "event": event,
        "sentDate": envelope.get("sentDate"),
        "data": envelope.get("data"),
        "source": "eduzz",
        "event_id": 1,
        "received_at": "2024-01-20T15:00:01Z",
    }


def render(event: str, kind: str, envelope: dict | None = None, **options) -> dict:
    """Render the built-in ``kind`` message of ``event`` for its fixture (or ``envelope``)."""
    envelope = load(event) if envelope is None else envelope
    return builtin_template(event, kind, **options).render(context(event, envelope))


def slack_strings(message: dict) -> str:
    """Everything a Slack user would read, as one string."""
    return msgspec.json.encode(message).decode()


def check_block_kit(message: dict) -> None:
    """Assert the Slack message is valid Block Kit within Slack's limits."""
    assert isinstance(message["text"], str) and message["text"].strip()
    assert len(message["text"]) <= 3000
    assert isinstance(message["blocks"], list) and 0 < len(message["blocks"]) <= 50
    for block in message["blocks"]:
        assert block["type"] in {"header", "section", "context", "divider"}
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or block.get("fields")
            assert len(block.get("fields", [])) <= 10
            for field in block.get("fields", []):
                assert field["type"] == "mrkdwn" and 0 < len(field["text"]) <= 2000
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 3000 for e in block["elements"])
    msgspec.json.encode(message)


def poison(node: object) -> object:
    """Every string value replaced by a long hostile one (keys kept)."""
    if isinstance(node, dict):
        return {k: poison(v) for k, v in node.items()}
    if isinstance(node, list):
        return [poison(v) for v in node]
    return EVIL * 300 if isinstance(node, str) else node


# --- every event, every kind ----------------------------------------------------------------


def test_there_is_a_spec_for_every_catalogued_event():
    """The 63 fixtures, the events.tsv rows with a fixture and the spec table agree."""
    with (EDUZZ / "events.tsv").open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        current = {row["event"] for row in rows if row["has_fixture"] == "yes"}
    assert len(FIXTURES) == 63
    assert set(FIXTURES) == current == set(SPECS)


@pytest.mark.parametrize("event", FIXTURES)
def test_slack_message_is_valid_block_kit(event):
    """Each fixture renders to a Slack message with text, blocks and a context footer."""
    message = render(event, "slack")
    check_block_kit(message)
    assert message["blocks"][0]["type"] == "header"
    assert message["blocks"][-1]["type"] == "context"
    assert event in message["blocks"][-1]["elements"][0]["text"]


@pytest.mark.parametrize("event", FIXTURES)
def test_email_message_has_subject_text_and_html(event):
    """Each fixture renders to an e-mail with a one-line subject, text and html."""
    message = render(event, "email")
    assert set(message) == {"subject", "text", "html"}
    assert message["subject"].strip() and "\r" not in message["subject"]
    assert "\n" not in message["subject"]
    assert message["text"].strip() and message["html"].startswith("<div")
    assert SPECS[event].headline in message["subject"]


@pytest.mark.parametrize("event", FIXTURES)
def test_file_message_is_compact(event):
    """Each fixture renders to a compact record carrying the original data, secrets redacted."""
    envelope = load(event)
    message = render(event, "file", envelope)
    assert message == {
        "event": event,
        "title": SPECS[event].headline,
        "summary": message["summary"],
        "data": without_secrets(envelope["data"]),
    }
    assert message["summary"].startswith(f"{SPECS[event].emoji} {SPECS[event].headline}")
    msgspec.json.encode(message)


@pytest.mark.parametrize("event", FIXTURES)
def test_webhook_has_no_builtin_message(event):
    """Webhooks forward the original body: no template."""
    assert builtin_template(event, "webhook") is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("event", FIXTURES)
def test_hostile_payload_stays_escaped_and_within_limits(event, kind):
    """Huge values full of Slack/HTML markup neither break limits nor inject."""
    envelope = poison(load(event))
    envelope["event"] = event
    message = render(event, kind, envelope)
    if kind == "slack":
        check_block_kit(message)
        assert "<!channel>" not in slack_strings(message)
    if kind == "email":
        assert "\n" not in message["subject"] and len(message["subject"]) <= 200
        assert "<!channel>" not in message["html"] and "<https://evil" not in message["html"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("event", FIXTURES)
def test_empty_data_still_renders(event, kind):
    """A payload without data renders with placeholders instead of failing."""
    message = render(event, kind, {"event": event, "data": {}})
    if kind == "slack":
        check_block_kit(message)
        assert "—" in slack_strings(message)


# --- content ----------------------------------------------------------------------------


def test_invoice_paid_shows_the_sale():
    """A paid invoice shows buyer, masked e-mail, products, value, method and ids."""
    message = render("myeduzz.invoice_paid", "slack")
    assert message["text"] == "💰 Venda aprovada: Alice Johnson · Widget X, Gadget Y · R$ 301,50"
    text = slack_strings(message)
    for expected in ["Alice Johnson", "a***@example.com", "Widget X, Gadget Y", "R$ 301,50",
                     "Cartão de crédito", "1x", "cupomeduzz", "12345678", "20/01/2024 12:00"]:
        assert expected in text  # fmt: skip
    assert "alice.johnson@example.com" not in text


def test_invoice_paid_email():
    """The paid-invoice e-mail carries the same facts as the Slack message."""
    message = render("myeduzz.invoice_paid", "email")
    assert message["subject"] == "💰 Venda aprovada: Alice Johnson · Widget X, Gadget Y · R$ 301,50"
    assert "Valor pago: R$ 301,50" in message["text"]
    assert "<td style=\"padding:4px 0\">Alice Johnson</td>" in message["html"]


def test_student_course_finished_shows_student_and_course():
    """A finished course names the student, the course and the school."""
    text = slack_strings(render("alpaclass.student_course_finished", "slack"))
    assert "Fulano da Silva" in text and "Day trade para iniciantes" in text
    assert "Escola de Beltrano" in text


def test_lesson_progress_is_shown():
    """Lesson events show the course progress when the payload has it."""
    message = render("alpaclass.student_lesson_finished", "slack")
    assert "50% do curso" in message["text"]


def test_refund_shows_value_and_reason():
    """A refund shows the refunded value, the reason and who refunded."""
    text = render("myeduzz.invoice_refunded", "email")["text"]
    assert "Valor reembolsado: R$ 301,50" in text
    assert "Motivo: Erro na forma de pagamento" in text and "João Silva" in text


def test_chargeback_shows_dispute_status():
    """A chargeback shows the dispute status and the documents deadline."""
    text = render("myeduzz.invoice_chargeback", "email")["text"]
    assert "Contestação: Aguardando documentos" in text
    assert "Prazo para documentos: 20/01/2024 14:45" in text


@pytest.mark.parametrize(
    "commissions",
    [
        None,  # the fixture: flat {id, name, currency, value}
        {"producer": {"id": 1, "name": "Producer name",
                      "commission": {"value": 90, "currency": "BRL"}},
         "coproducers": [{"id": 2, "name": "Coproducer name",
                          "commission": {"value": 10, "currency": "BRL"}}]},
    ],
)  # fmt: skip
def test_commission_handles_flat_and_nested_shapes(commissions):
    """commission_processed reads the documented nested and the example flat shape."""
    envelope = load("myeduzz.commission_processed")
    if commissions is not None:
        envelope["data"]["commissions"] = commissions
    text = render("myeduzz.commission_processed", "email", envelope)["text"]
    assert "Comissão do produtor: R$ 90,00" in text
    assert "Coprodutores: Coproducer name: R$ 10,00" in text


def test_contract_attempt_shows_fail_reason():
    """A refused subscription charge shows the reason Eduzz gives."""
    envelope = load("myeduzz.contract_card_attempted")
    envelope["data"]["invoice"].update(status="refused", failReason="SA_EMLPS",
                                       failReasonMessage="Operadora recusou a compra")  # fmt: skip
    message = render("myeduzz.contract_card_attempted", "slack", envelope)
    assert "Recusada · Operadora recusou a compra" in message["text"]


def test_cart_abandonment_has_recovery_link():
    """An abandoned cart names the buyer and links to the checkout."""
    text = slack_strings(render("sun.cart_abandonment", "slack"))
    assert "John Doe" in text and "<https://chk.eduzz.com/984923?transactionKey=" in text
    assert "|Link de recuperação>" in text


def test_blinket_and_safevideo_content():
    """Attendance shows participant, event and batch; SafeVideo shows file and error."""
    attendance = slack_strings(render("blinket.attendance_added", "slack"))
    assert all(s in attendance for s in ["Maria Silva", "Teste evento", "Lote 1", "R$ 10,00"])
    error = render("safevideo.upload_error", "slack")
    assert error["text"] == (
        "🚨 Erro no upload do arquivo: _Transporte-local.mp4 · Erro ao enviar arquivo"
    )


def test_timezone_option():
    """The footer date follows the configured time zone."""
    paid_sp = slack_strings(render("myeduzz.invoice_paid", "slack"))
    paid_utc = slack_strings(render("myeduzz.invoice_paid", "slack", timezone="UTC"))
    assert "20/01/2024 12:00" in paid_sp and "20/01/2024 15:00" in paid_utc


# --- unknown events, names, caching -----------------------------------------------------------


@pytest.mark.parametrize("event", ["acme.thing_happened", "ping", "myeduzz.invoice_overdue"])
@pytest.mark.parametrize("kind", KINDS)
def test_unknown_events_get_a_generic_message(event, kind):
    """Events without a spec list their top-level data fields."""
    data = {"message": "ping", "buyer": {"name": "Ana"}, "tags": ["a", "b"], "long": "z" * 500}
    message = render(event, kind, {"id": "e1", "event": event, "data": data})
    if kind == "slack":
        check_block_kit(message)
        body = message["blocks"][1]["text"]["text"]
        assert "*message:* ping" in body and "*buyer.name:* Ana" in body
        assert '*tags:* ["a", "b"]' in body and "z" * 99 + "…" in body
        assert event in message["text"]
    if kind == "email":
        assert event in message["subject"] and "buyer.name: Ana" in message["text"]
    if kind == "file":
        assert message["event"] == event and message["data"] == data


def test_generic_message_lists_at_most_fifteen_fields():
    """A wide payload is cut, saying how many fields were left out."""
    data = {f"campo{i}": i for i in range(40)}
    message = render("acme.wide", "slack", {"event": "acme.wide", "data": data})
    check_block_kit(message)
    assert "… e mais 25 campo(s)" in message["blocks"][1]["text"]["text"]


def test_unprefixed_event_names_resolve():
    """Eduzz examples drop the app prefix; the built-in message still matches."""
    assert builtin_template("contract_created", "slack") is builtin_template(
        "myeduzz.contract_created", "slack"
    )


def test_templates_are_cached_and_kinds_checked():
    """Each (event, kind, zone) compiles once; unknown kinds are refused."""
    first = builtin_template("myeduzz.invoice_paid", "slack")
    assert builtin_template("myeduzz.invoice_paid", "slack") is first
    assert builtin_template("myeduzz.invoice_paid", "slack", timezone="UTC") is not first
    assert builtin_template("x.one", "email") is builtin_template("x.two", "email")
    with pytest.raises(ValueError):
        builtin_template("myeduzz.invoice_paid", "sms")


def test_fixture_objects_are_not_mutated():
    """Rendering never changes the payload it reads."""
    envelope = load("myeduzz.invoice_paid")
    before = copy.deepcopy(envelope)
    for kind in KINDS:
        render("myeduzz.invoice_paid", kind, envelope)
    assert envelope == before
