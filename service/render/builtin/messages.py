"""Ponte's built-in messages for Eduzz events, per message format, in Brazilian Portuguese.

``builtin_template(event, kind)`` gives the compiled template a sink uses when its route
sets none, from the format's builders (``service.render.formats``): slack ->
``{"text", "blocks"}``; email -> ``{"subject", "text", "html"}``; file -> ``{"event",
"title", "summary", "data"}``; webhook -> None (the original body is forwarded
unchanged); telegram, discord, teams -> see ``chat``; whatsapp, google_sheets -> see
``whatsapp``. What each event shows is in ``specs``; events without a spec (legacy names,
``ping``, anything new) get a generic message listing the top-level ``data`` fields.
E-mail addresses, documents and phones are masked: messages go to shared channels.
"""

from __future__ import annotations

import functools

from service.config.schema import DEFAULT_TIMEZONE
from service.eduzz import catalogue
from service.render.builtin.parts import Builders, catalogue_titles
from service.render.builtin.sale_specs import SALE_SPECS
from service.render.builtin.specs import SPECS
from service.render.formats import FORMATS
from service.render.templates import CompiledTemplate, compile_template

ALL_SPECS = {**SPECS, **SALE_SPECS}  # Eduzz's own, then Hotmart's and Kiwify's over sale.*
GENERIC_TITLES = {"ping": "verificação da URL (teste)", "test.event_one": "evento de teste"}


def builtin_template(
    event: str, kind: str, *, timezone: str = DEFAULT_TIMEZONE
) -> CompiledTemplate | None:
    """The built-in message for ``event`` in format ``kind``; None where the body is forwarded."""
    fmt = FORMATS.get(kind)
    if fmt is None:
        raise ValueError(f"no built-in messages for the {kind!r} format")
    if fmt.builders is None:
        return None
    name = _known(event)
    if name is None:
        title = GENERIC_TITLES.get(event) or catalogue_titles().get(event, "")
        return _generic(title, kind, timezone)
    return _compiled(name, kind, timezone)


def _known(event: str) -> str | None:
    """The event's full name when it has a spec (Eduzz examples drop the app prefix)."""
    name = catalogue.normalize_event_name(event)
    return name if name in ALL_SPECS else None


def _builders(kind: str) -> Builders:
    builders = FORMATS[kind].builders
    assert builders is not None  # builtin_template checked it
    return builders


@functools.cache
def _compiled(name: str, kind: str, timezone: str) -> CompiledTemplate:
    tree = _builders(kind).spec(ALL_SPECS[name])
    return compile_template(tree, kind=kind, timezone=timezone, where=f"builtin[{name}].{kind}")


@functools.cache
def _generic(title: str, kind: str, timezone: str) -> CompiledTemplate:
    tree = _builders(kind).generic(title)
    return compile_template(tree, kind=kind, timezone=timezone, where=f"builtin[*].{kind}")
