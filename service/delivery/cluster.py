"""Several replicas on one database: the deliveries' side of what they share (the store's
verbs and ``leading`` are in ``service.cluster``). Without a store that coordinates
(SQLite), every helper here falls back to the one-process behaviour:

- ``shared_rate``: a sink's ``rate_per_second`` holds for the whole cluster.
- ``busy_hit``: a digest's ``when_busy`` rate is counted for the whole cluster
  (``service.ingest.planning.plan_shared``).
- ``Cluster``: wake-ups (``work``), sink flags (``sinks``) and config reloads (``reload``)
  announced by one replica reach the others; polling covers a missed announcement.

The sink-flag poll runs on every backend: ``ponte sinks disable`` without ``--url`` writes
the database only (no announcement), and the running process applies it within ``POLL``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from service.cluster import Coordinated, stop_if_cancelled
from service.delivery.lanes import RateLimit
from service.errors import StorageUnavailable

log = structlog.get_logger("ponte.cluster")
POLL = 2.0  # seconds between sink-flag checks (one small query): flags apply within 5 s


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
            stop_if_cancelled()
            log.exception("cluster_action_failed", kind=kind)

    async def _poll(self) -> None:
        refresh = self._actions["sinks"]
        while True:
            stop_if_cancelled()
            await asyncio.sleep(POLL)
            await self._run("sinks", refresh)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

