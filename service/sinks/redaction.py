"""Secrets masked on every surface a delivery reaches: attempts, errors, logs, previews.

Each sink masks what it knows in its own answers; this is the net under all of them.
A sink's secrets are read from its config by key (``token``, ``webhook_url``, ``url``,
``headers``, ``password``, ``signing_secret``, ``credentials``, ``username``), and a
rendered message adds the values of its ``headers`` (a route template's
``Authorization: "Bearer ${X}"``). The worker passes every answer and every error
through ``send_redacted``; ``ponte routes test`` and the console's tester show
previews through ``redact_doc``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import msgspec

from service.config.schema import SinkBase
from service.errors import SinkError
from service.render.personal import REDACTED
from service.sinks.base import Outgoing, SendResult, Sink
from service.sinks.http import header_secrets, redact, url_secrets

SECRET_KEYS = frozenset({"token", "webhook_url", "url", "password", "signing_secret",
                         "credentials", "username"})  # fmt: skip
PLAIN_HEADERS = frozenset({"content-type", "accept", "accept-language", "content-language",
                           "user-agent"})  # fmt: skip  # never credentials; masking them hides words
SHORTEST = 4  # a shorter value (a weak token "123") would mask innocent digits everywhere
_PARTS = re.compile(r"[\s/?&=;:,]+")


def sink_secrets(cfg: SinkBase) -> list[str]:
    """Every value in a sink's config that is or carries a credential, and its long parts."""
    fields = msgspec.structs.asdict(cfg)
    found: list[str] = []
    for key, value in fields.items():
        if key == "headers" and isinstance(value, dict):
            found += header_secrets({str(k): str(v) for k, v in value.items()})
        elif key in SECRET_KEYS and isinstance(value, str) and value:
            found += [value, *url_secrets(value), *(p for p in _PARTS.split(value) if len(p) >= 16)]
    return _long_enough(found)


def message_secrets(message: Mapping[str, Any] | None) -> list[str]:
    """The header values a template rendered (whatever came in through ``${VAR}``)."""
    headers = (message or {}).get("headers")
    if not isinstance(headers, Mapping):
        return []
    named = {str(k): str(v) for k, v in headers.items() if str(k).lower() not in PLAIN_HEADERS}
    return _long_enough(header_secrets(named))


def _long_enough(values: Iterable[str]) -> list[str]:
    return sorted({v for v in values if len(v.strip()) >= SHORTEST}, key=len, reverse=True)


async def send_redacted(sink: Sink, out: Outgoing, secrets: list[str]) -> SendResult:
    """``sink.send`` once; its answer, and the text of any SinkError, with ``secrets`` masked."""
    try:
        result = await sink.send(out)
    except SinkError as exc:
        exc.args = (redact(str(exc), secrets),)
        raise
    return replace(result, response=redact(result.response, secrets))


def redact_doc(doc: Any, secrets: list[str]) -> Any:
    """A copy of a decoded document with every secret masked in its strings; a rendered
    ``headers`` mapping shows its names only."""
    if isinstance(doc, Mapping):
        return {k: _redact_item(k, v, secrets) for k, v in doc.items()}
    if isinstance(doc, list):
        return [redact_doc(v, secrets) for v in doc]
    return redact(doc, secrets) if isinstance(doc, str) else doc


def _redact_item(key: Any, value: Any, secrets: list[str]) -> Any:
    if str(key).lower() == "headers" and isinstance(value, Mapping):
        return {k: REDACTED for k in value}
    return redact_doc(value, secrets)
