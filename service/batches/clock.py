"""The scheduler's clock: a ``now()`` seam, so tests drive digests and reports through time.

``SystemClock`` is the wall clock. ``OffsetClock`` is the wall clock plus an offset in
seconds read from a file whenever it changes; ``ponte serve`` uses it when the
environment names the file in ``PONTE_CLOCK_OFFSET_FILE`` (a test seam: an end-to-end
test writes ``86400`` there and the running service lives a day later).
Only the scheduler (digests, reports) reads this clock; ingest and the worker keep the
wall clock, so a digest closed "later" is still due for sending at once.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Protocol

ENV = "PONTE_CLOCK_OFFSET_FILE"


class Clock(Protocol):
    """Anything with a ``now()`` giving unix seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        """Unix seconds now."""
        return time.time()


class OffsetClock:
    """The wall clock shifted by the number of seconds written in ``path`` (0 if absent)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._offset = 0.0

    def now(self) -> float:
        """Wall time plus the file's current offset (the last good one if unreadable)."""
        with contextlib.suppress(OSError, ValueError):
            self._offset = float(self.path.read_text(encoding="utf-8").strip() or 0)
        return time.time() + self._offset


def clock_from_env() -> Clock:
    """``OffsetClock`` when ``PONTE_CLOCK_OFFSET_FILE`` is set, else the wall clock."""
    path = os.environ.get(ENV)
    return OffsetClock(path) if path else SystemClock()
