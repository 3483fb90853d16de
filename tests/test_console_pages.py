"""Console pages over real data: masking, hostile payloads, huge bodies, replay, removed sinks."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from console_helpers import console_sections, csrf_of, log_in
from msgspec.structs import replace
from structlog.testing import capture_logs

from conftest import fixture_body, post_signed
from service.config.settings import build_settings
from service.keys import HOLDER, STORE
from service.store.records import NewDelivery, NewEvent
from service.ui.i18n import translator
from service.ui.scheduled import cancel_reason

FAST = {"max_attempts": 1, "retry_schedule": ["1h"], "timeout": "1s"}
HOSTILE = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>',
           "<!channel> *negrito* [a](javascript:alert(1))"]


@pytest.fixture
def two_sinks(tmp_path):
    """A file sink and a webhook sink on a closed port (every attempt fails)."""
    return {"sinks": {"arquivo": {"type": "file", "path": str(tmp_path / "out.jsonl")},
                      "crm": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}},
            "routes": [{"name": "tudo", "events": ["*"], "to": ["arquivo", "crm"]}],
            "delivery": FAST}


@pytest.fixture
async def ui(settings_for, start, two_sinks):
    """A logged-in client on the app with the console on (no worker)."""
    client = await start(settings_for(**console_sections(), **two_sinks))
    await log_in(client)
    return client


async def sale(client: Any, external_id: str = "zszf0uk65g701io8dbsckfeld", **data: Any) -> int:
    """Post the catalogue's invoice_paid (with changes) and return its event id."""
    doc = json.loads(fixture_body("myeduzz.invoice_paid"))
    doc["id"] = external_id
    doc["data"].update(data)
    resp = await post_signed(client, json.dumps(doc).encode())
    return int((await resp.json())["event_id"])


async def test_event_page_masks_buyer_data_until_shown_and_logs_the_showing(ui):
    """E-mail, phones, document and address are masked; "mostrar" shows them and is logged."""
    event_id = await sale(ui)
    html = await (await ui.get(f"/ui/eventos/{event_id}")).text()
    for secret in ("alice.johnson@example.com", "555-789-1234", "12333333", "Rua avenida", "12345-123"):
        assert secret not in html
    assert "a***@example.com" in html and "Alice Johnson" in html and "R$ 301,50" in html
    with capture_logs() as logs:
        shown = await (await ui.get(f"/ui/eventos/{event_id}?mostrar=1")).text()
    assert "alice.johnson@example.com" in shown and "Rua avenida" in shown
    assert any(e["event"] == "console_personal_data_shown" and e["event_id"] == event_id for e in logs)


@pytest.mark.parametrize("payload", HOSTILE)
async def test_hostile_fields_are_rendered_inert(ui, payload):
    """Markup in the event name, the Eduzz id and the body is escaped on every page."""
    body = json.dumps({"id": payload, "event": f"x.{payload}", "data": {"buyer": {"name": payload}}})
    event_id = (await (await post_signed(ui, body.encode())).json())["event_id"]
    pages = [await (await ui.get(p)).text() for p in
             ("/ui/eventos", f"/ui/eventos/{event_id}", f"/ui/eventos/{event_id}?mostrar=1", "/ui/")]
    pages.append(await (await ui.get("/ui/eventos/novos?after=0")).text())
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in pages[0] or "&lt;img" in pages[0] or "&lt;!channel&gt;" in pages[0]


async def test_a_50_mb_body_is_shown_cut_with_a_download_link(ui):
    """The page stays small: the start of the body, masked, and the whole body as a download."""
    store = ui.server.app[STORE]
    filler = "x" * (50 * 1024 * 1024)
    raw = json.dumps({"id": "big", "event": "myeduzz.invoice_paid",
                      "data": {"buyer": {"email": "big@example.com"}, "blob": filler}}).encode()
    event = NewEvent("eduzz", "big", "myeduzz.invoice_paid", None, time.time(), "accepted", {}, raw)
    saved = await store.save_event(event, [NewDelivery("arquivo", "tudo")])
    resp = await ui.get(f"/ui/eventos/{saved.event_id}")
    html = await resp.text()
    assert resp.status == 200 and len(html) < 200_000
    assert f"/ui/eventos/{saved.event_id}/corpo" in html and "big@example.com" not in html
    download = await ui.get(f"/ui/eventos/{saved.event_id}/corpo")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert len(await download.read()) == len(raw)


