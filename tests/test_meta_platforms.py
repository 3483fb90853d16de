"""Every platform's paid sale is a Purchase without a template, read from the one sale model.

The sale model's additions (``paid_at``, ``buyer.id``, ``buyer.address``, ``items``) per
platform, then Hotmart and Kiwify paid sales through the app to the Conversions API fake
(tests/fake_meta.py): hashes compared with SHA-256 computed here, the same event_id across
a 500-then-200 retry and a replay; and ``ponte check`` taking a meta route on Hotmart's
and Kiwify's paid sales without a template.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_meta import PIXEL_ID, TOKEN, VERSION, FakeMeta
from platformkit import SOURCES, body_of, post_platform

from conftest import fixture_body
from service.__main__ import main
from service.render.builtin.meta import MAPPED
from service.sales import SALE_PATHS, sale_of
from service.sales.common import when
from sink_contract import HOST
from test_delivery import db, wait_for

ADMIN = "admin-token-for-the-meta-platform-tests"
FAST = {"max_attempts": 3, "retry_schedule": ["50ms"], "timeout": "2s"}


def sha(text: str) -> str:
    """SHA-256 hex of the normalised input, computed independently of Ponte."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def doc_of(event: str) -> dict[str, Any]:
    """The fixture of an Eduzz, Hotmart or Kiwify event, decoded."""
    raw = body_of(event) if event.startswith(("hotmart.", "kiwify.")) else fixture_body(event)
    return dict(json.loads(raw))


# --- the sale model's additions, per platform ----------------------------------------------


def test_eduzz_invoice_has_payment_time_buyer_id_address_and_items():
    sale = sale_of("myeduzz.invoice_paid", doc_of("myeduzz.invoice_paid"))
    assert sale is not None
    assert sale["paid_at"] == "2024-01-10T17:45:00.000Z"
    assert sale["buyer"]["id"] == "66677677767"
    assert sale["buyer"]["address"] == {"city": "Cidade", "state": "Estado", "zip": "12345-123",
                                        "country": "Brasil"}  # fmt: skip
    assert sale["items"] == [
        {"id": "P567", "name": "Widget X", "quantity": 1, "price": 150.75},
        {"id": "P789", "name": "Gadget Y", "quantity": 1, "price": 150.75},
    ]


def test_eduzz_unpaid_invoice_contract_and_cart():
    """No payment time before a payment (the example's stray paidAt is ignored); a contract's
    products, a paid charge attempt's time, a cart's product ids, customer ids."""
    opened = sale_of("myeduzz.invoice_negotiated", doc_of("myeduzz.invoice_negotiated"))
    assert opened is not None and opened["paid_at"] is None and len(opened["items"]) == 2
    contract = sale_of("myeduzz.contract_created", doc_of("myeduzz.contract_created"))
    assert contract is not None and contract["paid_at"] is None
    assert contract["items"] == [{"id": "1234", "name": "Produto de assinatura", "quantity": 1, "price": 10.0}]
    attempt = sale_of("myeduzz.contract_card_attempted", doc_of("myeduzz.contract_card_attempted"))
    assert attempt is not None and attempt["status"] == "paid"
    assert attempt["paid_at"] == "2025-01-01T10:00:00.000Z" and attempt["buyer"]["id"] == "87654321"
    assert attempt["items"] == [] and attempt["buyer"]["address"]["city"] is None
    cart = sale_of("sun.cart_abandonment", doc_of("sun.cart_abandonment"))
    assert cart is not None and [i["id"] for i in cart["items"]] == ["984923", "298742"]


def test_hotmart_purchase_has_approval_time_subscriber_address_and_product():
    sale = sale_of("hotmart.purchase_approved", doc_of("hotmart.purchase_approved"))
    assert sale is not None
    assert sale["paid_at"] == "2024-12-06T13:58:20.000Z"  # approved_date 1733493500000 ms
    assert sale["buyer"]["id"] == "I9OT62C3"  # data.subscription.subscriber.code
    assert sale["buyer"]["address"] == {"city": "São Paulo", "state": "SP", "zip": "01310100",
                                        "country": "BR"}  # fmt: skip
    assert sale["items"] == [{"id": "213344", "name": "Curso de Fotografia", "quantity": 1, "price": 1234.56}]
    printed = sale_of("hotmart.purchase_billet_printed", doc_of("hotmart.purchase_billet_printed"))
    assert printed is not None and printed["paid_at"] is None
    cart = sale_of("hotmart.purchase_out_of_shopping_cart", doc_of("hotmart.purchase_out_of_shopping_cart"))
    assert cart is not None and cart["items"][0]["id"] == "213344" and cart["buyer"]["id"] is None
    assert set(cart["buyer"]["address"].values()) == {None}


