"""What a digest or a report says, in pt-BR, before any channel's formatting: a ``Card``.

A card is a title, intro lines, sections of (label, value) rows and a footer; each
channel (``service.batch_messages``) lays it out within its own limits. Money is
``R$ 1.234,56`` (other currencies kept apart, never converted), times are in the
configured time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from service.render.builtin.parts import catalogue_titles
from service.render.builtin.specs import SPECS
from service.render.filters import brl, moment_filter, number

DIGEST_EVENT = "ponte.digest"  # the envelope a closed digest group becomes
REPORT_EVENT = "ponte.report"  # the envelope a report run becomes
KIND_LABELS = {
    "paid": "Vendas aprovadas",
    "refunded": "Reembolsos",
    "chargeback": "Chargebacks",
    "canceled": "Cancelamentos",
    "abandoned": "Carrinhos abandonados",
}
PLATFORM_LABELS = {"eduzz": "Eduzz", "hotmart": "Hotmart", "kiwify": "Kiwify"}
EVERY = {"hour": "a cada hora", "day": "diário", "week": "semanal", "month": "mensal"}


@dataclass
class Section:
    """A titled list of (label, value) rows; ``more`` rows exist that are not listed."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    more: int = 0


@dataclass
class Card:
    """A channel-neutral message."""

    title: str
    intro: list[str]
    sections: list[Section]
    footer: str


def money(amounts: dict[str, Any]) -> str:
    """``{"BRL": "1234.5"}`` -> ``R$ 1.234,50``; other currencies apart, never added to BRL.

    ``{"BRL": "1234.5", "USD": "10"}`` -> ``R$ 1.234,50 (à parte: US$ 10,00)``; — when empty.
    """
    parts = [
        brl({"currency": c, "value": Decimal(str(v))})
        for c, v in sorted(amounts.items(), key=_brl_first)
    ]
    if "BRL" in amounts and len(parts) > 1:
        return f"{parts[0]} (à parte: {'; '.join(parts[1:])})"
    return "; ".join(parts) or "—"


def _brl_first(item: tuple[str, Any]) -> tuple[bool, str]:
    return item[0] != "BRL", item[0]


def event_label(event: str) -> str:
    """A short Portuguese name for an event (its built-in headline, else its catalogue title)."""
    spec = SPECS.get(event)
    if spec is not None:
        return f"{spec.emoji} {spec.headline}"
    return catalogue_titles().get(event) or event


def tally_text(tally: dict[str, Any], noun: str = "sem valor") -> str:
    """``12 · R$ 3.618,00 (1 sem valor: contado, não somado)``."""
    text = f"{number(tally['count'])} · {money(tally['amounts'])}"
    if tally.get("without_amount"):
        text += f" ({tally['without_amount']} {noun}: contado, não somado)"
    return text


def digest_card(data: dict[str, Any]) -> Card:
    """The card of a ``ponte.digest``: totals, the first items, how many more."""
    zone = ZoneInfo(data.get("timezone") or "America/Sao_Paulo")
    when = moment_filter("%d/%m %H:%M:%S", zone)
    by_event: dict[str, int] = data.get("by_event") or {}
    single = next(iter(by_event)) if len(by_event) == 1 else None
    title = (
        f"📦 {number(data['count'])} × {event_label(single)}"
        if single
        else f"📦 {number(data['count'])} eventos"
    )
    intro = [f"Recebidos de {when(data.get('first_at'))} a {when(data.get('last_at'))}"]
    intro += [
        f"{KIND_LABELS[k]}: {tally_text(t) if k != 'abandoned' else number(t['count'])}"
        for k, t in (data.get("totals") or {}).items()
    ]
    platforms = data.get("platforms") or {}
    if len(platforms) > 1:
        intro.append(
            "Por plataforma: "
            + "; ".join(
                f"{PLATFORM_LABELS.get(p, p)} {tally_text(t)}" for p, t in platforms.items()
            )
        )
    sections = []
    if len(by_event) > 1:
        sections.append(
            Section("Por evento", [(event_label(e), number(n)) for e, n in by_event.items()])
        )
    rows = [(when(i.get("received_at")), str(i.get("line", ""))) for i in data.get("items") or []]
    sections.append(Section("Eventos", rows, int(data.get("more") or 0)))
    key = ", ".join(
        f"{k}={v}" for k, v in zip(data.get("group_by") or [], data.get("key") or [], strict=False)
    )
    footer = f"Resumo da rota {data.get('route')} para {data.get('sink')}" + (
        f" · {key}" if key else ""
    )
    return Card(title, intro, sections, footer)


def report_card(data: dict[str, Any]) -> Card:
    """The card of a ``ponte.report``: sales, products, payment methods, losses, carts, change."""
    s, zone = data["summary"], ZoneInfo(data.get("timezone") or "America/Sao_Paulo")
    intro = [f"Período: {data['period']['label']} ({data.get('timezone')})"]
    if data.get("late"):
        due = moment_filter("%d/%m/%Y %H:%M", zone)(data.get("due_at"))
        intro.append(f"⚠️ Enviado com atraso: o horário previsto era {due} (o Ponte estava parado).")
    paid = s["paid"]
    brl_only = {c: v for c, v in paid["amounts"].items() if c == "BRL"}
    others = {c: v for c, v in paid["amounts"].items() if c != "BRL"}
    sales = Section(
        "💰 Vendas", [("Vendas pagas", number(paid["count"])), ("Receita", money(brl_only))]
    )
    if others:
        sales.rows.append(("Outras moedas", f"{money(others)} (não somadas à receita em R$)"))
    sales.rows += [
        (PLATFORM_LABELS.get(p, p), tally_text(t)) for p, t in (s.get("platforms") or {}).items()
    ]
    sales.rows.append(("Variação", change_text(data.get("change") or {})))
    if paid["without_amount"]:
        sales.rows.append(
            (
                "Sem valor",
                f"{paid['without_amount']} venda(s) paga(s) sem valor: contadas, não somadas",
            )
        )
    if s.get("repeated"):
        sales.rows.append(
            ("Repetidos", f"{s['repeated']} evento(s) de pedido já contado no período: não somados")
        )
    products = Section(
        "📦 Produtos (top 10)",
        [(p["name"], f"{number(p['count'])} · {money(p['amounts'])}") for p in s["products"]],
        max(0, s["products_total"] - 10),
    )
    methods = Section(
        "💳 Formas de pagamento",
        [(m["name"], f"{number(m['count'])} · {money(m['amounts'])}") for m in s["methods"]],
    )
    losses = Section(
        "↩️ Reembolsos, chargebacks e cancelamentos",
        [(KIND_LABELS[k], tally_text(s[k])) for k in ("refunded", "chargeback", "canceled")],
    )
    carts = Section("🛒 Carrinhos abandonados", [("Carrinhos", number(s["abandoned"]["count"]))])
    every = EVERY.get(data.get("every", ""), "")
    footer = f"Relatório {data['report']} ({every}) · {number(s['events'])} evento(s)"
    return Card(
        f"📊 Resumo de vendas · {data['report']}",
        intro,
        [sales, products, methods, losses, carts],
        footer,
    )


def change_text(change: dict[str, Any]) -> str:
    """``+20,0% na receita · +2 vendas vs período anterior (10 · R$ 3.015,00)``."""
    before = f"{number(change.get('paid_count', 0))} · {money(change.get('amounts') or {})}"
    pct = change.get("revenue_percent")
    if pct is None:
        return f"sem vendas no período anterior para comparar ({before})"
    sign = "+" if pct >= 0 else ""
    return f"{sign}{number(round(pct, 1), 1)}% na receita vs período anterior ({before})"
