"""meta_capi against the local Conversions API fake (tests/fake_meta.py): one sink, then the app.

The sink alone: the path, the token as ``access_token``, hashes of known inputs (computed
here with hashlib), errors by Graph code, what is never sent. Through the app: a retry
after a 500 and a later replay carry the same event_id, 190 disables the sink after one
request, and the token shows on no surface.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from fake_meta import PIXEL_ID, TOKEN, VERSION, FakeMeta

from conftest import fixture_body, post_signed
from service.__main__ import main
from service.config.schema import MetaCapiConfig
from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.render.builtin.messages import builtin_template
from service.sinks.base import Outgoing, Sink
from service.sinks.registry import build_sink
from sink_contract import HOST, http  # noqa: F401 - a fixture
from test_delivery import db, wait_for

ADMIN = "admin-token-for-the-meta-tests"
FAST = {"max_attempts": 3, "retry_schedule": ["50ms"], "timeout": "2s"}


def sha(text: str) -> str:
    """SHA-256 hex, computed independently of Ponte."""
    return hashlib.sha256(text.encode()).hexdigest()


def iso(ts: float) -> str:
    """A unix time as Eduzz writes it."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sale(paid_at: float | None = None, **buyer: Any) -> bytes:
    """The Eduzz invoice_paid example, paid ``paid_at`` (now by default), buyer fields changed."""
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["data"]["paidAt"] = iso(time.time() if paid_at is None else paid_at)
    doc["sentDate"] = iso(time.time())
    doc["data"]["buyer"].update({"cellphone": "(11) 98765-4321", **buyer})
    return json.dumps(doc).encode()


def delivery(body: bytes, event: str = "myeduzz.invoice_paid", message: Any = "builtin") -> Outgoing:
    """What the worker hands the sink: the built-in message rendered over ``body``."""
    if message == "builtin":
        template = builtin_template(event, "meta_capi")
        assert template is not None
        message = template.render({**json.loads(body), "source": "eduzz", "event_id": 9})
    return Outgoing(delivery_id=1, event_id=9, event=event, source="eduzz", body=body,
                    message=message, attempt=1)  # fmt: skip


async def meta(aiohttp_server: Any, http: aiohttp.ClientSession, **extra: Any) -> tuple[FakeMeta, Sink]:
    """A fake Conversions API and a meta_capi sink pointing at it."""
    fake = FakeMeta()
    server = await aiohttp_server(fake.app(), host=HOST)
    cfg = MetaCapiConfig(pixel_id=PIXEL_ID, access_token=TOKEN,
                         api_url=f"http://{HOST}:{server.port}/{VERSION}", **extra)  # fmt: skip
    return fake, build_sink("meta", cfg, http=http, timeout=2)


