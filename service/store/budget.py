"""The console's read budget, the same on both backends.

Console scans (an e-mail search over 10,000 bodies, failure groups, window counts) must
never hold up what keeps the service alive: probes, metrics, ingest and the worker. So
console reads run apart from those (their own SQLite connection; a bounded share of the
PostgreSQL pool), ``SLOTS`` at a time, each stopped after ``SECONDS``; one that cannot
start within ``QUEUE_SECONDS`` or runs past its budget raises ``ConsoleBusy`` (503), and
the page asks to narrow the search.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from service.errors import ConsoleBusy

SLOTS = 2  # console reads at once per process (PostgreSQL; SQLite's connection takes one)
SECONDS = 3.0  # one console query's budget
QUEUE_SECONDS = 5.0  # how long a console read may wait for a slot


@contextlib.asynccontextmanager
async def slot(slots: asyncio.Semaphore) -> AsyncIterator[None]:
    """Hold one console slot, or raise ConsoleBusy after QUEUE_SECONDS of waiting."""
    try:
        async with asyncio.timeout(QUEUE_SECONDS):
            await slots.acquire()
    except TimeoutError:
        raise busy() from None
    try:
        yield
    finally:
        slots.release()


def busy() -> ConsoleBusy:
    """The one error of a console read out of budget (the page shows it)."""
    return ConsoleBusy(f"the search took longer than its {SECONDS:g}s budget or waited too long; "
                       "narrow it (period, event name) and try again")