def test_kiwify_order_has_approval_time_address_and_product():
    sale = sale_of("kiwify.order_approved", doc_of("kiwify.order_approved"))
    assert sale is not None
    assert sale["paid_at"] == "2026-12-06T10:31:00.000Z"  # "2026-12-06 10:31", no zone: UTC
    assert sale["buyer"]["id"] is None  # Kiwify sends none
    assert sale["buyer"]["address"] == {"city": "Rio de Janeiro", "state": "RJ", "zip": "20010000",
                                        "country": None}  # fmt: skip
    assert sale["items"] == [{"id": "5f8e2d1c-7b3a-4c9e-a1d2-3e4f5a6b7c8d", "name": "Mentoria Vendas Online",
                              "quantity": 1, "price": 497.0}]  # fmt: skip
    pix = sale_of("kiwify.pix_created", doc_of("kiwify.pix_created"))
    assert pix is not None and pix["paid_at"] is None
    cart = sale_of("kiwify.abandoned_cart", doc_of("kiwify.abandoned_cart"))
    assert cart is not None and cart["buyer"]["address"]["country"] == "BR"
    assert cart["items"][0]["name"] == "Mentoria Vendas Online"


def test_every_sale_has_every_new_path():
    """Missing facts are null, never absent; every path is one ``ponte check`` knows."""
    for event in ("myeduzz.invoice_paid", "myeduzz.contract_updated", "hotmart.subscription_cancellation",
                  "kiwify.abandoned_cart", "sun.cart_abandonment"):  # fmt: skip
        sale = sale_of(event, doc_of(event))
        assert sale is not None, event
        assert {"paid_at", "items"} <= set(sale) and {"id", "address"} <= set(sale["buyer"])
        assert set(sale["buyer"]["address"]) == {"city", "state", "zip", "country"}
    assert {"sale.paid_at", "sale.items", "sale.buyer.id", "sale.buyer.address.zip"} <= SALE_PATHS


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-10T17:45:00.000Z", "2024-01-10T17:45:00.000Z"),
    ("2024-01-10T14:45:00-03:00", "2024-01-10T17:45:00.000Z"),
    ("2026-12-06 10:31", "2026-12-06T10:31:00.000Z"),
    (1733493500000, "2024-12-06T13:58:20.000Z"),
    (1733493500, "2024-12-06T13:58:20.000Z"),
    ("ontem", None), ("", None), (None, None), (True, None),
])  # fmt: skip
def test_payment_times_read_alike(value, expected):
    assert when(value) == expected


def test_every_paid_sale_maps_to_a_purchase():
    assert {"myeduzz.invoice_paid", "hotmart.purchase_approved", "kiwify.order_approved",
            "kiwify.subscription_renewed"} == MAPPED  # fmt: skip


# --- through the app, to the Conversions API fake --------------------------------------------


def hotmart_sale(paid: float) -> bytes:
    doc = doc_of("hotmart.purchase_approved")
    doc["data"]["purchase"]["approved_date"] = int(paid * 1000)
    doc["creation_date"] = int(paid * 1000)
    return json.dumps(doc).encode()


def kiwify_sale(paid: float) -> bytes:
    doc = doc_of("kiwify.order_approved")
    doc["approved_date"] = datetime.fromtimestamp(paid, UTC).strftime("%Y-%m-%d %H:%M")
    return json.dumps(doc).encode()


async def start_meta(aiohttp_server: Any, settings_for: Any, start: Any, event: str) -> tuple[FakeMeta, Any]:
    fake = FakeMeta()
    server = await aiohttp_server(fake.app(), host=HOST)
    sinks = {"meta": {"type": "meta_capi", "pixel_id": PIXEL_ID, "access_token": TOKEN,
                      "api_url": f"http://{HOST}:{server.port}/{VERSION}"}}  # fmt: skip
    routes = [{"name": "vendas", "events": [event], "to": ["meta"]}]
    settings = settings_for(sources=SOURCES, sinks=sinks, routes=routes, delivery=FAST,
                            server={"admin_token": ADMIN})  # fmt: skip
    return fake, await start(settings, worker=True)


async def retried_and_replayed(
    tmp_path: Any, fake: FakeMeta, client: Any, event: str, body: bytes
) -> list[dict[str, Any]]:
    """A 500 first, then 200; then a replay: what Meta accepted (two events, three requests)."""
    fake.script.append((500, None))
    resp = await post_platform(client, event, body)
    assert resp.status == 200, await resp.text()
    event_id = (await resp.json())["event_id"]
    await wait_for(lambda: len(fake.received) == 1)
    done = "SELECT count(*) FROM deliveries WHERE status = 'succeeded'"
    await wait_for(lambda: db(tmp_path, done) == [(1,)])  # a replay waits for the send to be recorded
    auth = {"Authorization": f"Bearer {ADMIN}"}
    assert (await client.post(f"/api/events/{event_id}/replay", headers=auth)).status == 200
    await wait_for(lambda: len(fake.received) == 2)
    assert len(fake.requests) == 3
    return fake.received


