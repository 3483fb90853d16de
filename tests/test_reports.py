"""Scheduled summaries: periods in the report's zone (DST-safe), figures, once per period."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from digestkit import FakeClock, lines, paid_body, start_app, tick

from conftest import post_signed
from service.batches.reports import calendar_day, last_period, parse_at
from service.config.load import parse_config
from service.config.settings import build_settings
from service.errors import ConfigError

SP = ZoneInfo("America/Sao_Paulo")
NY = ZoneInfo("America/New_York")


def ts(zone, *args):
    """A local wall time as unix seconds."""
    return datetime(*args, tzinfo=zone).timestamp()


@pytest.mark.parametrize(
    ("every", "at", "zone", "now", "start", "end"),
    [
        ("day", "20:00", SP, (2026, 11, 30, 21, 0), (2026, 11, 29, 20, 0), (2026, 11, 30, 20, 0)),
        ("day", "20:00", SP, (2026, 11, 30, 19, 59), (2026, 11, 28, 20, 0), (2026, 11, 29, 20, 0)),
        ("day", "20:00", SP, (2026, 11, 30, 20, 0), (2026, 11, 29, 20, 0), (2026, 11, 30, 20, 0)),
        (
            "hour",
            "00:30",
            SP,
            (2026, 11, 30, 21, 10),
            (2026, 11, 30, 19, 30),
            (2026, 11, 30, 20, 30),
        ),
        ("week", "08:00", SP, (2026, 12, 2, 9, 0), (2026, 11, 23, 8, 0), (2026, 11, 30, 8, 0)),
        ("week", "08:00", SP, (2026, 11, 30, 7, 0), (2026, 11, 16, 8, 0), (2026, 11, 23, 8, 0)),
        ("month", "00:00", SP, (2026, 12, 15, 0, 0), (2026, 11, 1, 0, 0), (2026, 12, 1, 0, 0)),
        ("month", "09:00", SP, (2026, 1, 1, 8, 0), (2025, 11, 1, 9, 0), (2025, 12, 1, 9, 0)),
        ("day", "00:00", NY, (2026, 3, 9, 12, 0), (2026, 3, 8, 0, 0), (2026, 3, 9, 0, 0)),  # 23 h
        (
            "day",
            "00:00",
            NY,
            (2026, 11, 2, 12, 0),
            (2026, 11, 1, 0, 0),
            (2026, 11, 2, 0, 0),
        ),  # 25 h
    ],
)
def test_last_period(every, at, zone, now, start, end):
    """The latest period that ended, on the local calendar."""
    period = last_period(every, parse_at(at), zone, ts(zone, *now))
    assert (period.start, period.end) == (ts(zone, *start), ts(zone, *end))


def test_a_dst_day_has_its_real_length():
    """New York's spring-forward day is 23 hours long, its fall-back day 25."""
    spring = last_period("day", parse_at("00:00"), NY, ts(NY, 2026, 3, 9, 12, 0))
    fall = last_period("day", parse_at("00:00"), NY, ts(NY, 2026, 11, 2, 12, 0))
    assert (spring.end - spring.start, fall.end - fall.start) == (23 * 3600, 25 * 3600)


@pytest.mark.parametrize("text", ["25:00", "12:60", "8h", "", "20"])
def test_bad_times_of_day(text):
    """at: must be HH:MM within a day."""
    with pytest.raises(ValueError, match="at:"):
        parse_at(text)


def test_calendar_days():
    """--period yesterday / today / a date are local calendar days; anything else is refused."""
    now = ts(SP, 2026, 11, 30, 15, 0)
    assert calendar_day("yesterday", SP, now).start == ts(SP, 2026, 11, 29, 0, 0)
    assert calendar_day("today", SP, now).end == now
    assert calendar_day("2026-01-05", SP, now).end == ts(SP, 2026, 1, 6, 0, 0)
    with pytest.raises(ValueError, match="--period"):
        calendar_day("ontem", SP, now)


def test_the_day_before_a_calendar_day_keeps_its_hours():
    """--period today: yesterday up to the same hour; a whole day: the whole day before."""
    from service.batches.reports import previous

    now = ts(SP, 2026, 11, 30, 15, 0)
    today = previous(calendar_day("today", SP, now), "day", parse_at("20:00"), SP)
    assert (today.start, today.end) == (ts(SP, 2026, 11, 29, 0, 0), ts(SP, 2026, 11, 29, 15, 0))
    spring = previous(calendar_day("2026-03-09", NY, now), "day", parse_at("00:00"), NY)
    assert (spring.start, spring.end) == (ts(NY, 2026, 3, 8, 0, 0), ts(NY, 2026, 3, 9, 0, 0))


