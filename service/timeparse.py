"""Times: what operators type (ISO-8601 ``2026-11-25T10:00:00Z`` or an age ``24h``), the
durations a config writes (``500ms``, ``5s``, ``1m``, ``2h``, ``1d``), and the one way Ponte
writes a time (``iso``: ISO-8601 UTC with milliseconds, ``…Z``)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime


class Duration(float):
    """Seconds, written in the config as ``500ms``, ``5s``, ``1m``, ``2h`` or ``1d``."""


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FOREVER = 100 * 365 * 86400  # a century: longer is a typo, and an endless wait is never due
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(value: object) -> Duration:
    """Turn ``"5s"``/``"1m"``/a number of seconds into a Duration, or raise ValueError."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < _FOREVER:
        return Duration(value)
    seconds = duration_seconds(value) if isinstance(value, str) else None
    if seconds is None or seconds >= _FOREVER:
        raise ValueError(f"invalid duration {value!r} (use e.g. 500ms, 5s, 1m, 2h, 1d)")
    return Duration(seconds)


def duration_seconds(text: str) -> float | None:
    """The seconds in ``"500ms"``/``"5s"``/``"2h"``/``"7d"``, however many; None if not one."""
    match = _DURATION.match(text)
    return float(match[1]) * _UNITS[match[2]] if match else None


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
