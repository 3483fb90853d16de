"""Several replicas on one database: what they share goes through the store, and nothing else.

A store that can coordinate (PostgreSQL) offers the verbs of ``Coordinated``; SQLite offers
none, and every helper then falls back to the one-process behaviour. Here:
``leading(store, name)``: one replica at a time runs a job (retention, digests and reports);
an advisory lock, released when the job ends or its replica dies. What deliveries share
(rates, wake-ups, sink flags, reloads) is in ``service.delivery.cluster``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class Coordinated(Protocol):
    """The verbs a store shared by replicas adds to ``Store``."""

    async def reserve_rate(self, sink: str, per_second: float) -> float: ...
    async def busy_hit(self, target: str, limit: int, window: float) -> bool: ...
    async def notify(self, kind: str) -> None: ...
    def listen(self, on_message: Callable[[str], None]) -> None: ...
    def lead(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]: ...


@contextlib.asynccontextmanager
async def leading(store: object, name: str) -> AsyncIterator[bool]:
    """``async with leading(store, "retention") as mine``: True in one replica at a time.

    A store that is not shared (SQLite: one process per file) always leads.
    """
    if not isinstance(store, Coordinated):
        yield True
        return
    async with store.lead(name) as mine:
        yield mine


def stop_if_cancelled() -> None:
    """Raise CancelledError when the running task was asked to stop.

    psycopg answers a cancel that arrives during a query or a connect with its own error
    (``QueryCanceled``, ``OperationalError``) and clears the pending cancel. A background
    loop that catches errors to try again later would then never stop, and the shutdown
    that awaits it would hang: such loops call this in their ``except`` and before sleeping.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError

