"""Digest and report messages laid out per channel: a ``Card`` becomes what a sink sends.

Each layout is part of its format's record (``service.render.formats``): slack
``{text, blocks}`` (3,000 characters a section); email ``{subject, text, html}`` (HTML
table, escaped); webhook ``{body}`` (the JSON envelope with the items); file ``{event,
title, summary, data}``; telegram ``{text}`` (HTML, 4,096 characters); discord
``{content, embeds}`` (embed 6,000 in all, field 1,024); teams ``{card}`` (an Adaptive
Card); whatsapp ``{text}`` (4,096). Rows that do not fit are counted in a closing
"… e mais N" line: one message, bounded size, whatever the count.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from service.render.batch_cards import Card, Section
from service.render.filters import number, slack_escape

Layout = Callable[[Card, dict[str, Any]], dict[str, Any]]


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(section: Section, budget: int, line: Callable[[str, str], str], sep: str = "\n") -> str:
    """The section's rows, one per line, within ``budget`` characters, then "… e mais N"."""
    out: list[str] = []
    used = 0
    for n, (label, value) in enumerate(section.rows):
        text = line(label, value)
        rest = len(section.rows) - n + section.more
        if used + len(text) + len(sep) + 40 > budget:
            out.append(f"… e mais {number(rest)}")
            return sep.join(out)
        out.append(text)
        used += len(text) + len(sep)
    if section.more:
        out.append(f"… e mais {number(section.more)}")
    return sep.join(out) or "—"


def _plain(
    card: Card, budget: int, bold: Callable[[str], str] = str, esc: Callable[[str], str] = str
) -> str:
    head = "\n".join([bold(esc(card.title)), *map(esc, card.intro)])
    foot = esc(card.footer)
    room = max(200, budget - len(head) - len(foot) - 10)
    per = room // max(1, len(card.sections))
    parts = [head]
    for section in card.sections:
        body = fit(section, per - len(section.title) - 4, lambda a, b: f"• {esc(a)}: {esc(b)}")
        parts.append(f"{bold(esc(section.title))}\n{body}")
    parts.append(foot)
    return clip("\n\n".join(parts), budget)


def telegram(card: Card, doc: dict[str, Any]) -> dict[str, Any]:
    """Telegram ``sendMessage`` with ``parse_mode=HTML``: ``{"text"}``, at most 4,096 characters."""
    return {
        "text": _plain(card, 4096, lambda t: f"<b>{t}</b>", lambda t: html.escape(t, quote=False))
    }


def whatsapp(card: Card, doc: dict[str, Any]) -> dict[str, Any]:
    """A WhatsApp text message: ``{"text"}``, *bold* markup, at most 4,096 characters."""
    return {"text": _plain(card, 4096, lambda t: f"*{t}*")}


def slack(card: Card, doc: dict[str, Any]) -> dict[str, Any]:
    """Slack Block Kit: header, intro, one section per part (≤3,000 characters), context footer."""
    esc = slack_escape
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(card.title, 150), "emoji": True},
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(esc("\n".join(card.intro)), 3000)},
        },
    ]
    for section in card.sections:
        body = fit(section, 2900 - len(section.title), lambda a, b: f"• *{esc(a)}*: {esc(b)}")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{esc(section.title)}*\n{body}"},
            }
        )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(esc(card.footer), 3000)}]}
    )
    return {
        "text": clip(esc(f"{card.title} · {card.intro[0] if card.intro else ''}"), 2900),
        "blocks": blocks,
    }


def email(card: Card, doc: dict[str, Any]) -> dict[str, Any]:
    """E-mail: a subject, a plain text part and an HTML part with one table per section."""
    esc = html.escape
    parts = [f"<h2>{esc(card.title)}</h2>", *(f"<p>{esc(line)}</p>" for line in card.intro)]
    for s in card.sections:
        rows = "".join(
            f'<tr><th align="left" style="padding:4px 16px 4px 0;color:#555">{esc(a)}</th>'
            f'<td style="padding:4px 0">{esc(b)}</td></tr>'
            for a, b in s.rows
        ) or "<tr><td>—</td></tr>"
        more = f"<p>… e mais {number(s.more)}</p>" if s.more else ""
        parts.append(f"<h3>{esc(s.title)}</h3><table>{rows}</table>{more}")
    parts.append(f'<p style="color:#888;font-size:12px">{esc(card.footer)}</p>')
    body = '<div style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">'
    return {
        "subject": clip(" ".join(card.title.split()), 200),
        "text": _plain(card, 200_000),
        "html": body + "".join(parts) + "</div>",
    }


def _md(text: str) -> str:
    return "".join("\\" + ch if ch in "\\*_~`|>[]()#" else ch for ch in text)


def discord(card: Card, doc: dict[str, Any]) -> dict[str, Any]:
    """Discord: ``content`` (title) and one embed (fields ≤1,024, whole embed ≤6,000)."""
    fields: list[dict[str, Any]] = [
        {
            "name": clip(s.title, 256),
            "value": fit(s, 1000, lambda a, b: f"• {_md(a)}: {_md(b)}"),
            "inline": False,
        }
        for s in card.sections[:25]
    ]
    while sum(len(f["name"]) + len(f["value"]) for f in fields) > 5000:
        fields.pop(0 if len(fields) > 1 and fields[0]["name"] == "Por evento" else -1)
    embed = {
        "title": clip(card.title, 256),
        "description": clip(_md("\n".join(card.intro)), 500),
        "fields": fields,
        "footer": {"text": clip(card.footer, 300)},
    }
    return {"content": clip(_md(card.title), 2000), "embeds": [embed]}


def teams(card: Card, doc: dict[str, Any]) -> dict[str, Any]:
    """Microsoft Teams: ``{"card"}``, an Adaptive Card 1.4 with one FactSet per section."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": card.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        *({"type": "TextBlock", "text": line, "wrap": True} for line in card.intro),
    ]
    for s in card.sections:
        body.append(
            {
                "type": "TextBlock",
                "text": s.title,
                "weight": "Bolder",
                "wrap": True,
                "spacing": "Medium",
            }
        )
        facts = [{"title": clip(a, 100), "value": clip(b, 300)} for a, b in s.rows]
        body.append({"type": "FactSet", "facts": facts or [{"title": "—", "value": "—"}]})
        if s.more:
            body.append(
                {"type": "TextBlock", "text": f"… e mais {number(s.more)}", "isSubtle": True}
            )
    body.append(
        {"type": "TextBlock", "text": card.footer, "isSubtle": True, "size": "Small", "wrap": True}
    )
    return {
        "card": {
            "type": "AdaptiveCard",
            "version": "1.4",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "body": body,
        }
    }


def webhook(card: Card, doc: dict[str, Any]) -> dict[str, Any]:
    """A webhook gets the JSON envelope itself: counts, totals and the items with their data."""
    return {"body": doc}


def file(card: Card, doc: dict[str, Any]) -> dict[str, Any]:
    """A file line: the event, the title, the whole text and the data."""
    return {
        "event": doc.get("event"),
        "title": card.title,
        "summary": _plain(card, 20_000),
        "data": doc.get("data"),
    }