async def test_failed_delivery_retried_from_the_event_page(ui):
    """Reenviar one sink puts a failed delivery back to pending; an unknown event is a 404."""
    event_id = await sale(ui)
    store = ui.server.app[STORE]
    page = await store.list_deliveries(_flt(event_id=event_id, sink="crm"), 1, None)
    await _fail(store, page.items[0].id)
    csrf = await csrf_of(ui, f"/ui/eventos/{event_id}")
    resp = await ui.post(f"/ui/eventos/{event_id}/reenviar", data={"csrf": csrf, "sink": "crm"})
    assert "Enviadas para a fila: 1" in await resp.text()
    assert (await store.get_delivery(page.items[0].id)).status == "pending"
    assert (await ui.get("/ui/eventos/987654")).status == 404
    assert (await ui.get("/ui/eventos/abc")).status == 400  # not a number: 400, as in the admin API


async def test_failures_grouped_retry_one_and_bulk_replay_with_confirmation(ui):
    """Falhas groups dead letters; bulk replay first says how many, then sends on confirm."""
    store = ui.server.app[STORE]
    ids = [await sale(ui, f"sale-{i}") for i in range(3)]
    for event_id in ids:
        d = (await store.list_deliveries(_flt(event_id=event_id, sink="crm"), 1, None)).items[0]
        await _fail(store, d.id, "HTTP 500 from crm")
    html = await (await ui.get("/ui/falhas")).text()
    assert "HTTP 500 from crm" in html and ">3<" in html
    csrf = await csrf_of(ui, "/ui/falhas")
    confirm = await ui.post("/ui/falhas/reenviar", data={"csrf": csrf, "sink": "crm"})
    text = await confirm.text()
    assert '<p id="confirm-count"><strong>3</strong>' in text
    assert (await store.counts()).get("failed") == 3  # nothing sent before confirming
    done = await ui.post("/ui/falhas/reenviar", data={"csrf": csrf, "sink": "crm", "confirmed": "1"})
    assert "Enviadas para a fila: 3" in await done.text()
    assert (await store.counts()).get("failed") is None


async def test_sink_disabled_and_enabled_from_destinos(ui):
    """Disabling through the console is the same verb as the API: waiting deliveries pause."""
    await sale(ui)
    csrf = await csrf_of(ui, "/ui/destinos")
    resp = await ui.post("/ui/destinos/crm/desativar", data={"csrf": csrf})
    assert "crm: desativado (1)" in await resp.text()
    assert ui.server.app[HOLDER].settings.disabled_sinks == {"crm"}
    api = await ui.get("/api/sinks", headers={"Authorization": "Bearer admin-token-123"})
    assert {s["name"]: s["enabled"] for s in (await api.json())["items"]}["crm"] is False
    await ui.post("/ui/destinos/crm/ativar", data={"csrf": csrf})
    assert ui.server.app[HOLDER].settings.disabled_sinks == frozenset()
    missing = await ui.post("/ui/destinos/nada/desativar", data={"csrf": csrf})
    assert "não há destino &#39;nada&#39;" in await missing.text()


async def test_a_sink_removed_while_deliveries_wait_is_shown_not_a_crash(ui, settings_for, tmp_path):
    """After a reload without ``crm``, its waiting deliveries show on every page; replay says why not."""
    event_id = await sale(ui)
    holder = ui.server.app[HOLDER]
    config = holder.settings.config
    sinks = {k: v for k, v in config.sinks.items() if k != "crm"}
    routes = [replace(config.routes[0], to=["arquivo"])]
    holder.swap(build_settings(replace(config, sinks=sinks, routes=routes)))
    for path in ("/ui/", "/ui/destinos", f"/ui/eventos/{event_id}", "/ui/falhas", "/ui/eventos"):
        resp = await ui.get(path)
        assert resp.status == 200, path
    html = await (await ui.get(f"/ui/eventos/{event_id}")).text()
    assert "crm não está mais na configuração" in html
    assert "não está mais na configuração" in await (await ui.get("/ui/destinos")).text()
    csrf = await csrf_of(ui, f"/ui/eventos/{event_id}")
    resp = await ui.post(f"/ui/eventos/{event_id}/reenviar", data={"csrf": csrf, "sink": "crm"})
    assert resp.status == 200 and "nada foi reenviado" in await resp.text()