async def test_a_hotmart_paid_sale_is_one_hashed_purchase(tmp_path, settings_for, start, aiohttp_server):
    """purchase_approved, no template: the transaction as event_id on every try, approval time, hashes."""
    fake, client = await start_meta(aiohttp_server, settings_for, start, "hotmart.purchase_approved")
    paid = int(time.time()) - 7200
    received = await retried_and_replayed(tmp_path, fake, client, "hotmart.purchase_approved", hotmart_sale(paid))
    assert [e["event_id"] for e in received] == ["HP1121336654889", "HP1121336654889"]
    event = received[0]
    assert (event["event_name"], event["action_source"], event["event_time"]) == ("Purchase", "website", paid)
    assert event["custom_data"] == {"value": 1234.56, "currency": "BRL", "order_id": "HP1121336654889",
                                    "content_ids": ["213344"], "content_name": "Curso de Fotografia",
                                    "num_items": 1, "content_type": "product"}  # fmt: skip
    assert event["user_data"] == {
        "em": sha("maria.souza@example.com"), "ph": sha("5511987654321"),
        "fn": sha("maria"), "ln": sha("souza"), "ct": sha("sãopaulo"), "st": sha("sp"),
        "zp": sha("01310100"), "country": sha("br"), "external_id": sha("I9OT62C3"),
    }  # fmt: skip
    assert received[1] == event


async def test_a_kiwify_paid_sale_is_one_hashed_purchase(tmp_path, settings_for, start, aiohttp_server):
    """order_approved, no template: the order id as event_id on every try, approval minute, hashes."""
    fake, client = await start_meta(aiohttp_server, settings_for, start, "kiwify.order_approved")
    paid = (int(time.time()) - 3600) // 60 * 60  # Kiwify writes minutes
    received = await retried_and_replayed(tmp_path, fake, client, "kiwify.order_approved", kiwify_sale(paid))
    order = "c2b5e1f0-4a7d-4e3b-8f1a-6d9c0b2a3e00"
    assert [e["event_id"] for e in received] == [order, order]
    event = received[0]
    assert (event["event_name"], event["event_time"]) == ("Purchase", paid)
    assert event["custom_data"] == {"value": 497.0, "currency": "BRL", "order_id": order,
                                    "content_ids": ["5f8e2d1c-7b3a-4c9e-a1d2-3e4f5a6b7c8d"],
                                    "content_name": "Mentoria Vendas Online", "num_items": 1,
                                    "content_type": "product"}  # fmt: skip
    assert event["user_data"] == {
        "em": sha("joao.pereira@example.com"), "ph": sha("5521998765432"),
        "fn": sha("joão"), "ln": sha("pereira"), "ct": sha("riodejaneiro"), "st": sha("rj"),
        "zp": sha("20010000"),
    }  # fmt: skip


# --- ponte check ------------------------------------------------------------------------------

CHECKED = """\
sources:
  hotmart: {type: hotmart, hottok: h1}
  kiwify: {type: kiwify, token: k1}
sinks:
  meta: {type: meta_capi, pixel_id: "123456789012345", access_token: EAAGtoken}
routes:
"""


def check(tmp_path: Path, routes: str, capsys: Any) -> tuple[int, str]:
    path = tmp_path / "ponte.yaml"
    path.write_text(CHECKED + routes)
    code = main(["check", "--config", str(path)])
    return code, capsys.readouterr().err


def test_check_takes_a_meta_route_on_every_platforms_paid_sale_without_a_template(tmp_path, capsys):
    routes = ("  - name: vendas\n    events: [hotmart.purchase_approved, kiwify.order_approved,"
              " kiwify.subscription_renewed]\n    to: [meta]\n")  # fmt: skip
    code, err = check(tmp_path, routes, capsys)
    assert code == 0 and "meta" not in err, err


def test_check_still_refuses_what_is_not_a_paid_sale(tmp_path, capsys):
    routes = "  - {name: vendas, events: [hotmart.purchase_approved, hotmart.purchase_complete], to: [meta]}\n"
    code, err = check(tmp_path, routes, capsys)
    assert code == 1
    assert "has no built-in Meta event for 'hotmart.purchase_complete' (routes[0].events[1])" in err
