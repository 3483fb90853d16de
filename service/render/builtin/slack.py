"""The built-in Slack message: ``{"text", "blocks"}``.

A header, the spec's fields (ten per section), the link and a context footer; ``text`` is
the one-line fallback notifications show. Escaping is the slack format's (``& < >``).
"""

from __future__ import annotations

from typing import Any

from service.render.builtin import parts
from service.render.builtin.parts import GENERIC_LINES, TEXT_LIMIT, Builders
from service.render.builtin.specs import Spec


def header(text: str) -> dict[str, Any]:
    """A Block Kit header block."""
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def mrkdwn(text: str) -> dict[str, Any]:
    """A Block Kit mrkdwn text object."""
    return {"type": "mrkdwn", "text": text}


def slack(spec: Spec) -> dict[str, Any]:
    """A known event: header, fields, link and footer."""
    fields = [mrkdwn(f"*{label}*\n{parts.value(e)}") for label, e in spec.fields]
    blocks = [header(f"{spec.emoji} {spec.headline}")]
    blocks += [{"type": "section", "fields": fields[i : i + 10]} for i in range(0, len(fields), 10)]
    if spec.link:
        blocks.append({"type": "section", "text": mrkdwn(parts.link(spec.link, slack=True))})
    blocks.append({"type": "context", "elements": [mrkdwn(parts.footer(spec.ids, code=True))]})
    return {"text": parts.one_line(spec), "blocks": blocks}


def generic_slack(title: str) -> dict[str, Any]:
    """An event without a spec: its name, title and first data fields."""
    intro = f"_{title}_\n" if title else ""
    body = f"{{% filter clip({TEXT_LIMIT}) %}}{intro}{parts.lines(GENERIC_LINES, 100)}{{% endfilter %}}"
    headline = parts.generic_headline(title)
    return {
        "text": f"{{% filter clip({TEXT_LIMIT}) %}}{headline}{{% endfilter %}}",
        "blocks": [
            header("{% filter clip(140) %}📨 Evento {{ event }}{% endfilter %}"),
            {"type": "section", "text": mrkdwn(body)},
            {"type": "context", "elements": [mrkdwn(parts.footer((), code=True))]},
        ],
    }


BUILDERS = Builders(slack, generic_slack)
