"""The built-in file line: ``{"event", "title", "summary", "data"}`` (no escaping)."""

from __future__ import annotations

from typing import Any

from service.render.builtin import parts
from service.render.builtin.parts import Builders
from service.render.builtin.specs import Spec


def file(spec: Spec) -> dict[str, Any]:
    """A known event: its name, headline, one-line summary and data."""
    return {"event": "{{ event }}", "title": spec.headline, "summary": parts.one_line(spec),
            "data": "{{ data | without_secrets }}"}  # fmt: skip


def generic_file(title: str) -> dict[str, Any]:
    """An event without a spec: its name, title and data."""
    return {"event": "{{ event }}", "title": title or "Evento recebido",
            "summary": parts.generic_headline(title), "data": "{{ data | without_secrets }}"}  # fmt: skip


BUILDERS = Builders(file, generic_file)
