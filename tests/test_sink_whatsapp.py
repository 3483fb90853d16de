"""WhatsApp sink against a local fake of the Cloud API: payloads, numbers, errors, progress."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import structlog
from fake_graph import PHONE_ID, TOKEN, VERSION, FakeGraph

from service.__main__ import main
from service.config.schema import WhatsAppConfig, WhatsAppTemplateConfig
from service.errors import PermanentSinkError, SinkError, SinkGoneError, TransientSinkError
from service.sinks.registry import build_sink
from service.sinks.whatsapp import WhatsAppSender
from sink_contract import (
    HOST,
    http,  # noqa: F401 - a fixture
    outgoing,
)

SALE = {"id": "evt-1", "event": "myeduzz.invoice_paid",
        "data": {"buyer": {"name": "Alice", "cellphone": "(11) 98765-4321"}}}  # fmt: skip
PERSONAL = ("98765-4321", "987654321", "11987654321")


@pytest.fixture
async def graph(aiohttp_server: Any) -> tuple[FakeGraph, str]:
    """The fake Graph API and its base URL (with the pinned version)."""
    fake = FakeGraph()
    server = await aiohttp_server(fake.app(), host=HOST)
    return fake, f"http://{HOST}:{server.port}/{VERSION}"


@pytest.fixture
def make(
    graph: tuple[FakeGraph, str], http: aiohttp.ClientSession
) -> Callable[..., WhatsAppSender]:
    """``make(to=[...], template=...)``: a whatsapp sink talking to the fake."""

    def build(**changes: Any) -> WhatsAppSender:
        fields: dict[str, Any] = {"token": TOKEN, "phone_number_id": PHONE_ID, "api_url": graph[1],
                                  "to": ["{{ data.buyer.cellphone }}"], **changes}  # fmt: skip
        sink = build_sink("zap", WhatsAppConfig(**fields), http=http, timeout=2)
        assert isinstance(sink, WhatsAppSender)
        return sink

    return build


def sale(message: dict[str, Any] | None = None, doc: dict[str, Any] = SALE, **changes: Any) -> Any:
    """An outgoing sale with ``message`` rendered."""
    return outgoing(
        body=json.dumps(doc).encode(), message=message or {"text": "*Venda* aprovada"}, **changes
    )


async def failing(sink: WhatsAppSender, kind: type[SinkError], out: Any = None) -> SinkError:
    """Send, expect exactly ``kind``; neither the token nor the full number leaks anywhere."""
    with structlog.testing.capture_logs() as logs, pytest.raises(kind) as info:
        await sink.send(out or sale())
    assert type(info.value) is kind, repr(info.value)
    for text in (str(info.value), repr(info.value), repr(logs)):
        assert TOKEN not in text
        assert not any(p in text for p in PERSONAL), text
    return info.value


async def test_free_text_reaches_the_buyer_in_e164(make: Any, graph: Any) -> None:
    """The templated number is normalised to +55…; the body is the rendered text, no preview."""
    fake, _ = graph
    result = await make().send(sale())
    [sent] = fake.sent
    assert sent == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+5511987654321",
                    "type": "text", "text": {"preview_url": False, "body": "*Venda* aprovada"}}  # fmt: skip
    assert fake.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert result.response.startswith("sent to 1: wamid.")


async def test_template_message_with_body_parameters(make: Any, graph: Any) -> None:
    """A sink with ``template`` sends it with the route's parameters, cleaned of line breaks."""
    fake, _ = graph
    sink = make(template=WhatsAppTemplateConfig(name="compra_aprovada", language="pt_BR"))
    await sink.send(sale({"parameters": ["Alice\nJohnson", "R$ 301,50"]}))
    template = fake.sent[0]["template"]
    assert template["name"] == "compra_aprovada" and template["language"] == {"code": "pt_BR"}
    assert template["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Alice Johnson"},
                {"type": "text", "text": "R$ 301,50"},
            ],
        }
    ]


async def test_empty_parameter_is_sent_as_a_dash(make: Any, graph: Any) -> None:
    """Meta refuses empty parameters: a missing value becomes "—"."""
    fake, _ = graph
    sink = make(template=WhatsAppTemplateConfig(name="compra_aprovada"))
    await sink.send(sale({"parameters": [None, "x"]}))
    assert fake.sent[0]["template"]["components"][0]["parameters"][0]["text"] == "—"


async def test_long_text_is_cut_not_refused(make: Any, graph: Any) -> None:
    """Over 4,096 characters the text is cut with a visible "…"."""
    fake, _ = graph
    await make().send(sale({"text": "x" * 5000}))
    body = fake.sent[0]["text"]["body"]
    assert len(body) == 4096 and body.endswith("…")


