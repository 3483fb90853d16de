"""Ponte's built-in messages for Eduzz events, per sink kind, in Brazilian Portuguese.

``builtin_template(event, kind)`` gives the compiled template a sink uses when its route
sets none: slack -> ``{"text", "blocks"}`` (header, fields, optional link, context
footer); email -> ``{"subject", "text", "html"}``; file -> ``{"event", "title",
"summary", "data"}``; webhook -> None (the original body is forwarded unchanged);
telegram, discord, teams -> see ``messages_chat``.
What each event shows is in ``messages_specs``; events without a spec (legacy names,
``ping``, anything new) get a generic message listing the top-level ``data`` fields.
E-mail addresses, documents and phones are masked: messages go to shared channels.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

from service.config.schema import DEFAULT_TIMEZONE
from service.eduzz import catalogue
from service.render.builtin.chat import CHAT_BUILDERS, CHAT_GENERIC_BUILDERS
from service.render.builtin.parts import SHOW, WHEN
from service.render.builtin.parts import summary as _summary
from service.render.builtin.parts import value as _value
from service.render.builtin.specs import SPECS, Field, Spec
from service.render.templates import CompiledTemplate, compile_template

TEXT_LIMIT = 2900  # characters of a Slack text (Slack allows 3000)
GENERIC_LINES = 15  # data fields listed by the generic Slack message
GENERIC_TITLES = {"ping": "verificação da URL (teste)", "test.event_one": "evento de teste"}


def builtin_template(
    event: str, kind: str, *, timezone: str = DEFAULT_TIMEZONE
) -> CompiledTemplate | None:
    """The built-in message for ``event`` and sink ``kind``; None for webhooks."""
    if kind == "webhook":
        return None
    if kind not in _BUILDERS:
        raise ValueError(f"no built-in messages for sink kind {kind!r}")
    name = _known(event)
    if name is None:
        title = GENERIC_TITLES.get(event) or catalogue_titles().get(event, "")
        return _generic(title, kind, timezone)
    return _compiled(name, kind, timezone)


@functools.cache
def catalogue_titles() -> dict[str, str]:
    """events.tsv: event name -> Portuguese title, editorial notes in [brackets] removed."""
    return {row["event"]: _clean(row["title (pt)"]) for row in catalogue.tsv_rows()}


def _clean(title: str) -> str:
    return re.sub(r"\s*\[.*\]|[{}]", "", title).strip()[:200]


def _known(event: str) -> str | None:
    """The event's full name when it has a spec (Eduzz examples drop the app prefix)."""
    name = catalogue.normalize_event_name(event)
    return name if name in SPECS else None


@functools.cache
def _compiled(name: str, kind: str, timezone: str) -> CompiledTemplate:
    tree = _BUILDERS[kind](SPECS[name])
    return compile_template(tree, kind=kind, timezone=timezone, where=f"builtin[{name}].{kind}")


@functools.cache
def _generic(title: str, kind: str, timezone: str) -> CompiledTemplate:
    tree = _GENERIC_BUILDERS[kind](title)
    return compile_template(tree, kind=kind, timezone=timezone, where=f"builtin[*].{kind}")


# --- template pieces --------------------------------------------------------------------


def _one_line(spec: Spec, limit: int = TEXT_LIMIT) -> str:
    text = f"{spec.emoji} {spec.headline}{_summary(spec, first=': ')}"
    return f"{{% filter clip({limit}) %}}{text}{{% endfilter %}}"


def _footer(ids: tuple[Field, ...], code: bool) -> str:
    parts = ["`{{ event }}`" if code else "{{ event }}"]
    for label, e in ids:
        parts.append(f"{{% if {e} %}} · {label} {{{{ ({e}) | clip(60) }}}}{{% endif %}}")
    parts.append("{% if id %} · ID {{ id | clip(60) }}{% endif %}")
    parts.append(f"{{% set when = {WHEN} %}}")
    parts.append("{% if when %} · {{ when | clip(40) }}{% endif %}")
    return "".join(parts)


def _link(link: Field | None, slack: bool) -> str:
    if link is None:
        return ""
    label, source = link
    shown = f"🔗 {{{{ url | slack_link('{label}') }}}}" if slack else f"{label}: {{{{ url }}}}"
    found = f"{{% set url = ({source}) | safe_url %}}{{% if url %}}{shown}"
    return f"{found}{{% else %}}{label}: —{{% endif %}}"


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


# --- one builder per sink kind ------------------------------------------------------------


def _slack(spec: Spec) -> dict[str, Any]:
    fields = [_mrkdwn(f"*{label}*\n{_value(e)}") for label, e in spec.fields]
    blocks = [_header(f"{spec.emoji} {spec.headline}")]
    blocks += [{"type": "section", "fields": fields[i : i + 10]} for i in range(0, len(fields), 10)]
    if spec.link:
        blocks.append({"type": "section", "text": _mrkdwn(_link(spec.link, slack=True))})
    blocks.append({"type": "context", "elements": [_mrkdwn(_footer(spec.ids, code=True))]})
    return {"text": _one_line(spec), "blocks": blocks}


