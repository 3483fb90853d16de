"""Retention: prune events older than ``storage.retention_days`` in small batches.

Each batch is one short write transaction (it goes through the same group-commit writer
as ingest), with a pause between batches, so ingest latency is not held up by a long
write lock. Events with a delivery still waiting (pending, sending, or disabled until its
sink is enabled again) are never pruned.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from service.cluster import leading, stop_if_cancelled
from service.store.followups import CANCEL_WINDOW
from service.store.protocol import Store

log = structlog.get_logger("ponte.retention")
BATCH = 500
PAUSE = 0.05
EVERY = 3600.0


async def prune(store: Store, retention_days: int, *, batch: int = BATCH, pause: float = PAUSE,
                now: float | None = None) -> int:
    """Delete every prunable event older than the retention; return how many."""
    before = (time.time() if now is None else now) - retention_days * 86400
    total = await prune_before(store, before, batch=batch, pause=pause)
    if total:
        log.info("events_pruned", count=total, retention_days=retention_days)
    return total


async def prune_before(store: Store, before: float, *, batch: int = BATCH,
                       pause: float = PAUSE) -> int:
    """Delete every prunable event received before ``before``, in batches; return how many."""
    total = 0
    while True:
        deleted = await store.purge(before, batch)
        total += deleted
        if deleted < batch:
            break
        await asyncio.sleep(pause)
    return total


async def run_forever(store: Store, days: Callable[[], int]) -> None:
    """Prune at start and then every hour; ``days()`` reads the current retention.

    With replicas, one of them prunes each round (the ``retention`` leader).
    """
    while True:
        try:
            async with leading(store, "retention") as mine:
                if mine:
                    await prune(store, days())
                    await store.forget_cancellations(time.time() - CANCEL_WINDOW)
        except Exception:  # noqa: BLE001 - try again next round
            stop_if_cancelled()
            log.exception("pruning_failed")
        stop_if_cancelled()
        await asyncio.sleep(EVERY)