async def test_event_list_filters_paging_and_live_rows(ui):
    """Filters by glob, Eduzz id, buyer e-mail and status; cursor pages; the feed sends newer rows."""
    first = await sale(ui, "sale-a", buyer={"email": "maria@example.com", "name": "Maria"})
    second = await sale(ui, "sale-b")
    refund = json.loads(fixture_body("myeduzz.invoice_refunded"))
    await post_signed(ui, json.dumps(refund).encode())
    assert f'data-id="{first}"' in await _list(ui, "email=maria@example.com")
    assert f'data-id="{second}"' not in await _list(ui, "email=maria@example.com")
    assert "invoice_refunded" not in await _list(ui, "event=myeduzz.invoice_paid")
    assert f'data-id="{second}"' in await _list(ui, "external_id=sale-b")
    assert "data-id=" not in await _list(ui, "status=failed")
    assert f'data-id="{first}"' in await _list(ui, "status=pending")
    paged = await _list(ui, f"cursor={second}")
    assert f'data-id="{first}"' in paged and f'data-id="{second}"' not in paged
    assert "data inválida" in await _list(ui, "since=ontem")
    feed = await ui.get(f"/ui/eventos/novos?after={first}")
    rows = await feed.text()
    assert f'data-id="{second}"' in rows and f'data-id="{first}"' not in rows
    assert int(feed.headers["X-Ponte-Newest"]) > second


async def test_overview_counts_chart_and_attention(ui):
    """The overview counts what arrived, draws the hourly SVG, and lists dead letters first."""
    store = ui.server.app[STORE]
    event_id = await sale(ui)
    d = (await store.list_deliveries(_flt(event_id=event_id, sink="crm"), 1, None)).items[0]
    await _fail(store, d.id, "HTTP 410 Gone")
    html = await (await ui.get("/ui/")).text()
    assert "<svg" in html and 'class="bar-events"' in html
    assert "Falhas definitivas · crm" in html and "1× o destino respondeu HTTP 410" in html
    english = await (await ui.get("/ui/", headers={"Accept-Language": "en"})).text()
    assert "Needs attention" in english


async def test_route_test_with_a_catalogue_event_and_pasted_json(ui):
    """"Testar" reports matching routes and messages as ``ponte routes test``; bad JSON is a 400."""
    csrf = await csrf_of(ui, "/ui/regras")
    resp = await ui.post("/ui/regras/testar", data={"csrf": csrf, "event": "myeduzz.invoice_paid"})
    html = await resp.text()
    assert resp.status == 200 and "✔" in html and "→ arquivo" in html and "→ crm" in html
    bad = await ui.post("/ui/regras/testar", data={"csrf": csrf, "body": "{not json"})
    assert bad.status == 400 and 'role="alert"' in await bad.text()
    unknown = await ui.post("/ui/regras/testar", data={"csrf": csrf, "event": "nada"})
    assert unknown.status == 400


def _flt(**kw: Any) -> Any:
    from service.store.records import Filter

    return Filter(**kw)


async def _fail(store: Any, delivery_id: int, error: str = "boom") -> None:
    """Record a final failed attempt for a delivery (what the worker does when it gives up)."""
    from service.store.records import AttemptResult

    now = time.time()
    await store.record_attempt(AttemptResult(delivery_id, now, 12.0, "failed", "failed", now,
                                             status_code=500, error=error))


async def _list(client: Any, query: str) -> str:
    return await (await client.get(f"/ui/eventos?{query}")).text()