def _email(spec: Spec) -> dict[str, Any]:
    headline = f"{spec.emoji} {spec.headline}"
    lines = "\n".join(f"{label}: {_value(e)}" for label, e in spec.fields)
    link = f"\n\n{_link(spec.link, slack=False)}" if spec.link else ""
    footer = _footer(spec.ids, code=False)
    text = f"{headline}\n{_summary(spec, first='')}\n\n{lines}{link}\n\n{footer}"
    rows = "".join(_row(html.escape(label), _value(e)) for label, e in spec.fields)
    return {"subject": _one_line(spec, 200), "text": text, "html": _html(headline, spec, rows)}


def _row(label: str, value: str) -> str:
    return (f'<tr><th align="left" valign="top" style="padding:4px 16px 4px 0;color:#555">'
            f'{label}</th><td style="padding:4px 0">{value}</td></tr>')  # fmt: skip


def _html(headline: str, spec: Spec | None, rows: str) -> str:
    summary = f"<p>{_summary(spec, first='')}</p>" if spec else ""
    link = ""
    if spec and spec.link:
        label, source = spec.link
        anchor = f'<p><a href="{{{{ url }}}}">{html.escape(label)}</a></p>'
        link = f"{{% set url = ({source}) | safe_url %}}{{% if url %}}{anchor}{{% endif %}}"
    footer = _footer(spec.ids if spec else (), code=False)
    return (f'<div style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">'
            f"<h2>{html.escape(headline)}</h2>{summary}<table>{rows}</table>{link}"
            f'<p style="color:#888;font-size:12px">{footer}</p></div>')  # fmt: skip


def _file(spec: Spec) -> dict[str, Any]:
    summary = _one_line(spec)
    return {"event": "{{ event }}", "title": spec.headline, "summary": summary, "data": "{{ data }}"}


# --- the generic message (events without a spec) ----------------------------------------

_LINES = ("{% set fields = data | flatten | items | list %}{% for key, value in fields[:LIMIT] %}"
          "KEY{{ key | clip(40) }}KEY_END {{ (" + SHOW + ") | clip(CLIP) }}\n{% endfor %}"
          "{% if fields | length > LIMIT %}… e mais {{ fields | length - LIMIT }} campo(s)"
          "{% elif not fields %}(sem dados){% endif %}")  # fmt: skip


def _lines(limit: int, clip: int, key: str = "*", key_end: str = ":*") -> str:
    text = _LINES.replace("LIMIT", str(limit)).replace("CLIP", str(clip))
    return text.replace("KEY_END", key_end).replace("KEY", key)


def _generic_headline(title: str) -> str:
    return "📨 Evento {{ event | clip(100) }}" + (f": {title}" if title else "")


def _generic_slack(title: str) -> dict[str, Any]:
    intro = f"_{title}_\n" if title else ""
    body = f"{{% filter clip({TEXT_LIMIT}) %}}{intro}{_lines(GENERIC_LINES, 100)}{{% endfilter %}}"
    return {
        "text": f"{{% filter clip({TEXT_LIMIT}) %}}{_generic_headline(title)}{{% endfilter %}}",
        "blocks": [
            _header("{% filter clip(140) %}📨 Evento {{ event }}{% endfilter %}"),
            {"type": "section", "text": _mrkdwn(body)},
            {"type": "context", "elements": [_mrkdwn(_footer((), code=True))]},
        ],
    }


def _generic_email(title: str) -> dict[str, Any]:
    headline = _generic_headline(title)
    row = _row("{{ key | clip(60) }}", "{{ (" + SHOW + ") | clip(300) }}")
    rows = f"{{% for key, value in (data | flatten | items | list)[:50] %}}{row}{{% endfor %}}"
    text = f"{headline}\n\n{_lines(50, 300, key='', key_end=':')}\n\n{_footer((), code=False)}"
    subject = f"{{% filter clip(200) %}}{headline}{{% endfilter %}}"
    return {"subject": subject, "text": text, "html": _html(headline, None, rows)}


def _generic_file(title: str) -> dict[str, Any]:
    return {"event": "{{ event }}", "title": title or "Evento recebido",
            "summary": _generic_headline(title), "data": "{{ data }}"}  # fmt: skip


_BUILDERS = {"slack": _slack, "email": _email, "file": _file, **CHAT_BUILDERS}
_GENERIC_BUILDERS = {"slack": _generic_slack, "email": _generic_email, "file": _generic_file,
                     **CHAT_GENERIC_BUILDERS}  # fmt: skip

# Imported last: messages_whatsapp builds on the pieces above.
from service.render.builtin import whatsapp as messages_whatsapp  # noqa: E402 - needs the pieces above

_BUILDERS.update(messages_whatsapp.BUILDERS)
_GENERIC_BUILDERS.update(messages_whatsapp.GENERIC_BUILDERS)