@pytest.mark.parametrize("phone", [None, "", "12", "not a phone", "(11) 1234"])
async def test_missing_or_bad_number_fails_for_good(make: Any, graph: Any, phone: Any) -> None:
    """A recipient that is not a phone number: permanent, nothing sent, number not shown."""
    fake, _ = graph
    doc = {**SALE, "data": {"buyer": {"cellphone": phone}}}
    error = await failing(make(), PermanentSinkError, sale(doc=doc))
    assert "to[0]" in str(error) and not fake.requests


async def test_every_recipient_is_served_once(make: Any, graph: Any) -> None:
    """Fixed numbers and event paths mix; the same number written twice is sent once."""
    fake, _ = graph
    sink = make(to=["+55 21 91234-5678", "data.buyer.cellphone", "5511987654321"])
    await sink.send(sale())
    assert [s["to"] for s in fake.sent] == ["+5521912345678", "+5511987654321"]


async def test_a_retry_skips_recipients_that_already_got_it(make: Any, graph: Any) -> None:
    """Partial success: the retry (and a later replay) sends only to the one that failed."""
    fake, _ = graph
    sink = make(to=["+55 21 91234-5678", "{{ data.buyer.cellphone }}"])
    fake.busy["5511987654321"] = 130429
    error = await failing(sink, TransientSinkError)
    assert "sent to 1 of 2" in str(error)
    await sink.send(sale(attempt=2))
    assert [s["to"] for s in fake.sent] == ["+5521912345678", "+5511987654321"]


async def test_a_permanent_failure_does_not_stop_the_others(make: Any, graph: Any) -> None:
    """One recipient not on WhatsApp: the others still get it; the delivery fails for good."""
    fake, _ = graph
    fake.on_whatsapp.discard("5521912345678")
    sink = make(to=["+55 21 91234-5678", "{{ data.buyer.cellphone }}"])
    error = await failing(sink, PermanentSinkError)
    assert "sent to 1 of 2" in str(error) and "131026" in str(error)
    assert [s["to"] for s in fake.sent] == ["+5511987654321"]


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (4, 400, TransientSinkError), (80007, 400, TransientSinkError), (130429, 400, TransientSinkError),
        (131048, 400, TransientSinkError), (131056, 400, TransientSinkError), (131000, 500, TransientSinkError),
        (131026, 400, PermanentSinkError), (100, 400, PermanentSinkError), (132000, 400, PermanentSinkError),
        (132015, 400, PermanentSinkError), (131047, 400, PermanentSinkError), (999999, 400, PermanentSinkError),
        (999999, 503, TransientSinkError),
    ],
)  # fmt: skip
async def test_graph_error_codes_are_classified(
    make: Any, graph: Any, code: int, status: int, expected: type[SinkError]
) -> None:
    """Rate limits and outages retry; number, parameter, template and window errors do not."""
    fake, _ = graph
    fake.script.append((status, code))
    error = await failing(make(), expected)
    assert f"Graph API error {code}" in str(error) and error.status_code == status


async def test_outside_the_window_says_to_use_a_template(make: Any, graph: Any) -> None:
    """Free text to someone who has not written in 24 hours: permanent, with the provider's words."""
    fake, _ = graph
    fake.window_open.clear()
    error = await failing(make(), PermanentSinkError)
    assert "131047" in str(error) and "24 hours" in str(error) and "template" in str(error)


async def test_unknown_template_is_permanent(make: Any, graph: Any) -> None:
    """A template that is not approved fails for good with Meta's message."""
    sink = make(template=WhatsAppTemplateConfig(name="nao_existe"))
    error = await failing(sink, PermanentSinkError, sale({"parameters": []}))
    assert "132001" in str(error)


async def test_number_not_on_whatsapp_is_permanent(make: Any, graph: Any) -> None:
    """A valid number without WhatsApp: 131026, permanent, number masked."""
    fake, _ = graph
    fake.on_whatsapp.clear()
    error = await failing(make(), PermanentSinkError)
    assert "131026" in str(error) and "…4321" in str(error)


async def test_revoked_token_disables_the_sink(make: Any, graph: Any) -> None:
    """HTTP 401 / code 190: the sink is gone until fixed; the token is not in the error."""
    error = await failing(make(token="EAAG-revoked-token-abcdefghijklmnop"), SinkGoneError)
    assert "190" in str(error) and error.status_code == 401
    assert error.reason.startswith("the WhatsApp access token was refused")  # type: ignore[attr-defined]