async def test_a_bounded_search_goes_on_page_by_page(ui, monkeypatch):
    """The e-mail search looks at SCAN events per page and hands a cursor to look further."""
    from service.ui import events

    monkeypatch.setattr(events, "SCAN", 2)
    wanted = await sale(ui, "sale-old", buyer={"email": "antiga@example.com"})
    for i in range(4):
        await sale(ui, f"sale-new-{i}")
    path, pages = "/ui/eventos?email=antiga@example.com", 0
    while True:
        html = await (await ui.get(path)).text()
        pages += 1
        if f'data-id="{wanted}"' in html:
            break
        assert 'id="scan-note"' in html and pages < 10
        cursor = html.split('rel="next" href="', 1)[1].split('"', 1)[0]
        path = cursor.replace("&amp;", "&")
    assert pages >= 2


async def test_bad_cursors_and_ids_are_clear_errors(ui):
    """A cursor or id that is not a number is a 400/404 with a message, never a crash."""
    assert (await ui.get("/ui/falhas?cursor=abc")).status == 400
    assert "página inválida" in await (await ui.get("/ui/eventos?cursor=abc")).text()
    assert (await ui.get("/ui/eventos/novos?after=x")).status == 400
    csrf = await csrf_of(ui, "/ui/falhas")
    resp = await ui.post("/ui/entregas/zzz/tentar", data={"csrf": csrf})
    assert resp.status == 200 and "números inteiros" in await resp.text()


async def test_retry_one_from_falhas_is_logged_and_paused_deliveries_are_counted(ui):
    """Tentar de novo reschedules one dead letter (logged); paused deliveries show on the Painel."""
    store = ui.server.app[STORE]
    event_id = await sale(ui)
    d = (await store.list_deliveries(_flt(event_id=event_id, sink="crm"), 1, None)).items[0]
    await _fail(store, d.id)
    csrf = await csrf_of(ui, "/ui/falhas")
    with capture_logs() as logs:
        resp = await ui.post(f"/ui/entregas/{d.id}/tentar", data={"csrf": csrf, "back": "/ui/falhas"})
    assert "Enviadas para a fila: 1" in await resp.text()
    assert any(e["event"] == "console_delivery_retried" and e["delivery_id"] == d.id for e in logs)
    await ui.post("/ui/destinos/crm/desativar", data={"csrf": csrf})
    html = await (await ui.get("/ui/")).text()
    assert "Pausados" in html and "Desativado · crm" in html


async def test_an_open_breaker_needs_attention(settings_for, start, tmp_path):
    """With the worker on, a sink whose breaker opened is listed first on the Painel."""
    from test_delivery import wait_for

    sinks = {"crm": {"type": "webhook", "url": "http://127.0.0.1:9/hook", "breaker_threshold": 1,
                     "breaker_cooldown": "1h"}}
    settings = settings_for(**console_sections(), sinks=sinks,
                            routes=[{"name": "tudo", "events": ["*"], "to": ["crm"]}],
                            delivery={"max_attempts": 5, "retry_schedule": ["1h"], "timeout": "1s"})
    client = await start(settings, worker=True)
    await log_in(client)
    await sale(client)

    async def shown() -> bool:
        return "Envios pausados após falhas seguidas · crm" in await (await client.get("/ui/")).text()

    await wait_for(shown, timeout=20)
    assert "pausado após falhas seguidas" in await (await client.get("/ui/destinos")).text()


async def test_english_pages_carry_no_portuguese_labels(ui):
    """With English chosen, every page's own words are English (event data stays as sent)."""
    event_id = await sale(ui)
    await ui.get("/ui/idioma?lang=en&next=/ui/")
    words = ("Aguardando", "Reenviar", "Situação", "qualquer", "Entregas", "Destinos", "Falhas",
             "Recebido", "Tentar de novo", "Testar", "Sair", "Idioma")
    for path in ("/ui/", "/ui/eventos", f"/ui/eventos/{event_id}", "/ui/falhas", "/ui/destinos", "/ui/regras"):
        html = await (await ui.get(path)).text()
        assert 'lang="en"' in html
        found = [w for w in words if f">{w}" in html or f"{w}<" in html or f"{w}:" in html]
        assert found == [], (path, found)


