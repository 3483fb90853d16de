"""Times: what operators type (ISO-8601 ``2026-11-25T10:00:00Z`` or an age ``24h``) and
the one way Ponte writes a time (``iso``: ISO-8601 UTC with milliseconds, ``…Z``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from service.config.schema import duration_seconds


def parse_when(text: str, *, now: float | None = None) -> float:
    """A unix time from ISO-8601 or from an age like ``90m``/``24h``/``7d`` (meaning "ago")."""
    text = text.strip()
    age = duration_seconds(text)
    if age is not None:  # an age reaching before 1970 (a century, say) means since the epoch
        return max(0.0, (time.time() if now is None else now) - age)
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid time {text!r}: use ISO-8601 (2026-11-25T10:00:00Z) or an age (24h)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(ts: float | None) -> str | None:
    """A unix time as an ISO-8601 UTC string with milliseconds (``2026-11-25T10:00:00.000Z``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
