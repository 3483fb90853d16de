"""Built-in pt-BR messages for the chat sinks, from the same ``messages_specs.SPECS`` as Slack's.

telegram -> ``{"text": html}`` (bold headline, summary, "<b>Label:</b> value" lines, link,
footer); discord -> ``{"content": one line, "embeds": [{title, url, color, fields, footer}]}``,
coloured by the kind of event; teams -> ``{"card": Adaptive Card}`` (headline, summary,
a FactSet, footer, an "open" button when the event has a link).
Escaping is the template environment's (HTML for telegram, Markdown for discord/teams),
so only the literal text written here is escaped by hand. Buyer data is masked by the specs.
"""

from __future__ import annotations

import html
from typing import Any

from service.render.builtin.parts import SHOW, WHEN, Builders
from service.render.builtin.parts import summary as _summary
from service.render.builtin.parts import value as _value
from service.render.builtin.specs import SPECS, Field, Spec
from service.render.chatformat import escape_markdown, escape_teams

TELEGRAM_VALUE_LIMIT = 200
GREEN, RED, AMBER, BLUE = 0x2ECC71, 0xE74C3C, 0xF1C40F, 0x3498DB
_COLOURS = (
    (RED, ("cancel", "chargeback", "refund", "expired", "error", "abandon", "inactive", "deleted")),
    (AMBER, ("waiting", "opened", "recovering", "scheduled", "negotiated", "attempted", "help")),
    (GREEN, ("paid", "created", "finished", "completed", "processed", "checkin", "added")),
)


def colour(event: str) -> int:
    """The embed colour for an event: red for losses, amber for pending, green for gains."""
    action = event.partition(".")[2] or event
    for value, words in _COLOURS:
        if any(word in action for word in words):
            return value
    return BLUE


# --- pieces ----------------------------------------------------------------------------


def _footer(ids: tuple[Field, ...], code: tuple[str, str] = ("", "")) -> str:
    """Event name, Eduzz ids, Ponte's id and the time, joined with " · "."""
    parts = [f"{code[0]}{{{{ event }}}}{code[1]}"]
    for label, e in ids:
        parts.append(f"{{% if {e} %}} · {label} {{{{ ({e}) | clip(60) }}}}{{% endif %}}")
    parts.append("{% if id %} · ID {{ id | clip(60) }}{% endif %}")
    parts.append(
        f"{{% set when = {WHEN} %}}{{% if when %}} · {{{{ when | clip(40) }}}}{{% endif %}}"
    )
    return "".join(parts)


def _url(link: Field) -> str:
    return f"({link[1]}) | safe_url"


def _md(text: str) -> str:
    """Literal text written here, escaped for Discord's Markdown."""
    return escape_markdown(text)


def _tmd(text: str) -> str:
    """Literal text written here, escaped for a Teams card's Markdown."""
    return escape_teams(text)


# --- telegram ----------------------------------------------------------------------------


def telegram(spec: Spec) -> dict[str, Any]:
    """``{"text": html}`` for one event."""
    head = f"{spec.emoji} <b>{html.escape(spec.headline)}</b>\n{_summary(spec)}\n"
    lines = "".join(
        f"\n<b>{html.escape(label)}:</b> {_value(e, TELEGRAM_VALUE_LIMIT)}"
        for label, e in spec.fields
    )
    link = ""
    if spec.link:
        label = html.escape(spec.link[0])
        link = (f"{{% set url = {_url(spec.link)} %}}{{% if url %}}\n\n🔗 "
                f'<a href="{{{{ url }}}}">{label}</a>{{% endif %}}')  # fmt: skip
    footer = f"\n\n<i>{_footer(spec.ids, ('<code>', '</code>'))}</i>"
    return {"text": head + lines + link + footer}


def telegram_generic(title: str) -> dict[str, Any]:
    """The Telegram message for an event without a spec: its top-level data fields."""
    intro = f"\n<i>{html.escape(title)}</i>" if title else ""
    rows = ("{% set fields = data | masked | flatten | items | list %}{% for key, value in fields[:25] %}"
            "\n<b>{{ key | clip(40) }}:</b> {{ (" + SHOW + ") | clip(150) }}{% endfor %}"
            "{% if fields | length > 25 %}\n… e mais {{ fields | length - 25 }} campo(s)"
            "{% elif not fields %}\n(sem dados){% endif %}")  # fmt: skip
    footer = f"\n\n<i>{_footer((), ('<code>', '</code>'))}</i>"
    return {
        "text": f"📨 <b>Evento</b> <code>{{{{ event | clip(100) }}}}</code>{intro}\n{rows}{footer}"
    }


