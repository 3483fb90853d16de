"""The built-in e-mail: ``{"subject", "text", "html"}``.

The subject is the one-line headline; the text and the HTML table carry the same fields,
the link and the footer. Escaping is the email format's (HTML under ``html``).
"""

from __future__ import annotations

import html
from typing import Any

from service.render.builtin import parts
from service.render.builtin.parts import SHOW, Builders
from service.render.builtin.specs import Spec


def email(spec: Spec) -> dict[str, Any]:
    """A known event: subject, plain text and an HTML table."""
    headline = f"{spec.emoji} {spec.headline}"
    lines = "\n".join(f"{label}: {parts.value(e)}" for label, e in spec.fields)
    link = f"\n\n{parts.link(spec.link, slack=False)}" if spec.link else ""
    footer = parts.footer(spec.ids, code=False)
    text = f"{headline}\n{parts.summary(spec, first='')}\n\n{lines}{link}\n\n{footer}"
    rows = "".join(_row(html.escape(label), parts.value(e)) for label, e in spec.fields)
    return {"subject": parts.one_line(spec, 200), "text": text, "html": _html(headline, spec, rows)}


def generic_email(title: str) -> dict[str, Any]:
    """An event without a spec: its name, title and first 50 data fields."""
    headline = parts.generic_headline(title)
    row = _row("{{ key | clip(60) }}", "{{ (" + SHOW + ") | clip(300) }}")
    rows = f"{{% for key, value in (data | masked | flatten | items | list)[:50] %}}{row}{{% endfor %}}"
    lines = parts.lines(50, 300, key="", key_end=":")
    text = f"{headline}\n\n{lines}\n\n{parts.footer((), code=False)}"
    subject = f"{{% filter clip(200) %}}{headline}{{% endfilter %}}"
    return {"subject": subject, "text": text, "html": _html(headline, None, rows)}


def _row(label: str, value: str) -> str:
    return (f'<tr><th align="left" valign="top" style="padding:4px 16px 4px 0;color:#555">'
            f'{label}</th><td style="padding:4px 0">{value}</td></tr>')  # fmt: skip


def _html(headline: str, spec: Spec | None, rows: str) -> str:
    summary = f"<p>{parts.summary(spec, first='')}</p>" if spec else ""
    link = ""
    if spec and spec.link:
        label, source = spec.link
        anchor = f'<p><a href="{{{{ url }}}}">{html.escape(label)}</a></p>'
        link = f"{{% set url = ({source}) | safe_url %}}{{% if url %}}{anchor}{{% endif %}}"
    footer = parts.footer(spec.ids if spec else (), code=False)
    return (f'<div style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">'
            f"<h2>{html.escape(headline)}</h2>{summary}<table>{rows}</table>{link}"
            f'<p style="color:#888;font-size:12px">{footer}</p></div>')  # fmt: skip


BUILDERS = Builders(email, generic_email)
