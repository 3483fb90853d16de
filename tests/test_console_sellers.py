"""The console for a seller, pt-BR first (issue 19, items 5 to 7): what happened in each
event, Portuguese everywhere, rates and failures in words a seller understands."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from console_helpers import console_sections, csrf_of, log_in

from conftest import fixture_body, post_signed
from service.keys import STORE
from service.store.records import AttemptResult, Filter, NewDelivery, NewEvent
from service.ui.i18n import rate_text, translator

SINKS = {"arquivo": {"type": "file", "path": "/dev/null"},
         "telegram": {"type": "webhook", "url": "http://127.0.0.1:9/tg", "rate_per_second": 0.3333333333333333},
         "zap": {"type": "webhook", "url": "http://127.0.0.1:9/zap"}}


@pytest.fixture
async def ui(settings_for, start):
    """A logged-in client on the app with the console on (no worker)."""
    client = await start(settings_for(**console_sections(), sinks=SINKS, delivery={"max_attempts": 1},
                                      routes=[{"name": "tudo", "events": ["*"], "to": list(SINKS)}]))
    await log_in(client)
    return client


async def _sale(client: Any, external_id: str, **data: Any) -> int:
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["id"] = external_id
    doc["data"].update(data)
    return int((await (await post_signed(client, json.dumps(doc).encode())).json())["event_id"])


async def _operational(client: Any) -> int:
    """A ``ponte.*`` event, as the worker emits one."""
    body = json.dumps({"id": "op-1", "event": "ponte.sink_disabled", "data": {"sink": "zap"}}).encode()
    event = NewEvent("ponte", "op-1", "ponte.sink_disabled", None, time.time(), "accepted", {}, body)
    return (await client.app[STORE].save_event(event, [NewDelivery("arquivo", "tudo")])).event_id


async def _fail(client: Any, event_id: int, sink: str, error: str) -> None:
    store = client.app[STORE]
    d = (await store.list_deliveries(Filter(event_id=event_id, sink=sink), 1, None)).items[0]
    now = time.time()
    await store.record_attempt(AttemptResult(d.id, now, 5.0, "failed", "failed", now, error=error))


async def test_event_list_says_who_bought_what_for_how_much_and_hides_ponte_events(ui):
    """Buyer name, product and R$ amount per row, e-mail masked; ponte.* only behind a filter."""
    sale = await _sale(ui, "venda-1", buyer={"name": "Maria Souza", "email": "maria.souza@example.com"},
                       paid={"currency": "BRL", "value": 1234.56},
                       items=[{"name": "Curso de Bolos", "price": {"currency": "BRL", "value": 1234.56}}])
    op = await _operational(ui)
    html = await (await ui.get("/ui/eventos")).text()
    assert "Maria Souza" in html and "Curso de Bolos" in html and "R$ 1.234,56" in html
    assert "m***@example.com" in html and "maria.souza@example.com" not in html
    assert f'data-id="{sale}"' in html and f'data-id="{op}"' not in html
    shown = await (await ui.get("/ui/eventos?ponte=1")).text()
    assert f'data-id="{op}"' in shown and f'data-id="{sale}"' in shown
    assert 'name="ponte"' in html  # the filter that shows them
    feed = await (await ui.get("/ui/eventos/novos?after=0")).text()
    assert "Maria Souza" in feed and f'data-id="{op}"' not in feed


async def test_statuses_route_tester_and_ponte_errors_are_in_portuguese(ui):
    """Every status has pt-BR words; the tester's verdicts and Ponte's own errors are translated,
    a provider's own answer is quoted as it came."""
    words = translator("pt")
    for status in ("pending", "sending", "succeeded", "failed", "disabled", "grouped", "digested"):
        assert words.status(status) != status
    csrf = await csrf_of(ui, "/ui/regras")
    html = await (await ui.post("/ui/regras/testar", data={"csrf": csrf, "event": "myeduzz.invoice_paid"})).text()
    assert "corresponde" in html and ": matched" not in html
    bad = await (await ui.post("/ui/regras/testar", data={"csrf": csrf, "body": "{not json"})).text()
    assert "JSON" in bad and "not a JSON" not in bad and "is not" not in bad
    event_id = await _sale(ui, "venda-2")
    await _fail(ui, event_id, "zap", "webhook zap: HTTP 500 (Internal error: try later)")
    await _fail(ui, event_id, "telegram", "webhook telegram: timed out after 2s")
    failures = await (await ui.get("/ui/falhas")).text()
    assert "tempo esgotado" in failures and "timed out after" not in failures
    assert "Internal error: try later" in failures  # the provider's answer, as it came
    csrf = await csrf_of(ui, "/ui/destinos")
    await ui.post("/ui/destinos/arquivo/desativar", data={"csrf": csrf})
    painel = await (await ui.get("/ui/")).text()
    assert "desativado por um operador" in painel and "disabled by an operator" not in painel


async def test_rates_breaker_queue_and_failure_kinds_in_plain_words(ui):
    """20/min not 0.333/s; no "Disjuntor"; the queue counts paused deliveries; dead letters
    grouped by kind of failure (one "telefone inválido" line)."""
    html = await (await ui.get("/ui/destinos")).text()
    assert "20/min" in html and "0.333" not in html
    assert "Disjuntor" not in html and "Disjuntor" not in await (await ui.get("/ui/")).text()
    ids = [await _sale(ui, f"venda-{i}") for i in range(3)]
    csrf = await csrf_of(ui, "/ui/destinos")
    await ui.post("/ui/destinos/telegram/desativar", data={"csrf": csrf})
    html = await (await ui.get("/ui/destinos")).text()
    row = html[html.index('id="sink-telegram"'):].split("</tr>")[0]
    assert "<td>3" in row  # 3 paused deliveries are in its queue, as the Painel counts them
    for event_id, phone in zip(ids, ("••••••1234", "••••••9876", "••••••5555"), strict=True):
        await _fail(ui, event_id, "zap", f"webhook zap: to[0]: {phone} is not a valid phone number")
    failures = await (await ui.get("/ui/falhas")).text()
    rows = [r for r in failures.split("<tr") if 'class="failure-kind"' in r]
    assert len(rows) == 1 and ">telefone inválido</td><td>3</td>" in rows[0]


@pytest.mark.parametrize(("per_second", "text"), [
    (0.3333333333333333, "20/min"), (2, "2/s"), (0.5, "30/min"), (1 / 3600, "1/h"), (None, ""),
    (0.7, "42/min"), (1.5, "90/min")])
def test_rate_text(per_second, text):
    """A rate a seller reads: whole numbers per second, minute or hour."""
    assert rate_text(per_second) == text