def _raw(tmp_path, at="20:00", url=None, **report):
    return {
        "storage": {"url": url or f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": ["test-secret"]}},
        "sinks": {
            "diretoria": {
                "type": "file",
                "path": str(tmp_path / "report.jsonl"),
                "format": "email",
            },
            "hook": {"type": "file", "path": str(tmp_path / "hook.jsonl"), "format": "webhook"},
        },
        "routes": [],
        "reports": [
            {
                "name": "resumo-diario",
                "every": "day",
                "at": at,
                "timezone": "America/Sao_Paulo",
                "to": ["diretoria", "hook"],
                **report,
            }
        ],
    }


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ({"at": "25:00"}, "reports[0].at: '25:00' is not a time of day"),
        (
            {"timezone": "America/Sao_Pablo"},
            "reports[0].timezone: unknown time zone 'America/Sao_Pablo'",
        ),
        ({"every": "fortnight"}, "reports[0].every"),
        ({"to": ["diretoria", "nada"]}, "reports[0].to[1]: unknown sink 'nada'"),
        ({"where": {"data.x": {"bogus": 1}}}, "reports[0].where"),
    ],
)
def test_bad_reports_name_their_path(tmp_path, report, expected):
    """Each bad report is refused with its YAML path."""
    raw = _raw(tmp_path)
    raw["reports"][0].update(report)
    with pytest.raises(ConfigError) as info:
        build_settings(parse_config(raw, env={}))
    assert any(expected in e for e in info.value.errors), info.value.errors


def _expected(sent):
    """Figures computed here, independently, from what the test sent."""
    paid = [s for s in sent if s["event"] == "myeduzz.invoice_paid"]
    with_value = [s for s in paid if s["value"] is not None]
    brl = sum((Decimal(str(s["value"])) for s in with_value if s["currency"] == "BRL"), Decimal(0))
    usd = sum((Decimal(str(s["value"])) for s in with_value if s["currency"] == "USD"), Decimal(0))
    refunds = [s for s in sent if s["event"] == "myeduzz.invoice_refunded"]
    products = {}
    for s in paid:
        products[s["product"]] = products.get(s["product"], 0) + 1
    return {
        "count": len(paid),
        "brl": brl,
        "usd": usd,
        "without": len(paid) - len(with_value),
        "refunds": len(refunds),
        "refund_brl": sum((Decimal(str(s["value"])) for s in refunds), Decimal(0)),
        "products": products,
    }


def _sales(n, seed=11):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        event = rng.choice(["myeduzz.invoice_paid"] * 4 + ["myeduzz.invoice_refunded"])
        value = (
            None
            if (event == "myeduzz.invoice_paid" and i % 9 == 0)
            else round(rng.uniform(10, 900), 2)
        )
        currency = "USD" if (event == "myeduzz.invoice_paid" and i % 7 == 0) else "BRL"
        out.append(
            {
                "i": i,
                "event": event,
                "value": value,
                "currency": currency,
                "product": rng.choice(["Curso A", "Curso B", "Mentoria"]),
                "method": rng.choice(["pix", "creditCard"]),
            }
        )
    return out


