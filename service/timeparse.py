"""Times operators type: ISO-8601 (``2026-11-25``, ``2026-11-25T10:00:00Z``) or an age (``24h``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from service.config import parse_duration


def parse_when(text: str, *, now: float | None = None) -> float:
    """A unix time from ISO-8601 or from an age like ``90m``/``24h``/``7d`` (meaning "ago")."""
    text = text.strip()
    try:
        return (time.time() if now is None else now) - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid time {text!r}: use ISO-8601 (2026-11-25T10:00:00Z) or an age (24h)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
