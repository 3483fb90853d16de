"""Pure retry arithmetic: when the next attempt is due."""

from __future__ import annotations

import random
from collections.abc import Sequence

from service.sinks.http import MAX_RETRY_AFTER

JITTER = 0.2


def next_delay(schedule: Sequence[float], tries: int, *, retry_after: float | None = None,
               rand: random.Random | None = None) -> float:
    """Seconds until the next attempt after ``tries`` failed ones (1-based), ±20% jitter.

    The schedule's last step repeats. A receiver's ``Retry-After`` wins when it asks for
    longer than the schedule would wait, up to ``MAX_RETRY_AFTER``.
    """
    base = schedule[min(tries, len(schedule)) - 1]
    jitter = (rand or random).uniform(1 - JITTER, 1 + JITTER)
    delay = base * jitter
    if retry_after is not None and retry_after > delay:
        return min(retry_after, max(MAX_RETRY_AFTER, delay))
    return delay
