"""The sink seam: what the worker hands a sink, and what a sink promises back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


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
