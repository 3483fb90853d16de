"""Template pieces every built-in message shares, whatever the channel (Slack, e-mail, chat).

Each returns Jinja source for ``templates.compile_template``: a field's value clipped after
the channel's escaping, the non-empty summary items joined with " · ", the one-line
headline, the footer (event, ids, time), the payment link and the generic field list.
``Builders`` is what a message format brings: a builder for events with a spec and one for
events without.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.eduzz import catalogue
from service.render.builtin.specs import Field, Spec

VALUE_LIMIT = 300  # characters of one field value (Slack allows 2000)
ITEM_LIMIT = 100  # characters of one summary item
TEXT_LIMIT = 2900  # characters of a Slack text (Slack allows 3000)
GENERIC_LINES = 15  # data fields listed by the generic messages
WHEN = "(sentDate or data.sentDate or received_at) | datetime"
SHOW = ("(value | tojson) if value is mapping or (value is iterable and value is not string) "
        "else value")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Builders:
    """A format's built-in message trees: ``spec`` for a known event, ``generic`` by title."""

    spec: Callable[[Spec], dict[str, Any]]
    generic: Callable[[str], dict[str, Any]]


def value(source: str, limit: int = VALUE_LIMIT) -> str:
    """A field value (an expression or a template): clipped after escaping, "—" when empty."""
    body = source if "{{" in source or "{%" in source else f"{{{{ {source} }}}}"
    return f"{{% filter clip({limit}) | default('—', true) %}}{body}{{% endfilter %}}"


def summary(spec: Spec, first: str = "") -> str:
    """The summary items that are not empty, joined with " · ", the first after ``first``."""
    items = ", ".join(f"(({item}) | clip({ITEM_LIMIT}))" for item in spec.summary)
    return (f"{{% for s in [{items}] | select %}}{{{{ '{first}' if loop.first else ' · ' }}}}"
            "{{ s }}{% endfor %}")  # fmt: skip


def one_line(spec: Spec, limit: int = TEXT_LIMIT) -> str:
    """Emoji, headline and summary on one line, clipped."""
    text = f"{spec.emoji} {spec.headline}{summary(spec, first=': ')}"
    return f"{{% filter clip({limit}) %}}{text}{{% endfilter %}}"


def footer(ids: tuple[Field, ...], code: bool) -> str:
    """The event name (as code for Slack), the spec's ids, the envelope id and the time."""
    parts = ["`{{ event }}`" if code else "{{ event }}"]
    for label, e in ids:
        parts.append(f"{{% if {e} %}} · {label} {{{{ ({e}) | clip(60) }}}}{{% endif %}}")
    parts.append("{% if id %} · ID {{ id | clip(60) }}{% endif %}")
    parts.append(f"{{% set when = {WHEN} %}}")
    parts.append("{% if when %} · {{ when | clip(40) }}{% endif %}")
    return "".join(parts)


def link(field: Field | None, slack: bool) -> str:
    """The event's link (http/https only) with its label, or "label: —"."""
    if field is None:
        return ""
    label, source = field
    shown = f"🔗 {{{{ url | slack_link('{label}') }}}}" if slack else f"{label}: {{{{ url }}}}"
    found = f"{{% set url = ({source}) | safe_url %}}{{% if url %}}{shown}"
    return f"{found}{{% else %}}{label}: —{{% endif %}}"


_LINES = ("{% set fields = data | masked | flatten | items | list %}{% for key, value in fields[:LIMIT] %}"
          "KEY{{ key | clip(40) }}KEY_END {{ (" + SHOW + ") | clip(CLIP) }}\n{% endfor %}"
          "{% if fields | length > LIMIT %}… e mais {{ fields | length - LIMIT }} campo(s)"
          "{% elif not fields %}(sem dados){% endif %}")  # fmt: skip


def lines(limit: int, clip: int, key: str = "*", key_end: str = ":*") -> str:
    """The first ``limit`` top-level data fields, one ``key: value`` line each."""
    text = _LINES.replace("LIMIT", str(limit)).replace("CLIP", str(clip))
    return text.replace("KEY_END", key_end).replace("KEY", key)


def generic_headline(title: str) -> str:
    """The headline of an event without a spec: its name and Portuguese title."""
    return "📨 Evento {{ event | clip(100) }}" + (f": {title}" if title else "")


@functools.cache
def catalogue_titles() -> dict[str, str]:
    """events.tsv: event name -> Portuguese title, editorial notes in [brackets] removed."""
    return {row["event"]: _clean(row["title (pt)"]) for row in catalogue.tsv_rows()}


def _clean(title: str) -> str:
    return re.sub(r"\s*\[.*\]|[{}]", "", title).strip()[:200]