async def test_a_summary_comes_once_per_period_with_the_right_figures(tmp_path, aiohttp_client, store_url):
    """A new report waits for its first period; that period's figures match the events sent."""
    real = datetime.now(SP)
    at = (real + timedelta(hours=2)).strftime("%H:%M")  # the current period ends in ~2 h
    settings = build_settings(parse_config(_raw(tmp_path, at=at, url=store_url), env={}))
    clock = FakeClock()
    client = await start_app(aiohttp_client, settings, clock)
    await tick(client)  # a new report: the period that ended ~22 h ago is not sent
    sent = _sales(40)
    for s in sent:
        body = paid_body(s["i"], s["value"], s["currency"], s["product"], s["method"], s["event"])
        assert (await post_signed(client, body)).status == 200
    clock.advance(2 * 3600 + 120)
    await tick(client)
    await tick(client)
    for _ in range(100):
        if lines(tmp_path / "hook.jsonl") and lines(tmp_path / "report.jsonl"):
            break
        await asyncio.sleep(0.05)
    hooks = lines(tmp_path / "hook.jsonl")
    assert len(hooks) == 1
    data = hooks[0]["message"]["body"]["data"]
    want = _expected(sent)
    summary = data["summary"]
    assert summary["paid"]["count"] == want["count"]
    assert Decimal(summary["paid"]["amounts"]["BRL"]) == want["brl"]
    assert Decimal(summary["paid"]["amounts"].get("USD", "0")) == want["usd"]
    assert summary["paid"]["without_amount"] == want["without"]
    assert summary["refunded"]["count"] == want["refunds"]
    assert Decimal(summary["refunded"]["amounts"]["BRL"]) == want["refund_brl"]
    assert {p["name"]: p["count"] for p in summary["products"]} == want["products"]
    assert data["late"] is False
    mail = lines(tmp_path / "report.jsonl")[0]["message"]
    assert "Resumo de vendas" in mail["subject"] and "contadas, não somadas" in mail["text"]
    assert f"R$ {want['brl']:,.2f}".translate(str.maketrans(",.", ".,")) in mail["html"]
    await tick(client)
    await asyncio.sleep(0.1)
    assert len(lines(tmp_path / "hook.jsonl")) == 1  # once per period


async def test_a_period_missed_while_down_is_sent_once_late(tmp_path, aiohttp_client, store_url):
    """Ponte down at the report's time: the next start sends it once, saying it is late."""
    real = datetime.now(SP)
    at = (real + timedelta(hours=1)).strftime("%H:%M")
    settings = build_settings(parse_config(_raw(tmp_path, at=at, url=store_url), env={}))
    clock = FakeClock()
    first = await start_app(aiohttp_client, settings, clock)
    await tick(first)
    await first.close()
    clock.advance(3 * 3600)  # the report's time passed 2 h ago, while down
    second = await start_app(aiohttp_client, settings, clock)
    await tick(second)
    await tick(second)
    for _ in range(100):
        if lines(tmp_path / "report.jsonl"):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    got = lines(tmp_path / "report.jsonl")
    assert len(got) == 1 and "Enviado com atraso" in got[0]["message"]["text"]
    assert got[0]["body"]["data"]["late"] is True


async def test_a_custom_report_template_gets_figures_and_items(tmp_path, aiohttp_client):
    """A report template renders with data.summary and data.items."""
    template = {
        "subject": "Vendas: {{ data.summary.paid.count }}",
        "text": "{% for i in data.items %}{{ i.line }}\n{% endfor %}",
    }
    real = datetime.now(SP)
    raw = _raw(tmp_path, at=(real + timedelta(hours=1)).strftime("%H:%M"), template=template)
    raw["reports"][0]["to"] = ["diretoria"]
    client = await start_app(
        aiohttp_client, build_settings(parse_config(raw, env={})), clock := FakeClock()
    )
    await tick(client)
    for i in range(3):
        await post_signed(client, paid_body(i))
    clock.advance(3700)
    await tick(client)
    for _ in range(100):
        if lines(tmp_path / "report.jsonl"):
            break
        await asyncio.sleep(0.05)
    message = lines(tmp_path / "report.jsonl")[0]["message"]
    assert message["subject"] == "Vendas: 3" and message["text"].count("Venda aprovada") == 3


async def test_one_failing_report_does_not_hold_back_the_others(tmp_path):
    """Storage trouble on one report's row is logged; the next report is still sent."""
    from service.batches.report_run import run_due
    from service.errors import StorageUnavailable
    from service.store.sqlite.store import SQLiteStore

    raw = _raw(tmp_path, at="20:00")
    raw["reports"].insert(0, {**raw["reports"][0], "name": "quebrado"})
    settings = build_settings(parse_config(raw, env={}))

    class Flaky(SQLiteStore):
        async def last_report(self, report):
            if report == "quebrado":
                raise StorageUnavailable("disk I/O error")
            return await super().last_report(report)

    store = Flaky(str(tmp_path / "ponte.db"))
    await store.open()
    try:
        now = ts(SP, 2026, 11, 30, 20, 1)  # a minute after the time: not late, sent
        assert await run_due(store, settings, now, now) == 1
        assert await store.last_report("resumo-diario") == ts(SP, 2026, 11, 29, 20, 0)
    finally:
        await store.close()
