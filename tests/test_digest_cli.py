"""CLI and examples: routes test and preview show digests; ponte report renders and sends."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from digestkit import paid_body

from service.__main__ import main
from service.config.settings import load_settings
from service.store.open import open_store
from service.store.records import Filter, NewEvent

ROOT = Path(__file__).resolve().parent.parent
SP = ZoneInfo("America/Sao_Paulo")


def _config(tmp_path: Path, url: str | None = None) -> Path:
    raw = {
        "storage": {"url": url or f"sqlite:///{tmp_path}/ponte.db"},
        "sources": {"eduzz": {"type": "eduzz", "secrets": ["s"]}},
        "sinks": {
            "chat": {"type": "file", "path": str(tmp_path / "chat.jsonl"), "format": "slack"},
            "mail": {"type": "file", "path": str(tmp_path / "mail.jsonl"), "format": "email"},
        },
        "routes": [
            {
                "name": "vendas",
                "events": ["myeduzz.invoice_paid"],
                "to": [
                    {
                        "sink": "chat",
                        "digest": {"group_by": ["event"], "wait": "30s", "interval": "2m"},
                    }
                ],
            }
        ],
        "reports": [{"name": "resumo", "every": "day", "at": "20:00", "to": ["mail"]}],
    }
    path = tmp_path / "ponte.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def test_routes_test_shows_the_digest(tmp_path, capsys):
    """routes test names the rule and the event's group and renders a digest of it."""
    config = _config(tmp_path)
    assert main(["routes", "test", "myeduzz.invoice_paid", "--config", str(config), "--json"]) == 0
    delivery = json.loads(capsys.readouterr().out)[0]["deliveries"][0]
    digest = delivery["digest"]
    assert (digest["wait"], digest["interval"], digest["group"]) == (
        30,
        120,
        ["myeduzz.invoice_paid"],
    )
    assert digest["message"]["blocks"][0]["text"]["text"].startswith("📦 1 ×")
    assert main(["routes", "test", "myeduzz.invoice_paid", "--config", str(config)]) == 0
    assert "⏳ digest: waits 30s, then one message every 120s" in capsys.readouterr().out


def test_preview_shows_the_digest(tmp_path, capsys):
    """preview prints the single message and the digest it would be part of."""
    config = _config(tmp_path)
    assert main(["preview", "myeduzz.invoice_paid", "--sink", "chat", "--config", str(config)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["message"]["blocks"] and "Venda aprovada" in json.dumps(
        shown["digest"]["message"], ensure_ascii=False
    )


async def _store_sales(url: str, when: float, values: list[float]) -> None:
    store = open_store(url)
    await store.open()
    for i, value in enumerate(values):
        body = paid_body(i, value)
        doc = json.loads(body)
        await store.save_event(
            NewEvent("eduzz", doc["id"], doc["event"], None, when + i, "accepted", {}, body), []
        )
    await store.close()


def test_report_renders_yesterday(tmp_path, capsys, store_url):
    """ponte report NAME --period yesterday prints each sink's message with yesterday's figures."""
    config = _config(tmp_path, store_url)
    noon = datetime.now(SP).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    asyncio.run(_store_sales(store_url, noon.timestamp(), [1000.0, 234.56]))
    capsys.readouterr()  # PostgreSQL logs its first migration
    assert main(["report", "resumo", "--period", "yesterday", "--json", "--config", str(config)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["sink"] == "mail" and "R$ 1.234,56" in out[0]["message"]["text"]
    assert main(["report", "resumo", "--period", "today", "--json", "--config", str(config)]) == 0
    today = json.loads(capsys.readouterr().out)[0]["message"]["text"]
    assert "Receita: —" in today and "Vendas pagas: 0" in today


def test_report_prints_readable_text_by_default(tmp_path, capsys, store_url):
    """Without --json: the summary as text a person reads (no JSON, no markup), and its sinks."""
    config = _config(tmp_path, store_url)
    noon = datetime.now(SP).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    asyncio.run(_store_sales(store_url, noon.timestamp(), [1000.0, 234.56]))
    capsys.readouterr()
    assert main(["report", "resumo", "--period", "yesterday", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "R$ 1.234,56" in out and not out.lstrip().startswith(("[", "{")) and "<" not in out
    assert "mail" in out.splitlines()[-1]


def test_report_send_stores_one_delivery_per_sink(tmp_path, capsys, store_url):
    """--send stores the summary as a delivery the service sends (and ponte deliveries lists)."""
    config = _config(tmp_path, store_url)
    assert main(["report", "resumo", "--period", "today", "--send", "--config", str(config)]) == 0
    assert "stored as event" in capsys.readouterr().out

    async def pending():
        store = open_store(store_url)
        await store.open()
        try:
            return (await store.list_deliveries(Filter(status="pending"), 10, None)).items
        finally:
            await store.close()

    items = asyncio.run(pending())
    assert [(d.sink, d.event, d.route) for d in items] == [
        ("mail", "ponte.report", "report:resumo")
    ]


def test_report_bad_input(tmp_path, capsys):
    """An unknown report or period is exit 2 with a clear message."""
    config = _config(tmp_path)
    assert main(["report", "nada", "--config", str(config)]) == 2
    assert "no report 'nada' (reports: resumo)" in capsys.readouterr().err
    assert main(["report", "resumo", "--period", "ontem", "--config", str(config)]) == 2
    assert "--period: 'ontem'" in capsys.readouterr().err


def test_examples_use_when_busy_for_chat_and_a_daily_report(monkeypatch):
    """vendas-slack groups only when busy; financeiro-email has the daily sales summary."""
    monkeypatch.delenv("SLACK_VENDAS_URL", raising=False)
    vendas = load_settings(str(ROOT / "config/examples/vendas-slack.yaml"))
    assert vendas.digests[("vendas", "vendas")].busy == (20, 60.0)
    financeiro = load_settings(str(ROOT / "config/examples/financeiro-email.yaml"))
    assert [(r.name, r.every, r.at) for r in financeiro.config.reports] == [
        ("resumo-diario", "day", "20:00")
    ]


def test_deliveries_shows_the_events_of_a_digest(tmp_path, capsys, store_url):
    """ponte deliveries ID of a digest lists its events; --status grouped/digested filter."""
    from service.batches.scheduler import close_due
    from service.ingest.handler import plan_deliveries

    config = _config(tmp_path, store_url)
    settings = load_settings(str(config))

    async def make() -> None:
        store = open_store(store_url)
        await store.open()
        for i in range(3):
            body = paid_body(i)
            doc = json.loads(body)
            event = NewEvent("eduzz", doc["id"], doc["event"], None, 100.0 + i, "accepted", {},
                             body)
            await store.save_event(event, plan_deliveries(settings, doc["event"], doc))
        await close_due(store, settings, 0.0, 1.0)
        await close_due(store, settings, 60.0, 2.0)
        await store.close()

    asyncio.run(make())
    assert main(["deliveries", "--status", "digested", "--config", str(config)]) == 0
    assert capsys.readouterr().out.count("digested") == 3
    assert main(["deliveries", "4", "--config", str(config)]) == 0
    assert "digest of 3 event(s): 1, 2, 3" in capsys.readouterr().out
