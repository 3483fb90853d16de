"""Group commit for PostgreSQL: the writes that arrive during a commit share the next one.

A commit waits for the WAL flush (an fsync, milliseconds on most disks); one transaction
per request would cap ingest at a few hundred per second per connection. So saves queue
here while a batch commits, and the next batch sends them all at once (pipeline mode: one
round trip) in one transaction. A save still returns only after its commit.

Used for ingest's saves and the worker's attempt records. Rows are sorted inside a batch
(by event key, by delivery id), so two replicas' batches lock them in the same order and
never deadlock on each other. If a batch fails for anything but a connection
fault, each of its writes is tried alone, so only the one at fault fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from service.errors import StorageUnavailable

Args = dict[str, Any]
Row = tuple[Any, ...] | None
Prelude = Callable[[list[Args]], tuple[str, tuple[Any, ...]] | None]


class Batcher:
    """Runs ``sql`` once per queued argument set, many per transaction."""

    def __init__(self, sql: str, conn: Callable[[], contextlib.AbstractAsyncContextManager[Any]],
                 order: Callable[[Args], Any], prelude: Prelude | None = None) -> None:
        self._sql = sql
        self._prelude = prelude  # a statement run first in each batch's transaction (locks)
        self._order = order  # the lock order inside a batch
        self._conn = conn
        self._queue: list[tuple[Args, asyncio.Future[Row]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start committing batches."""
        self._task = asyncio.create_task(self._loop(), name="ponte-pg-batch")

    async def stop(self) -> None:
        """Stop; saves still queued fail with StorageUnavailable."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for _, future in self._queue:
            if not future.done():
                future.set_exception(StorageUnavailable("database is closed"))
        self._queue.clear()

    async def run(self, args: Args) -> Row:
        """Queue one save; return its row once its transaction has committed."""
        if self._task is None:
            raise StorageUnavailable("database is closed")
        future: asyncio.Future[Row] = asyncio.get_running_loop().create_future()
        self._queue.append((args, future))
        self._wake.set()
        return await future

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            try:
                await self._commit_batch(batch)
            except asyncio.CancelledError:  # stopped mid-commit: its callers learn it
                _settle(batch, [StorageUnavailable("database is closed")] * len(batch))
                raise

    async def _commit_batch(self, batch: list[tuple[Args, asyncio.Future[Row]]]) -> None:
        batch.sort(key=lambda item: self._order(item[0]))
        try:
            rows: list[Any] = await self._commit([args for args, _ in batch])
        except StorageUnavailable as exc:
            _settle(batch, [exc] * len(batch))
            return
        except Exception as exc:  # noqa: BLE001 - a database error or a bad row: find the one at fault
            if len(batch) == 1:
                _settle(batch, [exc])
                return
            rows = [await self._alone(args) for args, _ in batch]
        _settle(batch, rows)

    async def _alone(self, args: Args) -> Row | Exception:
        try:
            return (await self._commit([args]))[0]
        except Exception as exc:  # noqa: BLE001 - handed to that caller, who raises it
            return exc

    async def _commit(self, many: list[Args]) -> list[Row]:
        async with self._transaction() as conn:
            first = self._prelude(many) if self._prelude is not None else None
            async with conn.pipeline():
                if first is not None:
                    await conn.execute(*first)
                cursors = [await conn.execute(self._sql, args) for args in many]
            return [await cur.fetchone() for cur in cursors]

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        async with self._conn() as conn, conn.transaction():
            yield conn


def _settle(batch: list[tuple[Args, asyncio.Future[Row]]], results: list[Any]) -> None:
    for (_, future), result in zip(batch, results, strict=True):
        if future.done():
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
