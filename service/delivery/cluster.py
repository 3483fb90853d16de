"""Several replicas on one database: what they share, through the store, and nothing else.

A store that can coordinate (PostgreSQL) offers four verbs; SQLite offers none, and every
helper here then falls back to the one-process behaviour:

- ``leading(store, name)``: one replica at a time runs a job (retention, later digests
  and reports); an advisory lock, released when the job ends or its replica dies.
- ``shared_rate``: a sink's ``rate_per_second`` holds for the whole cluster.
- ``busy_hit``: a digest's ``when_busy`` rate is counted for the whole cluster
  (``service.routing.planning.plan_shared``).
- ``Cluster``: wake-ups (``work``), sink flags (``sinks``) and config reloads (``reload``)
  announced by one replica reach the others; polling covers a missed announcement.

The sink-flag poll runs on every backend: ``ponte sinks disable`` without ``--url`` writes
the database only (no announcement), and the running process applies it within ``POLL``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import structlog

from service.delivery.lanes import RateLimit
from service.errors import StorageUnavailable

log = structlog.get_logger("ponte.cluster")
POLL = 2.0  # seconds between sink-flag checks (one small query): flags apply within 5 s


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


@dataclass
class SharedRate(RateLimit):
    """``per_second`` starts a second across every replica: the schedule is a database row."""

    store: Any = None
    sink: str = ""

    async def wait(self) -> None:
        """Reserve the next start in the database and sleep until it; locally if it is down."""
        if self.per_second is None:
            return
        try:
            delay = await self.store.reserve_rate(self.sink, self.per_second)
        except StorageUnavailable:
            await super().wait()
            return
        if delay > 0:
            await asyncio.sleep(delay)


def shared_rate(store: object, sink: str, local: RateLimit) -> RateLimit:
    """The cluster-wide limit for a shared store, else ``local`` unchanged."""
    if local.per_second is None or not isinstance(store, Coordinated):
        return local
    return SharedRate(local.per_second, store=store, sink=sink)


class Cluster:
    """Listens for the other replicas' announcements and acts on them in this one."""

    def __init__(self, store: object, *, wake: asyncio.Event,
                 refresh_sinks: Callable[[], Awaitable[None]],
                 reload: Callable[[], Awaitable[Any]]) -> None:
        self.store = store
        self.wake = wake
        self._actions: dict[str, Callable[[], Awaitable[Any]]] = {
            "sinks": refresh_sinks, "reload": reload}
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        """Listen for notifications (a shared store) and poll the sink flags every POLL s."""
        if isinstance(self.store, Coordinated):
            self.store.listen(self.on_message)
        self._spawn(self._poll())

    async def stop(self) -> None:
        """Stop polling and any action under way."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def on_message(self, kind: str) -> None:
        """A notification: ``work`` wakes the worker, the others run their action."""
        self.wake.set()
        action = self._actions.get(kind)
        if action is not None:
            self._spawn(self._run(kind, action))

    async def _run(self, kind: str, action: Callable[[], Awaitable[Any]]) -> None:
        try:
            await action()
        except Exception:  # the next notification or poll tries again
            log.exception("cluster_action_failed", kind=kind)

    async def _poll(self) -> None:
        refresh = self._actions["sinks"]
        while True:
            await asyncio.sleep(POLL)
            await self._run("sinks", refresh)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

