"""Message formats: one record per format, everything a message of that format needs.

A format is what a sink receives: its own type's (``slack``, ``telegram``, …) or, for a
file sink, the one its ``format`` names. Each record holds the template keys a route may
write, the escaping of printed values, the built-in message builders (None: the event's
body is forwarded as it came) and the digest/report layout (None: no digests). Templates,
built-in messages, digests, ``ponte check`` and the docs all read this table; a sink kind
(``service.sinks.registry``) points at its format.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.render import batch_layouts, escaping
from service.render.batch_layouts import Layout
from service.render.builtin import chat, email, file, meta, slack, whatsapp
from service.render.builtin.parts import Builders
from service.render.escaping import Escaping


@dataclass(frozen=True, slots=True)
class Format:
    """Everything about one message format; see the module docstring."""

    name: str
    template_keys: frozenset[str] | None  # None: any key (a file line is free-form)
    escaping: Escaping
    builders: Builders | None  # None: the event's body is forwarded as it came
    layout: Layout | None  # None: no built-in digest or report message


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("slack", _keys("text", "blocks"), escaping.SLACK, slack.BUILDERS, batch_layouts.slack),
        Format("email", _keys("subject", "text", "html"), escaping.EMAIL, email.BUILDERS,
               batch_layouts.email),
        Format("webhook", _keys("body", "headers"), escaping.PLAIN, None, batch_layouts.webhook),
        Format("file", None, escaping.PLAIN, file.BUILDERS, batch_layouts.file),
        Format("whatsapp", _keys("text", "parameters"), escaping.WHATSAPP, whatsapp.WHATSAPP,
               batch_layouts.whatsapp),
        Format("google_sheets", _keys("columns"), escaping.PLAIN, whatsapp.SHEETS, None),
        Format("telegram", _keys("text"), escaping.TELEGRAM, chat.TELEGRAM, batch_layouts.telegram),
        Format("discord", _keys("content", "embeds"), escaping.DISCORD, chat.DISCORD,
               batch_layouts.discord),
        Format("teams", _keys("card"), escaping.TEAMS, chat.TEAMS, batch_layouts.teams),
        Format("meta_capi", _keys("event"), escaping.PLAIN, meta.BUILDERS, None),
    )
}  # fmt: skip
LAYOUTS: dict[str, Layout] = {f.name: f.layout for f in FORMATS.values() if f.layout is not None}
