"""WhatsApp text formatting: make payload text inert inside a message that uses markup.

WhatsApp has no escape character: ``*bold*``, ``_italic_``, ``~strike~`` and
```` ``` ```` / `` ` `` (monospace) apply wherever the markers pair up. So each marker
in payload text becomes a look-alike that WhatsApp does not read as markup
(``*``, ``_``, ``~`` and `` ` `` → U+2217, U+FF3F, U+223C, U+02CB) unless it sits between
two letters or digits (``invoice_paid``: markers only pair at word edges), and line breaks and
other control characters become spaces, so a value cannot start a quote (``> ``) or a
list line of its own. A value that is exactly one http(s) URL is left as is, so links
still work (WhatsApp links URLs before it formats).
"""

from __future__ import annotations

import re
from typing import Any

from service.render.filters import safe_url

TEXT_LIMIT = 4096  # characters of a text message body (Cloud API)
_LOOKALIKE = {"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"}
_MARKER = re.compile(r"[*_~`]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def whatsapp_escape(text: str) -> str:
    """``text`` made inert for WhatsApp markup (see the module docstring)."""
    if safe_url(text) == text and text:
        return text
    return _MARKER.sub(_inert, _CONTROL.sub(" ", text))


def _inert(match: re.Match[str]) -> str:
    """A marker between two letters or digits (``invoice_paid``) cannot format: keep it."""
    text, at = match.string, match.start()
    inside = 0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum()
    return match[0] if inside else _LOOKALIKE[match[0]]


def whatsapp_finalize(value: Any) -> Any:
    """The Jinja ``finalize`` of whatsapp templates: every ``{{ }}`` output escaped."""
    return whatsapp_escape("" if value is None else str(value))


def clip_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """At most ``limit`` characters, with a visible "…" when cut (never refused by the API)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
