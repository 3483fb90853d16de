"""Quiet hours: a daily window of local time in which nothing is sent. Pure arithmetic.

A window ``from``–``to`` holds the local times ``from <= t < to``; when ``from`` is later
than ``to`` it runs across midnight (``21:00``–``08:00``: evenings and early mornings).
``shift(t)`` is ``t`` outside the window, else the first instant after ``t`` whose local
time is outside it: usually ``to`` on the right day, in the window's timezone.

DST: a ``to`` that happens twice (clocks go back) ends the window at its first
occurrence; a ``to`` that does not exist (clocks jump past it) ends it at the jump.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A compiled window: ``start`` … ``end`` local time in ``tz``."""

    start: time
    end: time
    tz: ZoneInfo

    def holds(self, t: float) -> bool:
        """Whether unix time ``t`` falls inside the window."""
        local = datetime.fromtimestamp(t, self.tz).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def describe(self) -> str:
        """``21:00–08:00 America/Sao_Paulo``."""
        return f"{self.start:%H:%M}–{self.end:%H:%M} {self.tz.key}"

    def shift(self, t: float) -> float:
        """``t`` if outside the window, else the moment the window around ``t`` ends."""
        if not self.holds(t):
            return t
        here = datetime.fromtimestamp(t, self.tz)
        day = here.date()
        if self.start > self.end and here.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)  # across midnight, evening part: it ends tomorrow
        return self._end_on(day, t)

    def _end_on(self, day: date, t: float) -> float:
        """The first instant at or after ``to`` on ``day`` (and after ``t``) outside the window."""
        naive = datetime.combine(day, self.end)
        first, second = sorted(naive.replace(tzinfo=self.tz, fold=f).timestamp() for f in (0, 1))
        low, high = max(t, first), max(t, second)
        if not self.holds(low):
            return low
        while high - low > 1.0:  # ``to`` fell in a DST gap: find the jump (to the second)
            mid = (low + high) / 2
            if self.holds(mid):
                low = mid
            else:
                high = mid
        return high


def parse_clock(text: str) -> time | None:
    """``"21:00"`` as a time, or None if it is not ``HH:MM`` (00:00 … 23:59)."""
    match = _HHMM.match(text)
    return time(int(match[1]), int(match[2])) if match else None


def compile_quiet_hours(start: str, end: str, timezone: str) -> QuietHours | str:
    """A QuietHours, or why the three values do not make one (a config error's message)."""
    a, b = parse_clock(start), parse_clock(end)
    if a is None or b is None:
        bad = start if a is None else end
        return f"{bad!r} is not a time of day as HH:MM (e.g. 21:00)"
    if a == b:
        return f"from and to are both {start}: the window would be empty or the whole day"
    try:
        return QuietHours(a, b, ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown timezone {timezone!r} (use an IANA name, e.g. America/Sao_Paulo)"