async def test_rate_limit_keeps_retry_after(make: Any, aiohttp_server: Any, http: Any) -> None:
    """A Retry-After header on a rate-limit answer becomes retry_after."""
    from aiohttp import web

    async def limited(request: web.Request) -> web.Response:
        body = {
            "error": {
                "message": "(#130429) Rate limit hit",
                "type": "OAuthException",
                "code": 130429,
            }
        }
        return web.json_response(body, status=429, headers={"Retry-After": "12"})

    app = web.Application()
    app.router.add_post("/{tail:.*}", limited)
    server = await aiohttp_server(app, host=HOST)
    error = await failing(make(api_url=f"http://{HOST}:{server.port}/v21.0"), TransientSinkError)
    assert error.retry_after == 12  # type: ignore[attr-defined]


async def test_an_answer_that_is_not_the_graph_api_is_permanent(
    make: Any, aiohttp_server: Any
) -> None:
    """HTTP 200 that is not Graph JSON means a wrong api_url: retrying will not help."""
    from aiohttp import web

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>hi</html>")

    app = web.Application()
    app.router.add_post("/{tail:.*}", html)
    server = await aiohttp_server(app, host=HOST)
    await failing(make(api_url=f"http://{HOST}:{server.port}"), PermanentSinkError)


async def test_template_without_parameters_has_no_components(make: Any, graph: Any) -> None:
    """A template sink on a route without parameters sends the template alone."""
    fake, _ = graph
    sink = make(template=WhatsAppTemplateConfig(name="boas_vindas"))
    await sink.send(sale({"text": "built-in text, unused by templates"}))
    assert fake.sent[0]["template"] == {"name": "boas_vindas", "language": {"code": "pt_BR"}}


async def test_without_a_message_the_event_is_described_inertly(make: Any, graph: Any) -> None:
    """No rendered message: a plain line naming the event and source, markup made inert."""
    fake, _ = graph
    await make().send(outgoing(body=json.dumps(SALE).encode(), event="a*b* _c_", source="eduzz"))
    assert fake.sent[0]["text"]["body"] == "Ponte: evento a*b\u2217 \uff3fc\uff3f recebido de eduzz"


@pytest.mark.parametrize(("phone", "shown", "reason"), [
    ("119876", "…76", "too short"),
    ("(00) 98765-4321", "…4321", "no such area code"),
    ("+55 11 98765-43219999", "…9999", "too long"),
    ("+999 1234567", "…4567", "unknown country code"),
    ("nenhum", "…", "no digits to read"),
])
async def test_a_phone_error_shows_the_last_digits_and_the_reason(
        make: Any, graph: Any, phone: str, shown: str, reason: str) -> None:
    """The error names the recipient by its last digits and says what is wrong with it."""
    doc = {**SALE, "data": {"buyer": {"cellphone": phone}}}
    error = str(await failing(make(), PermanentSinkError, sale(doc=doc)))
    assert f"to[0]: {shown} " in error and reason in error, error
    digits = "".join(c for c in phone if c.isdigit())
    assert len(digits) < 5 or digits not in error.replace(" ", "")


def _check_warnings(tmp_path: Any, sink: dict[str, Any]) -> str:
    """What ``ponte check`` prints on stderr for one whatsapp sink (exit 0 expected)."""
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({
        "sources": {"eduzz": {"type": "eduzz", "secrets": ["a-real-secret-4f9c1d2e8b7a"]}},
        "sinks": {"zap": {"type": "whatsapp", "token": "t0k3n-whatsapp-0123456789",
                          "phone_number_id": "123", **sink}},
        "routes": [{"name": "r", "events": ["myeduzz.invoice_paid"], "to": ["zap"]}]}))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["check", "--config", str(path)]) == 0
    return err.getvalue()


def test_check_warns_about_free_text_to_buyers(tmp_path: Any) -> None:
    """Free text to numbers from the event fails outside the 24-hour window: a warning."""
    err = _check_warnings(tmp_path, {"to": ["+5511987654321", "data.buyer.cellphone"]})
    assert "warning: sinks.zap.to[1]: free text (no `template`) to numbers taken from the event" in err


@pytest.mark.parametrize("sink", [
    {"to": ["+5511987654321"]},
    {"to": ["data.buyer.cellphone"], "template": {"name": "compra_aprovada"}},
])
def test_no_free_text_warning_for_the_team_or_a_template(tmp_path: Any, sink: dict[str, Any]) -> None:
    """Fixed team numbers, or an approved template, raise no such warning."""
    assert "free text" not in _check_warnings(tmp_path, sink)
