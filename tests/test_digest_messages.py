"""Built-in digest and report messages: every channel's shape and limits, pt-BR money, escaping."""

from __future__ import annotations

import json
import time

import msgspec
import pytest
from digestkit import paid_body

from service.batches.digest_build import DigestBuilder
from service.batches.digests import Rule, digest_problem
from service.batches.summary import summarize
from service.config.schema import Base
from service.render.batch_messages import render_batch
from service.render.formats import LAYOUTS
from service.store.records import StoredItem

KINDS = sorted(LAYOUTS)


def _digest(count: int, max_items: int = 100, product: str = "Curso A") -> dict:
    builder = DigestBuilder(Rule(30, 120, max_items), "America/Sao_Paulo")
    now = time.time()
    for i in range(count):
        builder.add(
            StoredItem(
                i + 1,
                i + 1,
                "eduzz",
                "myeduzz.invoice_paid",
                f"ev-{i}",
                now,
                paid_body(i, 1234.56, product=product),
            )
        )
    return builder.envelope("chat", "vendas", [], now)


def _report(product: str = "Curso A") -> dict:
    docs = [
        ("myeduzz.invoice_paid", json.loads(paid_body(i, 1234.56, product=product)))
        for i in range(3)
    ]
    docs.append(("myeduzz.invoice_paid", json.loads(paid_body(9, None))))
    summary = summarize(docs)
    return {
        "id": "r",
        "event": "ponte.report",
        "sentDate": "2026-11-30T23:00:00Z",
        "data": {
            "report": "resumo-diario",
            "every": "day",
            "timezone": "America/Sao_Paulo",
            "period": {"label": "29/11/2026 20:00 a 30/11/2026 20:00"},
            "late": False,
            "summary": summary,
            "change": {"paid_count": 2, "amounts": {"BRL": "1000"}, "revenue_percent": 270.4},
            "items": [],
        },
    }


def _text_of(kind: str, message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def _check_limits(kind: str, m: dict) -> None:
    if kind in ("telegram", "whatsapp"):
        assert set(m) == {"text"} and len(m["text"]) <= 4096
    elif kind == "slack":
        assert len(m["blocks"]) <= 50 and len(m["text"]) <= 3000
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in m["blocks"])
    elif kind == "discord":
        embed = m["embeds"][0]
        assert len(m["content"]) <= 2000 and len(embed["fields"]) <= 25
        assert all(len(f["value"]) <= 1024 and len(f["name"]) <= 256 for f in embed["fields"])
        total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
        assert total + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]) <= 6000
    elif kind == "teams":
        assert m["card"]["type"] == "AdaptiveCard" and len(json.dumps(m)) <= 28_000
    elif kind == "email":
        assert set(m) == {"subject", "text", "html"} and len(m["html"]) < 100_000
    elif kind == "webhook":
        assert len(msgspec.json.encode(m["body"])) < 1_000_000


@pytest.mark.parametrize("kind", KINDS)
def test_ten_thousand_items_make_one_bounded_message(kind):
    """10,000 sales in one window: one message per channel, inside the channel's limits."""
    message = render_batch(_digest(10_000), kind)
    _check_limits(kind, message)
    if kind == "webhook":
        data = message["body"]["data"]
        assert (data["count"], data["more"], len(data["items"])) == (10_000, 9_900, 100)
        return
    text = _text_of(kind, message)
    assert "10.000" in text and "e mais" in text


@pytest.mark.parametrize("kind", KINDS)
def test_a_report_renders_for_every_channel_in_portuguese(kind):
    """The sales summary: R$ 1.234,56 money, the change, the event without an amount said."""
    message = render_batch(_report(), kind)
    _check_limits(kind, message)
    text = _text_of(kind, message)
    if kind == "webhook":
        assert message["body"]["data"]["summary"]["paid"]["amounts"] == {"BRL": "3703.68"}
        return
    assert "R$ 3.703,68" in text and "+270,4%" in text
    assert "sem valor" in text


@pytest.mark.parametrize("kind", ["telegram", "slack", "email", "teams"])
def test_payload_text_cannot_inject_markup(kind):
    """A product named like markup arrives as text, never as markup."""
    message = render_batch(_report(product="<b>x</b> <!channel> & co"), kind)
    text = _text_of(kind, message)
    if kind == "telegram":
        assert "<b>x</b>" not in message["text"] and "&lt;b&gt;x&lt;/b&gt;" in message["text"]
    elif kind == "slack":
        assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    elif kind == "email":
        assert "<b>x</b>" not in message["html"]
    else:
        assert "<b>x</b>" in text  # plain text in an Adaptive Card: Teams does not read HTML


def test_unknown_kind_is_an_error():
    """A kind without a layout is a clear error, not a silent default."""
    with pytest.raises(ValueError, match="no built-in digest message"):
        render_batch(_report(), "pager")


class GoogleSheetsConfig(Base, tag="google_sheets", tag_field="type"):
    """Stand-in with the google_sheets tag (the real sink lives in another branch)."""


class WhatsappConfig(Base, tag="whatsapp", tag_field="type"):
    """Stand-in for a WhatsApp sink in template mode."""

    template: str | None = None
    to: list[str] = msgspec.field(default_factory=list)


def test_sinks_that_cannot_take_a_digest():
    """A spreadsheet and a WhatsApp template sink refuse digests; a WhatsApp text sink takes one."""
    assert "google_sheets" in (digest_problem(GoogleSheetsConfig()) or "")
    assert "template" in (digest_problem(WhatsappConfig(template="pedido_pago")) or "")
    assert "buyer" in (digest_problem(WhatsappConfig(to=["{{ data.buyer.cellphone }}"])) or "")
    assert digest_problem(WhatsappConfig(to=["+5511999990000"])) is None


def test_check_names_the_path_of_a_digest_a_sink_cannot_take():
    """The config check reports routes[i].to[j].digest for a sink that cannot take digests."""
    from service.batches.digests import check_digest_targets
    from service.config.schema import DigestConfig, Duration, RouteConfig, TargetConfig

    target = TargetConfig(sink="planilha", digest=DigestConfig(wait=Duration(30)))
    route = RouteConfig(name="planilha", events=["myeduzz.invoice_paid"], to=[target])
    errors: list[str] = []
    check_digest_targets([route], {"planilha": GoogleSheetsConfig()}, errors)
    assert errors == ["routes[0].to[0].digest: a google_sheets sink takes one row or message per "
                      "event, not a digest"]
