"""Hotmart, Kiwify and token sources end to end: real HTTP, a real store."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pgkit import query
from platformkit import (
    HOTMART_EVENTS,
    HOTTOK,
    KIWIFY_EVENTS,
    SOURCES,
    body_of,
    kiwify_signature,
    post_platform,
)

from conftest import SECRET


def sources(**extra: Any) -> dict[str, Any]:
    return {"eduzz": {"type": "eduzz", "secrets": [SECRET]}, **SOURCES, **extra}


async def test_every_fixture_is_accepted_with_its_event_name_and_no_schema_error(tmp_path, settings_for, start):
    """Each Hotmart and Kiwify fixture is accepted, named ``<platform>.<event>`` and routed."""
    client = await start(settings_for(sources=sources()))
    for event in HOTMART_EVENTS + KIWIFY_EVENTS:
        resp = await post_platform(client, event)
        assert resp.status == 200, (event, await resp.text())
        assert (await resp.json())["status"] == "accepted"
    stored = query(tmp_path, "SELECT event, schema_error FROM events")
    assert sorted(e for e, _ in stored) == sorted(HOTMART_EVENTS + KIWIFY_EVENTS)
    assert [e for e, err in stored if err] == []
    assert query(tmp_path, "SELECT COUNT(*) FROM deliveries")[0][0] == len(stored)


@pytest.mark.parametrize("hottok", ["", "errado", HOTTOK + "x", "çç"])
async def test_wrong_or_missing_hottok_is_401_and_stores_nothing(tmp_path, settings_for, start, hottok):
    """Without a configured hottok in X-HOTMART-HOTTOK: 401, nothing stored."""
    client = await start(settings_for(sources=sources()))
    resp = await post_platform(client, "hotmart.purchase_approved", hottok=hottok)
    assert resp.status == 401
    assert query(tmp_path, "SELECT COUNT(*) FROM events")[0][0] == 0


async def test_an_older_hottok_still_works_during_rotation(tmp_path, settings_for, start):
    """Every configured hottok is accepted."""
    client = await start(settings_for(sources=sources()))
    resp = await post_platform(client, "hotmart.purchase_approved", hottok="antigo-hottok")
    assert resp.status == 200


async def test_hotmart_duplicates_match_on_the_envelope_id(tmp_path, settings_for, start):
    """The same envelope id again is a duplicate; another id is a new event."""
    client = await start(settings_for(sources=sources()))
    first = await (await post_platform(client, "hotmart.purchase_approved")).json()
    again = await (await post_platform(client, "hotmart.purchase_approved")).json()
    assert again == {"status": "duplicate", "event_id": first["event_id"]}
    doc = json.loads(body_of("hotmart.purchase_approved"))
    doc["id"] = "outro-id"
    other = await post_platform(client, "hotmart.purchase_approved", json.dumps(doc).encode())
    assert (await other.json())["status"] == "accepted"


@pytest.mark.parametrize("token", ["", "errado"])
async def test_wrong_kiwify_signature_is_401_and_stores_nothing(tmp_path, settings_for, start, token):
    """A signature made with another token, or none at all: 401, nothing stored."""
    client = await start(settings_for(sources=sources()))
    if token:
        resp = await post_platform(client, "kiwify.order_approved", token=token)
    else:
        resp = await client.post("/webhooks/kiwify", data=body_of("kiwify.order_approved"))
    assert resp.status == 401
    assert query(tmp_path, "SELECT COUNT(*) FROM events")[0][0] == 0


async def test_kiwify_duplicates_match_on_order_id_and_event(tmp_path, settings_for, start):
    """The same order and event is a duplicate; the same order with another event is not."""
    client = await start(settings_for(sources=sources()))
    first = await (await post_platform(client, "kiwify.order_approved")).json()
    again = await (await post_platform(client, "kiwify.order_approved")).json()
    assert again == {"status": "duplicate", "event_id": first["event_id"]}
    doc = json.loads(body_of("kiwify.order_approved"))
    doc["webhook_event_type"] = "order_refunded"
    other = await post_platform(client, "kiwify.order_refunded", json.dumps(doc).encode())
    assert (await other.json())["status"] == "accepted"
    ids = {r[0] for r in query(tmp_path, "SELECT external_id FROM events")}
    assert ids == {f"{doc['order_id']}:kiwify.order_approved", f"{doc['order_id']}:kiwify.order_refunded"}


async def test_a_mismatched_field_is_recorded_never_refused(tmp_path, settings_for, start):
    """A field of the wrong type is kept as schema_error; the event is accepted."""
    client = await start(settings_for(sources=sources()))
    doc = json.loads(body_of("kiwify.order_approved"))
    doc["Commissions"]["charge_amount"] = [1]
    resp = await post_platform(client, "kiwify.order_approved", json.dumps(doc).encode())
    assert (await resp.json())["status"] == "accepted"
    ((error,),) = query(tmp_path, "SELECT schema_error FROM events")
    assert error.startswith("body.Commissions.charge_amount:")


async def test_where_on_sale_routes_every_platform_alike(tmp_path, settings_for, start):
    """``where: {sale.status: paid, sale.amount: {gte: 300}}`` picks paid sales of any platform."""
    routes = [{"name": "pagas", "events": ["*"], "where": {"sale.status": "paid", "sale.amount": {"gte": 300}},
               "to": ["arquivo"]}]
    client = await start(settings_for(sources=sources(), routes=routes))
    for event in ["hotmart.purchase_approved", "hotmart.purchase_refunded", "kiwify.order_approved",
                  "kiwify.pix_created"]:
        assert (await post_platform(client, event)).status == 200
    planned = query(tmp_path, "SELECT e.event FROM deliveries d JOIN events e ON e.id = d.event_id")
    assert sorted(e for (e,) in planned) == ["hotmart.purchase_approved", "kiwify.order_approved"]


@pytest.mark.parametrize("where", [
    {"header": "X-Token"}, {"query": "token"}, {"field": "chave_unica"},
])
async def test_token_source_takes_json_and_form_bodies(tmp_path, settings_for, start, where):
    """A token source reads its token where configured; JSON and form bodies both work."""
    cfg = {"type": "token", "token": "tok-1", "event": "tipo", "id": "venda[codigo]",
           "prefix": "monetizze.", **where}
    client = await start(settings_for(sources=sources(monetizze=cfg)))
    form = b"chave_unica=tok-1&tipo=venda_finalizada&venda%5Bcodigo%5D=987"
    data = json.dumps({"chave_unica": "tok-1", "tipo": "venda_finalizada", "venda[codigo]": "988"}).encode()
    for body, ctype in ((form, "application/x-www-form-urlencoded"), (data, "application/json")):
        resp = await client.post("/webhooks/monetizze?token=tok-1", data=body,
                                 headers={"X-Token": "tok-1", "content-type": ctype})
        assert (await resp.json())["status"] == "accepted", await resp.text()
    bad = await client.post("/webhooks/monetizze?token=nao", data=form.replace(b"tok-1", b"nao"),
                            headers={"X-Token": "nao"})
    assert bad.status == 401
    rows = sorted(query(tmp_path, "SELECT event, external_id FROM events"))
    assert rows == [("monetizze.venda_finalizada", "987"), ("monetizze.venda_finalizada", "988")]


async def test_kiwify_signature_is_over_the_raw_body(tmp_path, settings_for, start):
    """The signature covers the bytes as sent: one changed byte is a 401."""
    client = await start(settings_for(sources=sources()))
    body = body_of("kiwify.pix_created")
    sig = kiwify_signature(body)
    resp = await client.post(f"/webhooks/kiwify?signature={sig}", data=body + b" ")
    assert resp.status == 401