# --- discord -----------------------------------------------------------------------------


def discord(spec: Spec) -> dict[str, Any]:
    """``{"content", "embeds"}`` for one event: a one-line summary and one coloured embed."""
    fields = [{"name": _md(label), "value": _value(e), "inline": True} for label, e in spec.fields]
    embed: dict[str, Any] = {
        "title": f"{spec.emoji} {_md(spec.headline)}",
        "color": colour(spec_event(spec)),
        "fields": fields,
        "footer": {"text": _footer(spec.ids)},
    }
    if spec.link:
        embed["url"] = f"{{{{ {_url(spec.link)} }}}}"
        embed["description"] = (
            f"{{% if {_url(spec.link)} %}}🔗 {_md(spec.link[0])}: clique no título{{% endif %}}"
        )
    line = f"{spec.emoji} **{_md(spec.headline)}**{_summary(spec, ': ')}"
    content = f"{{% filter clip(300) %}}{line}{{% endfilter %}}"
    return {"content": content, "embeds": [embed]}


def discord_generic(title: str) -> dict[str, Any]:
    """The Discord message for an event without a spec: its data fields in one embed."""
    rows = ("{% set fields = data | masked | flatten | items | list %}{% for key, value in fields[:25] %}"
            "**{{ key | clip(40) }}**: {{ (" + SHOW + ") | clip(150) }}\n{% endfor %}"
            "{% if fields | length > 25 %}… e mais {{ fields | length - 25 }} campo(s)"
            "{% elif not fields %}(sem dados){% endif %}")  # fmt: skip
    embed = {"title": "📨 Evento {{ event | clip(200) }}", "description": rows, "color": BLUE,
             "footer": {"text": _footer(())}}  # fmt: skip
    return {"content": f"📨 {_md(title) or 'Evento recebido'}", "embeds": [embed]}


# --- teams -------------------------------------------------------------------------------


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def teams(spec: Spec) -> dict[str, Any]:
    """``{"card": ...}``: an Adaptive Card with headline, summary, facts, footer and a link."""
    facts = [{"title": _tmd(label), "value": _value(e)} for label, e in spec.fields]
    body = [
        _text(f"{spec.emoji} {_tmd(spec.headline)}", weight="Bolder", size="Medium"),
        _text(_summary(spec), isSubtle=True),
        {"type": "FactSet", "facts": facts},
        _text(_footer(spec.ids), size="Small", isSubtle=True),
    ]
    card: dict[str, Any] = {"type": "AdaptiveCard", "version": "1.4", "body": body}
    if spec.link:
        url = _url(spec.link)
        action = f"{{'type': 'Action.OpenUrl', 'title': {spec.link[0]!r}, 'url': ({url})}}"
        card["actions"] = f"{{{{ [{action}] if ({url}) else [] }}}}"
    return {"card": card}


def teams_generic(title: str) -> dict[str, Any]:
    """The Teams card for an event without a spec: its data fields as lines."""
    rows = ("{% set fields = data | masked | flatten | items | list %}{% for key, value in fields[:25] %}"
            "**{{ key | clip(40) }}**: {{ (" + SHOW + ") | clip(150) }}\n\n{% endfor %}"
            "{% if fields | length > 25 %}… e mais {{ fields | length - 25 }} campo(s)"
            "{% elif not fields %}(sem dados){% endif %}")  # fmt: skip
    body = [_text("📨 Evento {{ event | clip(100) }}", weight="Bolder", size="Medium")]
    if title:
        body.append(_text(_tmd(title), isSubtle=True))
    body += [_text(rows), _text(_footer(()), size="Small", isSubtle=True)]
    return {"card": {"type": "AdaptiveCard", "version": "1.4", "body": body}}


def spec_event(spec: Spec) -> str:
    """The event name a spec belongs to (for its colour)."""
    return _EVENT_OF.get(id(spec), "")


_EVENT_OF = {id(spec): name for name, spec in SPECS.items()}
TELEGRAM = Builders(telegram, telegram_generic)
DISCORD = Builders(discord, discord_generic)
TEAMS = Builders(teams, teams_generic)