async def test_the_live_feed_says_when_more_arrived_than_it_sends(ui, monkeypatch):
    """More new events than one page: the feed sends the newest and flags the rest."""
    from service.ui import events

    monkeypatch.setattr(events, "PAGE", 2)
    first = await sale(ui, "feed-0")
    for i in range(1, 4):
        await sale(ui, f"feed-{i}")
    feed = await ui.get(f"/ui/eventos/novos?after={first}")
    assert feed.headers["X-Ponte-More"] == "1" and (await feed.text()).count('class="event-row"') == 2
    calm = await ui.get(f"/ui/eventos/novos?after={feed.headers['X-Ponte-Newest']}")
    assert calm.headers["X-Ponte-More"] == "0" and "event-row" not in await calm.text()


def _invoice(event: str, invoice_id: str) -> bytes:
    """An Eduzz invoice fixture whose invoice (sale.order_id) is ``invoice_id``."""
    doc = json.loads(fixture_body(event))
    doc["id"], doc["data"]["id"] = f"{event}-{invoice_id}", invoice_id
    return json.dumps(doc).encode()


FOLLOW_UP = {"name": "pix", "events": ["myeduzz.invoice_waiting_payment"],
             "to": [{"sink": "arquivo", "after": "30m",
                     "unless": {"events": ["myeduzz.invoice_paid"], "same": ["sale.order_id"]}}]}


async def test_agendados_lists_scheduled_and_cancelled_follow_ups_and_the_event_page_says_why(
        settings_for, start, two_sinks):
    """Agendados: due time in the configured zone, route, sink, event, buyer masked; filters;
    the event page says "agendado para 14:35" / "cancelado pela venda #…", in English by the switch."""
    client = await start(settings_for(**console_sections(), **{**two_sinks, "routes": [FOLLOW_UP]}))
    await log_in(client)
    before = time.time()
    waiting = [(await (await post_signed(client, _invoice("myeduzz.invoice_waiting_payment", i))).json())
               ["event_id"] for i in ("A1", "B2")]
    paid = (await (await post_signed(client, _invoice("myeduzz.invoice_paid", "A1"))).json())["event_id"]
    zone = ZoneInfo(client.server.app[HOLDER].settings.config.messages.timezone)
    due = {datetime.fromtimestamp(before + 1800 + s, zone).strftime("%H:%M") for s in (0, 60)}

    html = await (await client.get("/ui/agendados")).text()
    assert 'aria-current="page">Agendados' in html
    rows = re.findall(r'<tr class="scheduled-row".*?</tr>', html, re.DOTALL)
    assert len(rows) == 1 and f"#{waiting[1]}" in rows[0] and "pix" in rows[0] and "arquivo" in rows[0]
    assert "myeduzz.invoice_waiting_payment" in rows[0] and any(f" {hm}</time>" in rows[0] for hm in due)
    assert "a***@example.com" in rows[0] and "alice.johnson@example.com" not in html
    cancelled = await (await client.get("/ui/agendados?status=cancelled")).text()
    assert f"#{waiting[0]}" in cancelled
    assert f"cancelado pela venda #A1 (evento #{paid} myeduzz.invoice_paid)" in cancelled
    assert "Nenhuma mensagem agendada." in await (await client.get("/ui/agendados?sink=crm")).text()
    assert "Nenhuma mensagem agendada." in await (await client.get("/ui/agendados?route=outra")).text()
    assert "scheduled-row" in await (await client.get("/ui/agendados?event=myeduzz.invoice_*")).text()
    assert (await client.get("/ui/agendados?status=failed")).status == 200  # a clear error, not a crash

    page = await (await client.get(f"/ui/eventos/{waiting[1]}")).text()
    assert any(f"agendado para {hm}<" in page for hm in due) and ">agendada<" in page
    page = await (await client.get(f"/ui/eventos/{waiting[0]}")).text()
    assert f"cancelado pela venda #A1 (evento #{paid} myeduzz.invoice_paid)" in page and ">cancelada<" in page
    client.session.cookie_jar.update_cookies({"lang": "en"})
    page = await (await client.get(f"/ui/eventos/{waiting[0]}")).text()
    assert f"cancelled by sale #A1 (event #{paid} myeduzz.invoice_paid)" in page and ">cancelled<" in page
    page = await (await client.get(f"/ui/eventos/{waiting[1]}")).text()
    assert any(f"scheduled for {hm}<" in page for hm in due)
    listed = await (await client.get("/ui/agendados")).text()
    assert ">Scheduled<" in listed and "Buyer (e-mail hidden)" in listed and "scheduled-row" in listed


