"""The sink seam: what the worker hands a sink, what a sink promises back, and a sink kind.

A ``SinkKind`` is the one record of everything Ponte knows about a sink type: its config
Struct, how to build it, its message format (template keys, escaping, built-in messages,
digest layout: ``service.render.formats``) and whether it takes digests. Each sink module
defines its ``KIND``; ``service.sinks.registry`` lists them, one line each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import aiohttp

from service.config.schema import SinkBase
from service.render.formats import Format


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery attempt, ready to send.

    ``message`` is the rendered template for this sink kind (slack: ``text``/``blocks``;
    email: ``subject``/``text``/``html``; webhook: ``body``/``headers``; file: any
    mapping), or None when the sink should forward the original ``body`` unchanged.
    """

    delivery_id: int
    event_id: int
    event: str
    source: str
    body: bytes
    message: dict[str, Any] | None
    attempt: int


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the receiver answered: a status code (HTTP or SMTP) and a short excerpt."""

    status_code: int | None = None
    response: str = ""


class Sink(Protocol):
    """A destination. ``send`` delivers once or raises a SinkError subclass."""

    name: str
    kind: str

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver once. Raise TransientSinkError to retry later, PermanentSinkError to give up."""
        ...

    async def close(self) -> None:
        """Release what the sink holds (connections, files)."""
        ...


RESPONSE_EXCERPT = 500


def excerpt(text: str, limit: int = RESPONSE_EXCERPT) -> str:
    """The first ``limit`` characters of a receiver's answer, for the attempt history."""
    return text if len(text) <= limit else text[:limit] + "…"


C = TypeVar("C", bound=SinkBase)


@dataclass(frozen=True, slots=True)
class Context:
    """What building a sink may use: the shared HTTP session and the delivery timeout."""

    http: aiohttp.ClientSession
    timeout: float  # the sink's own ``timeout``, else ``delivery.timeout``


@dataclass(frozen=True, slots=True)
class SinkKind(Generic[C]):
    """Everything about one sink type; see the module docstring."""

    config: type[C]  # the Struct; its tag is the ``type:`` users write
    build: Callable[[str, C, Context], Sink]
    format: Format | None  # None: the config names it (a file sink's ``format``)
    digests: bool  # whether a route target may group its events into digests

    @property
    def name(self) -> str:
        """The ``type:`` users write (``slack``, ``email``, …)."""
        return str(self.config.__struct_config__.tag)