async def test_a_paid_sale_is_one_hashed_purchase(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """POST /{version}/{pixel}/events?access_token=…; every contact field hashed as Meta normalises it."""
    fake, sink = await meta(aiohttp_server, http, test_event_code="TEST123")
    paid = time.time() - 3600
    result = await sink.send(delivery(sale(paid, email=" Alice.Johnson@Example.com ", name="João da Silva")))
    assert result.status_code == 200 and "events_received=1" in result.response
    assert "fbtrace_id=AfakeTrace0001" in result.response
    assert fake.requests[0]["query"] == {"access_token": TOKEN}
    assert fake.bodies[0]["test_event_code"] == "TEST123"
    event = fake.received[0]
    assert (event["event_name"], event["event_id"], event["action_source"]) == ("Purchase", "12345678", "website")
    assert event["event_time"] == int(paid)
    assert event["custom_data"]["value"] == 301.5 and event["custom_data"]["currency"] == "BRL"
    user = event["user_data"]
    assert user["em"] == sha("alice.johnson@example.com")
    assert user["ph"] == sha("5511987654321")
    assert (user["fn"], user["ln"]) == (sha("joão"), sha("silva"))
    assert user["external_id"] == sha("66677677767") and user["country"] == sha("br")


async def test_click_and_browser_ids_travel_unhashed(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """fbc, fbp, client_ip_address and client_user_agent in the payload are sent as they are."""
    fake, sink = await meta(aiohttp_server, http)
    doc = json.loads(sale())
    ids = {"fbc": "fb.1.1554763741205.AbCdEfGh", "fbp": "fb.1.1558571054389.1098115397",
           "client_ip_address": "200.147.67.142", "client_user_agent": "Mozilla/5.0 (Linux; Android 14)"}  # fmt: skip
    doc["data"].update(ids)
    await sink.send(delivery(json.dumps(doc).encode()))
    assert ids.items() <= fake.received[0]["user_data"].items()


async def test_a_template_event_gets_defaults_and_hashes(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """A generated PIX as InitiateCheckout: event_id, time and source filled; plain e-mail hashed."""
    fake, sink = await meta(aiohttp_server, http)
    doc = json.loads(fixture_body("myeduzz.invoice_waiting_payment"))
    doc["sentDate"] = iso(time.time() - 60)
    already = sha("5511987654321")
    message = {"event": {"event_name": "InitiateCheckout",
                         "user_data": {"em": doc["data"]["buyer"]["email"], "ph": already}}}  # fmt: skip
    await sink.send(delivery(json.dumps(doc).encode(), "myeduzz.invoice_waiting_payment", message))
    event = fake.received[0]
    assert event["event_id"] == doc["id"] and event["action_source"] == "website"
    assert abs(event["event_time"] - (time.time() - 60)) < 5
    assert event["user_data"] == {"em": sha(doc["data"]["buyer"]["email"].lower()), "ph": already}


async def test_an_old_event_fails_without_being_sent(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """Paid 8 days ago: Meta would refuse it, so nothing is sent and the reason says so."""
    fake, sink = await meta(aiohttp_server, http)
    with pytest.raises(PermanentSinkError, match="days ago; Meta accepts events up to 7 days old"):
        await sink.send(delivery(sale(time.time() - 8 * 86400)))
    assert fake.requests == []


async def test_a_buyer_nobody_can_match_is_not_sent(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """No e-mail, phone or id: a clear reason, nothing sent."""
    fake, sink = await meta(aiohttp_server, http)
    body = sale(email="", cellphone="", phone="", phone2="", id=None)
    with pytest.raises(PermanentSinkError, match="no identifying field"):
        await sink.send(delivery(body))
    assert fake.requests == []


async def test_an_event_without_a_meta_event_is_not_sent(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    """An opened invoice has no built-in event: the reason asks for an event template."""
    fake, sink = await meta(aiohttp_server, http)
    out = delivery(fixture_body("myeduzz.invoice_opened"), "myeduzz.invoice_opened")
    with pytest.raises(PermanentSinkError, match="no built-in Meta event for myeduzz.invoice_opened"):
        await sink.send(out)
    assert fake.requests == []


async def test_a_refused_token_disables_the_sink_with_a_reason(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """Code 190: SinkGoneError telling (pt-BR and English) to issue a new token; the token is masked."""
    fake, sink = await meta(aiohttp_server, http)
    fake.token = "a-new-token-the-sink-does-not-have"
    with structlog.testing.capture_logs() as logs, pytest.raises(SinkGoneError) as info:
        await sink.send(delivery(sale()))
    assert "Graph API error 190" in str(info.value)
    assert "gere um novo token" in info.value.reason and "generate a new one" in info.value.reason
    assert TOKEN not in repr(info.value) + info.value.reason + repr(logs)


async def test_an_invalid_parameter_fails_for_good_with_metas_message(
    aiohttp_server: Any, http: aiohttp.ClientSession
) -> None:
    """Code 100: permanent, Meta's message and its message for people kept."""
    fake, sink = await meta(aiohttp_server, http)
    message = {"event": {"event_name": "Purchase", "user_data": {"em": "a@b.co"}}}  # no value/currency
    with pytest.raises(PermanentSinkError) as info:
        await sink.send(delivery(sale(), message=message))
    assert type(info.value) is PermanentSinkError
    assert "Graph API error 100: Invalid parameter" in str(info.value)
    assert "a Purchase needs custom_data.value" in str(info.value)


@pytest.mark.parametrize(("status", "code"), [(400, 4), (400, 17), (400, 32), (400, 613), (500, 2),
                                              (503, None), (500, 1)])  # fmt: skip
async def test_rate_limits_and_outages_are_retried(
    aiohttp_server: Any, http: aiohttp.ClientSession, status: int, code: int | None
) -> None:
    """Codes 4/17/32/613 and 5xx answers are transient."""
    fake, sink = await meta(aiohttp_server, http)
    fake.script.append((status, code))
    with pytest.raises(TransientSinkError):
        await sink.send(delivery(sale()))


# --- through the app ------------------------------------------------------------------------


async def start_meta(aiohttp_server: Any, settings_for: Any, start: Any, **sink: Any) -> tuple[FakeMeta, Any]:
    """The fake, and the app with one meta_capi sink on invoice_paid."""
    fake = FakeMeta()
    server = await aiohttp_server(fake.app(), host=HOST)
    sinks = {"meta": {"type": "meta_capi", "pixel_id": PIXEL_ID, "access_token": TOKEN,
                      "api_url": f"http://{HOST}:{server.port}/{VERSION}", **sink}}  # fmt: skip
    routes = [{"name": "vendas", "events": ["myeduzz.invoice_paid"], "to": ["meta"]}]
    settings = settings_for(sinks=sinks, routes=routes, delivery=FAST, server={"admin_token": ADMIN})
    return fake, await start(settings, worker=True)


def _count(tmp_path: Any, sql: str) -> int:
    return int(db(tmp_path, sql)[0][0])


async def test_a_retry_and_a_replay_are_one_conversion_and_the_token_shows_nowhere(
    tmp_path: Any, settings_for: Any, start: Any, aiohttp_server: Any
) -> None:
    """500 then 200, then a replay: the same event_id each time; no surface holds the token."""
    with structlog.testing.capture_logs() as logs:
        fake, client = await start_meta(aiohttp_server, settings_for, start)
        fake.script.append((500, None))
        resp = await post_signed(client, sale())
        event_id = (await resp.json())["event_id"]
        await wait_for(lambda: len(fake.received) == 1)
        auth = {"Authorization": f"Bearer {ADMIN}"}
        assert (await client.post(f"/api/events/{event_id}/replay", headers=auth)).status == 200
        await wait_for(lambda: len(fake.received) == 2)
        texts = [repr(logs), await (await client.get("/metrics")).text(),
                 await (await client.get(f"/api/events/{event_id}", headers=auth)).text(),
                 await (await client.get("/api/deliveries?limit=50", headers=auth)).text(),
                 await (await client.get("/api/sinks", headers=auth)).text()]  # fmt: skip
    assert len(fake.requests) == 3
    assert [e["event_id"] for e in fake.received] == ["12345678", "12345678"]
    texts.append(repr(db(tmp_path, "SELECT error, response FROM attempts")))
    assert any("HTTP 503" in t or "HTTP 500" in t for t in texts)  # the failure was recorded
    assert any("events_received=1" in t for t in texts)
    for text in texts:
        assert TOKEN not in text


async def test_a_refused_token_disables_the_sink_after_one_request(
    tmp_path: Any, settings_for: Any, start: Any, aiohttp_server: Any
) -> None:
    """Code 190: one request, the sink disabled; the next sale is not sent."""
    fake, client = await start_meta(aiohttp_server, settings_for, start)
    fake.token = "revoked"
    await post_signed(client, sale())
    await wait_for(lambda: _count(tmp_path, "SELECT count(*) FROM events WHERE event = 'ponte.sink_disabled'") == 1)
    doc = json.loads(sale())
    doc["id"], doc["data"]["id"] = "second-sale", "87654321"
    await post_signed(client, json.dumps(doc).encode())
    await wait_for(lambda: _count(tmp_path, "SELECT count(*) FROM deliveries") == 2)
    time.sleep(0.3)
    assert len(fake.requests) == 1
    disabled = db(tmp_path, "SELECT CAST(body AS TEXT) FROM events WHERE event = 'ponte.sink_disabled'")[0][0]
    assert "gere um novo token" in disabled and TOKEN not in disabled


async def test_an_old_sale_fails_unsent_with_its_reason(
    tmp_path: Any, settings_for: Any, start: Any, aiohttp_server: Any
) -> None:
    """A sale paid 10 days ago (a late resend): failed for good, never sent."""
    fake, client = await start_meta(aiohttp_server, settings_for, start)
    await post_signed(client, sale(time.time() - 10 * 86400))
    await wait_for(lambda: _count(tmp_path, "SELECT count(*) FROM deliveries WHERE status = 'failed'") == 1)
    assert fake.requests == []
    error = db(tmp_path, "SELECT last_error FROM deliveries")[0][0]
    assert "Meta accepts events up to 7 days old" in error


# --- what the operator sees before anything is sent ---------------------------------------

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "examples" / "meta-conversoes.yaml"


def test_preview_shows_the_exact_hashed_event(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    """`ponte preview FILE --sink meta`: the body Meta would get, hashed, without the token."""
    monkeypatch.setenv("META_CAPI_TOKEN", TOKEN)
    monkeypatch.setenv("META_TEST_EVENT_CODE", "TEST777")
    monkeypatch.chdir(EXAMPLE.parent)
    (tmp_path / "sale.json").write_bytes(sale(email="Bruna@Example.com", name="Bruna Conceição"))
    assert main(["preview", str(tmp_path / "sale.json"), "--sink", "meta", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    body = json.loads(out)
    assert body["test_event_code"] == "TEST777" and "warning" not in body
    user = body["data"][0]["user_data"]
    assert user["em"] == sha("bruna@example.com") and user["ln"] == sha("conceição")
    assert user["ph"] == sha("5511987654321") and TOKEN not in out


def test_preview_of_an_old_example_warns_about_the_seven_days(capsys: Any, monkeypatch: Any) -> None:
    """The catalogue example was paid in 2024: shown, with the warning that Meta would refuse it."""
    monkeypatch.chdir(EXAMPLE.parent)
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "meta", "--config", str(EXAMPLE)]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["data"][0]["event_id"] == "12345678"
    assert "Meta accepts events up to 7 days old" in body["warning"]


def test_routes_test_shows_the_event_per_route(capsys: Any, monkeypatch: Any) -> None:
    """`routes test`: the paid sale is a Purchase; a PIX generated is the template's InitiateCheckout."""
    monkeypatch.chdir(EXAMPLE.parent)
    args = ["routes", "test", "myeduzz.invoice_paid", "myeduzz.invoice_waiting_payment", "--json"]
    assert main([*args, "--config", str(EXAMPLE)]) == 0
    reports = json.loads(capsys.readouterr().out)
    purchase = reports[0]["deliveries"][0]["message"]["data"][0]
    checkout = reports[1]["deliveries"][0]["message"]["data"][0]
    assert purchase["event_name"] == "Purchase" and checkout["event_name"] == "InitiateCheckout"
    assert checkout["event_id"] == "checkout-12345678"
    assert checkout["user_data"]["em"] == sha("alice.johnson@example.com")