def test_cancel_reasons_in_words():
    """The store's reasons, as the console says them (several ``same`` values, a reload)."""
    pt, en = translator("pt"), translator("en")
    text = "cancelled by event #7 hotmart.purchase_approved (sale.order_id=HP1, data.x=a, b)"
    assert cancel_reason(text, pt) == "cancelado pela venda #HP1, #a, b (evento #7 hotmart.purchase_approved)"
    assert cancel_reason("cancelled: its route or target was removed by a reload", en) == \
        "cancelled: its route or target left the configuration"
    assert cancel_reason("cancelled: something else", pt) == "cancelado: something else"

async def _answering(aiohttp_server: Any, text: str) -> str:
    """A receiver refusing every request with HTTP 422 and ``text``."""
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=422, text=text)

    app = web.Application()
    app.router.add_post("/hook", handle)
    return str((await aiohttp_server(app)).make_url("/hook"))


RECEIVER_SAYS = ('comprador ana.souza@exemplo.com.br recusado: CPF 123.456.789-09, '
                 'telefone +55 11 98765-4321, {"email": "bia\\u0040exemplo.com", "cpf": "98765432100"}')
RECEIVER_PERSONAL = ("ana.souza@exemplo.com.br", "123.456.789-09", "98765-4321", "bia\\u0040exemplo.com",
                     "98765432100")


async def test_personal_data_in_a_receiver_error_is_masked_until_shown(
        settings_for, start, aiohttp_server, tmp_path):
    """E-mail, CPF and phone in a receiver's answer: masked on Evento and Falhas until mostrar."""
    url = await _answering(aiohttp_server, RECEIVER_SAYS)
    sinks = {"crm": {"type": "webhook", "url": url}}
    settings = settings_for(**console_sections(), sinks=sinks, delivery=FAST,
                            routes=[{"name": "tudo", "events": ["*"], "to": ["crm"]}])
    client = await start(settings, worker=True)
    await log_in(client)
    event_id = await sale(client)
    store = client.server.app[STORE]
    for _ in range(200):
        page = await store.list_deliveries(_flt(event_id=event_id, status="failed"), 1, None)
        if page.items:
            break
        await asyncio.sleep(0.05)
    pages = [await (await client.get(p)).text() for p in (f"/ui/eventos/{event_id}", "/ui/falhas")]
    for html, value in itertools.product(pages, RECEIVER_PERSONAL):
        assert value not in html.replace("&#34;", '"'), value
    assert "exemplo.com.br" in pages[0]  # the domain stays, to tell receivers apart
    shown = (await (await client.get(f"/ui/eventos/{event_id}?mostrar=1")).text()).replace("&#34;", '"')
    assert "ana.souza@exemplo.com.br" in shown and "123.456.789-09" in shown


async def test_a_big_body_masks_escaped_emails_and_named_fields(ui):
    """Over 64 KB the body is shown cut: ``\\u0040`` e-mails and named fields still masked."""
    store = ui.server.app[STORE]
    raw = ('{"id": "big2", "event": "myeduzz.invoice_paid", "data": {"buyer": '
           '{"email": "carla\\u0040exemplo.com", "document": "1234567", "phone": "5511"}, '
           f'"blob": "{"x" * 70_000}"}}}}').encode()
    event = NewEvent("eduzz", "big2", "myeduzz.invoice_paid", None, time.time(), "accepted", {}, raw)
    saved = await store.save_event(event, [NewDelivery("arquivo", "tudo")])
    html = await (await ui.get(f"/ui/eventos/{saved.event_id}")).text()
    for value in ("carla\\u0040exemplo.com", "carla@", "1234567", "5511"):
        assert value not in html
