"""Times: what operators type (ISO-8601 ``2026-11-25T10:00:00Z`` or an age ``24h``) and
the one way Ponte writes a time (``iso``: ISO-8601 UTC with milliseconds, ``…Z``)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from service.config import parse_duration

_AGE = re.compile(r"[0-9]+(\.[0-9]+)?(ms|s|m|h|d)")


def parse_when(text: str, *, now: float | None = None) -> float:
    """A unix time from ISO-8601 or from an age like ``90m``/``24h``/``7d`` (meaning "ago")."""
    text = text.strip()
    try:
        return (time.time() if now is None else now) - parse_duration(text)
    except ValueError:
        if _AGE.fullmatch(text):  # an age longer than durations may be: since the epoch
            return 0.0
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
