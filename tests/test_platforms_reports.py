"""Reports and digests across platforms: one revenue from Eduzz, Hotmart and Kiwify sales.

The expected figures are computed here from what the test sends (the values it put in each
body, Kiwify's cents divided here), never through ``service.sales``.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from digestkit import FakeClock, lines, paid_body, start_app, tick
from platformkit import SOURCES, body_of, post_platform

from conftest import SECRET, post_signed
from service.__main__ import main
from service.batches.digest_build import DigestBuilder
from service.batches.digests import Rule
from service.config.load import parse_config
from service.config.settings import build_settings
from service.render.batch_messages import render_batch
from service.store.open import open_store
from service.store.records import NewEvent, StoredItem

SP = ZoneInfo("America/Sao_Paulo")
PAID_EVENTS = {
    "myeduzz.invoice_paid",
    "hotmart.purchase_approved",
    "kiwify.order_approved",
    "kiwify.subscription_renewed",
}  # PURCHASE_COMPLETE is the end of the guarantee of a sale already approved: not a sale


def _hotmart(
    event: str, envelope_id: str, transaction: str, value: float, currency: str = "BRL"
) -> bytes:
    doc = json.loads(body_of(event))
    doc["id"] = envelope_id
    doc["data"]["purchase"]["transaction"] = transaction
    doc["data"]["purchase"]["price"] = {"value": value, "currency_value": currency}
    return json.dumps(doc).encode()


def _kiwify(event: str, order_id: str, cents: int) -> bytes:
    doc = json.loads(body_of(event))
    doc["order_id"] = order_id
    doc["Commissions"]["charge_amount"] = cents
    doc["Commissions"]["currency"] = "BRL"
    return json.dumps(doc).encode()


def _sent() -> list[dict[str, Any]]:
    """What the test sends: platform, event, order, currency and amount in units."""
    out = []
    for i, (event, value, currency) in enumerate(
        [
            ("myeduzz.invoice_paid", 1000.00, "BRL"),
            ("myeduzz.invoice_paid", 234.56, "BRL"),
            ("myeduzz.invoice_paid", 50.00, "USD"),
            ("myeduzz.invoice_refunded", 100.00, "BRL"),
        ]
    ):
        out.append(
            {
                "platform": "eduzz",
                "event": event,
                "order": f"inv-{i}",
                "value": value,
                "currency": currency,
                "body": paid_body(i, value, currency, event=event),
            }
        )
    for envelope, event, tx, value, currency in [
        ("h1", "hotmart.purchase_approved", "HP1", 1234.56, "BRL"),
        ("h2", "hotmart.purchase_approved", "HP2", 99.90, "BRL"),
        ("h3", "hotmart.purchase_approved", "HP3", 20.00, "USD"),
        ("h4", "hotmart.purchase_complete", "HP1", 1234.56, "BRL"),  # the same sale, later
        ("h5", "hotmart.purchase_approved", "HP2", 99.90, "BRL"),  # re-sent with a new id
        ("h6", "hotmart.purchase_refunded", "HP1", 1234.56, "BRL"),
    ]:
        out.append(
            {
                "platform": "hotmart",
                "event": event,
                "order": tx,
                "value": value,
                "currency": currency,
                "body": _hotmart(event, envelope, tx, value, currency),
            }
        )
    for event, order, cents in [
        ("kiwify.order_approved", "K1", 49700),
        ("kiwify.subscription_renewed", "K2", 9990),
        ("kiwify.order_approved", "K2", 9990),  # the same renewal order
        ("kiwify.order_refunded", "K1", 49700),
    ]:
        out.append(
            {
                "platform": "kiwify",
                "event": event,
                "order": order,
                "value": Decimal(cents) / 100,
                "currency": "BRL",
                "body": _kiwify(event, order, cents),
            }
        )
    return out


def _expected(sent: list[dict[str, Any]]) -> dict[str, Any]:
    """Per platform and currency: paid orders counted once each."""
    seen: set[tuple[str, str]] = set()
    platforms: dict[str, dict[str, Any]] = {}
    for s in sent:
        if s["event"] not in PAID_EVENTS or (s["platform"], s["order"]) in seen:
            continue
        seen.add((s["platform"], s["order"]))
        tally = platforms.setdefault(s["platform"], {"count": 0, "amounts": {}})
        tally["count"] += 1
        tally["amounts"][s["currency"]] = tally["amounts"].get(s["currency"], Decimal(0)) + Decimal(
            str(s["value"])
        )
    total: dict[str, Decimal] = {}
    for tally in platforms.values():
        for currency, value in tally["amounts"].items():
            total[currency] = total.get(currency, Decimal(0)) + value
    refunds = [s for s in sent if s["event"].endswith("_refunded")]
    return {"platforms": platforms, "total": total, "count": len(seen), "refunds": len(refunds)}


def _brl(value: Decimal) -> str:
    return "R$ " + f"{value:,.2f}".translate(str.maketrans(",.", ".,"))


def _raw(tmp_path, url: str, at: str) -> dict[str, Any]:
    return {
        "storage": {"url": url},
        "sources": {"eduzz": {"type": "eduzz", "secrets": [SECRET]}, **SOURCES},
        "sinks": {
            "mail": {"type": "file", "path": str(tmp_path / "mail.jsonl"), "format": "email"},
            "hook": {"type": "file", "path": str(tmp_path / "hook.jsonl"), "format": "webhook"},
        },
        "routes": [],
        "reports": [
            {
                "name": "resumo",
                "every": "day",
                "at": at,
                "timezone": "America/Sao_Paulo",
                "events": ["*"],
                "to": ["mail", "hook"],
            }
        ],
    }


async def test_a_report_adds_up_the_sales_of_every_platform(tmp_path, aiohttp_client, store_url):
    """Revenue is the BRL sum of paid orders of every platform, each order once, a line each."""
    at = (datetime.now(SP) + timedelta(hours=1)).strftime("%H:%M")
    settings = build_settings(parse_config(_raw(tmp_path, store_url, at), env={}))
    clock = FakeClock()
    client = await start_app(aiohttp_client, settings, clock)
    await tick(client)  # a new report: its first period is the current one
    sent = _sent()
    for s in sent:
        if s["platform"] == "eduzz":
            resp = await post_signed(client, s["body"])
        else:
            resp = await post_platform(client, s["event"], s["body"])
        assert resp.status == 200 and (await resp.json())["status"] == "accepted", s["event"]
    clock.advance(3700)
    await tick(client)
    for _ in range(200):
        if lines(tmp_path / "hook.jsonl") and lines(tmp_path / "mail.jsonl"):
            break
        await asyncio.sleep(0.05)
    summary = lines(tmp_path / "hook.jsonl")[0]["message"]["body"]["data"]["summary"]
    want = _expected(sent)
    assert summary["paid"]["count"] == want["count"] == 8
    assert {c: Decimal(v) for c, v in summary["paid"]["amounts"].items()} == want["total"]
    assert set(want["total"]) == {"BRL", "USD"}  # USD is kept apart, never added to BRL
    for platform, tally in want["platforms"].items():
        got = summary["platforms"][platform]
        assert got["count"] == tally["count"], platform
        assert {c: Decimal(v) for c, v in got["amounts"].items()} == tally["amounts"], platform
    assert summary["repeated"] == 2  # HP2 re-sent, K2's second paid event
    assert summary["refunded"]["count"] == want["refunds"] == 3
    mail = lines(tmp_path / "mail.jsonl")[0]["message"]
    text = mail["text"]
    assert f"Receita: {_brl(want['total']['BRL'])}" in text
    assert "Outras moedas: US$ 70,00 (não somadas à receita em R$)" in text
    for platform, label in (("eduzz", "Eduzz"), ("hotmart", "Hotmart"), ("kiwify", "Kiwify")):
        tally = want["platforms"][platform]
        assert f"{label}: {tally['count']} · {_brl(tally['amounts']['BRL'])}" in text, text
    assert _brl(want["total"]["BRL"]) in mail["html"]


def test_a_digest_of_two_platforms_has_a_line_per_platform():
    """A digest of Hotmart and Kiwify sales totals them and names each platform."""
    builder = DigestBuilder(Rule(30, 120, 10), "America/Sao_Paulo")
    now = time.time()
    bodies = [
        ("hotmart", "hotmart.purchase_approved", body_of("hotmart.purchase_approved")),
        ("kiwify", "kiwify.order_approved", body_of("kiwify.order_approved")),
    ]
    for i, (source, event, body) in enumerate(bodies):
        builder.add(StoredItem(i + 1, i + 1, source, event, f"x{i}", now, body))
    envelope = builder.envelope("chat", "vendas", [], now)
    hotmart = json.loads(bodies[0][2])["data"]["purchase"]["price"]["value"]
    kiwify = Decimal(json.loads(bodies[1][2])["Commissions"]["charge_amount"]) / 100
    total = Decimal(str(hotmart)) + kiwify
    assert Decimal(envelope["data"]["totals"]["paid"]["amounts"]["BRL"]) == total
    assert [i["sale"]["platform"] for i in envelope["data"]["items"]] == ["hotmart", "kiwify"]
    text = render_batch(envelope, "telegram")["text"]
    assert _brl(total) in text and "Hotmart 1 · " in text and "Kiwify 1 · " in text


def test_ponte_report_shows_each_platform(tmp_path, capsys):
    """``ponte report --period today`` adds up a Hotmart and a Kiwify sale, a line each."""
    url = f"sqlite:///{tmp_path}/ponte.db"
    raw = _raw(tmp_path, url, "20:00")
    del raw["reports"][0]["events"]  # the default covers every platform
    config = tmp_path / "ponte.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True))
    sales = [
        (
            "hotmart",
            "hotmart.purchase_approved",
            _hotmart("hotmart.purchase_approved", "a", "HPX", 150.25),
        ),
        ("kiwify", "kiwify.order_approved", _kiwify("kiwify.order_approved", "KX", 4990)),
    ]

    async def store_them() -> None:
        store = open_store(url)
        await store.open()
        for i, (source, event, body) in enumerate(sales):
            await store.save_event(
                NewEvent(source, f"x{i}", event, None, time.time() - 60, "accepted", {}, body), []
            )
        await store.close()

    asyncio.run(store_them())
    assert main(["report", "resumo", "--period", "today", "--json", "--config", str(config)]) == 0
    text = next(m for m in json.loads(capsys.readouterr().out) if m["sink"] == "mail")["message"][
        "text"
    ]
    total = Decimal("150.25") + Decimal(4990) / 100
    assert f"Receita: {_brl(total)}" in text and "Vendas pagas: 2" in text
    assert "Hotmart: 1 · R$ 150,25" in text and "Kiwify: 1 · R$ 49,90" in text
