"""The scheduler (inside ``ponte serve``, beside the worker): closes due digests, sends reports.

Every step reads its state from the database and writes it back in one transaction, so a
crash between steps loses nothing and repeats nothing. With replicas on PostgreSQL, one of
them runs each pass (the ``scheduler`` leader, ``service.cluster.leading``); the store's
transactions would keep two passes at once correct too, just with wasted work. Time comes from a ``Clock``
(``service.clock``): tests set ``app[CLOCK]`` or ``PONTE_CLOCK_OFFSET_FILE`` to move it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from aiohttp import web

from service.batches import report_run
from service.batches.clock import Clock, clock_from_env
from service.batches.digest_build import DigestBuilder
from service.batches.digests import Rule, parse_key
from service.cluster import leading
from service.keys import HOLDER, STORE, WAKE
from service.render.batch_cards import DIGEST_EVENT
from service.store.protocol import Store
from service.store.records import DigestClose, DigestGroup, NewEvent

if TYPE_CHECKING:
    from service.config.settings import Holder, Settings

CLOCK = web.AppKey("clock", Clock)
TICK = 1.0
PAGE = 1000
log = structlog.get_logger("ponte.scheduler")


class Scheduler:
    """Runs ``tick`` every second until stopped."""

    def __init__(self, holder: Holder, store: Store, wake: asyncio.Event, clock: Clock) -> None:
        self.holder, self.store, self.wake, self.clock = holder, store, wake, clock
        self._stop = asyncio.Event()

    async def tick(self) -> None:
        """One pass: close due digests, then send due reports."""
        settings, now = self.holder.settings, self.clock.now()
        closed = await close_due(self.store, settings, now, time.time())
        sent = await report_run.run_due(self.store, settings, now, time.time())
        if closed or sent:
            self.wake.set()

    async def run(self) -> None:
        """Tick (when leading) until ``stop``; a failing tick is logged and tried again next second."""
        while not self._stop.is_set():
            try:
                async with leading(self.store, "scheduler") as mine:
                    if mine:
                        await self.tick()
            except Exception:
                log.exception("scheduler_tick_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), TICK)

    def stop(self) -> None:
        """Finish the current tick and end."""
        self._stop.set()


SCHEDULER = web.AppKey("scheduler", Scheduler)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: the scheduler runs while the app does."""
    clock = app.get(CLOCK) or clock_from_env()
    scheduler = app[SCHEDULER] = Scheduler(app[HOLDER], app[STORE], app[WAKE], clock)
    task = asyncio.create_task(scheduler.run(), name="ponte-scheduler")
    yield
    scheduler.stop()
    await task


async def close_due(store: Store, settings: Settings, now: float, wall: float) -> int:
    """Open new groups, close due ones into digests, forget idle ones; return digests made."""
    made = 0
    for group in await store.digest_groups():
        try:
            rule, _ = parse_key(group.digest)
        except (ValueError, KeyError, TypeError):  # not written by this Ponte: leave it, say so
            log.error(
                "digest_key_unreadable", sink=group.sink, route=group.route, items=group.waiting
            )
            continue
        if group.opened_at is None or group.due_at is None:
            await store.open_digest_group(group, now, now + rule.wait)
        elif group.due_at - now > rule.wait + rule.interval:  # the clock went back
            log.warning("digest_clock_jump", sink=group.sink, due_in_s=round(group.due_at - now))
            await store.open_digest_group(group, now, now + rule.wait)
        elif group.due_at > now:
            continue
        elif group.waiting == 0:
            await store.drop_digest_group(group)
        else:
            made += await _close(store, settings, group, rule, now, wall)
    return made


async def _close(
    store: Store, settings: Settings, group: DigestGroup, rule: Rule, now: float, wall: float
) -> int:
    ids, doc = await digest_doc(store, settings, group, rule, now)
    if not ids:
        return 0
    event = NewEvent(
        source=report_run.SOURCE,
        external_id=doc["id"],
        event=DIGEST_EVENT,
        sent_date=doc["sentDate"],
        received_at=wall,
        status="accepted",
        headers={},
        body=msgspec.json.encode(doc),
    )
    status = "disabled" if group.sink in settings.disabled_sinks else "pending"
    delivery_id = await store.close_digest(
        DigestClose(group, ids, event, now + rule.interval, wall, status)
    )
    if delivery_id is None:
        log.warning("digest_close_retried", sink=group.sink, route=group.route)
        return 0
    log.info(
        "digest_closed", sink=group.sink, route=group.route, items=len(ids), delivery_id=delivery_id
    )
    return 1


async def digest_doc(
    store: Store, settings: Settings, group: DigestGroup, rule: Rule, now: float
) -> tuple[list[int], dict[str, Any]]:
    """Every waiting item's id, and the ``ponte.digest`` envelope (read page by page)."""
    builder = DigestBuilder(rule, settings.config.messages.timezone)
    after = 0
    while page := await store.digest_items(group, after, PAGE):
        for stored in page:
            builder.add(stored)
        after = page[-1].id
    _, key = parse_key(group.digest)
    return builder.ids, builder.envelope(group.sink, group.route, key, now)
