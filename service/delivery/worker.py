"""The delivery worker: claim due deliveries, render, send, record every attempt.

Runs inside ``ponte serve``. It is woken at once when ingest commits new deliveries and
otherwise sleeps until the next retry is due (at most ``SCAN`` seconds). Each sink has
its own lane (concurrency, rate limit, circuit breaker), so a failing sink never holds
back another. Only the sink knows whether a failure is worth retrying: it says so with
the type of the error it raises.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import structlog
from aiohttp import web
from msgspec.structs import replace

from service.delivery.cluster import shared_rate
from service.delivery.lanes import Lane
from service.delivery.opevents import SOURCE as OP_SOURCE
from service.delivery.opevents import emit
from service.delivery.retry import next_delay
from service.delivery.wake import Wake
from service.errors import (
    PermanentSinkError,
    SinkGoneError,
    StorageUnavailable,
    TemplateError,
    TransientSinkError,
)
from service.render.messages import message_for
from service.routing.followups import cancel_removed
from service.sinks.base import Outgoing
from service.sinks.redaction import message_secrets, send_redacted
from service.sinks.registry import build_sink, message_kind
from service.store.protocol import Store
from service.store.records import AttemptResult, Claimed, NewDelivery, NewEvent, Saved

if TYPE_CHECKING:
    from service.config.settings import Holder, Settings
    from service.metrics import Metrics

log = structlog.get_logger("ponte.worker")
SCAN = 1.0
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0
PROMOTE_BATCH = 1000  # due follow-ups made pending per round; the lanes then pace them
PROMOTE_EVERY = 0.5  # seconds between "anything due?" asks: not one read per ingest commit
Finished = tuple[Lane, Claimed, AttemptResult]  # an attempt waiting to be recorded


class Worker:
    """Moves deliveries from ``pending`` to ``succeeded`` or ``failed``."""

    def __init__(self, holder: Holder, store: Store, wake: asyncio.Event, metrics: Metrics,
                 http: aiohttp.ClientSession) -> None:
        self.holder = holder
        self.store = store
        self.wake = wake
        self.metrics = metrics
        self.http = http
        self.lanes: dict[str, Lane] = {}
        self._timeout: float | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.failures = 0  # rounds failed in a row (storage refusing writes)
        self.backoff = 0.0  # the last wait after a failed round
        self._finished: list[Finished] = []  # recorded by the next tick
        self._warned: set[int] = set()  # deliveries whose record failed (logged once)
        self._due: tuple[float, float | None] | None = None  # (asked at, next_due's answer)
        self._promote_at = 0.0  # when _promote may ask the store again
        self._claim_all = True  # the next round claims for every lane (start, timer, back-off)

    # --- life cycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Recover what a crash left ``sending``, build the lanes, start the loop."""
        recovered = await self.store.recover()
        if recovered:
            log.warning("deliveries_recovered", count=recovered)
        await cancel_removed(self.store, self.holder.settings.config, "its target left the config")
        await self.apply(self.holder.settings)
        self._task = asyncio.create_task(self._run(), name="ponte-worker")

    async def stop(self, grace: float) -> None:
        """Stop claiming, let in-flight deliveries finish within ``grace``, release the rest."""
        self._stopping.set()
        self.wake.set()
        if self._task is not None:
            await self._task
        tasks = {t for lane in self.lanes.values() for t in lane.tasks}
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._flush()
        await asyncio.gather(*(lane.sink.close() for lane in self.lanes.values()), *self._closing)

    async def apply(self, settings: Settings) -> None:
        """Rebuild lanes for a new config: changed sinks get a new client, others keep theirs."""
        self.install(settings, await self.prepare(settings))

    async def prepare(self, settings: Settings) -> dict[str, Lane]:
        """Build the lanes ``settings`` needs, changing nothing yet (a reload may still refuse).

        Raises whatever building a sink raises, after closing the sinks built so far.
        """
        states = await self.store.sink_states()
        timeout = settings.config.delivery.timeout
        lanes: dict[str, Lane] = {}
        try:
            for name, cfg in settings.config.sinks.items():
                old = self.lanes.get(name)
                if old is not None and old.cfg == cfg and timeout == self._timeout:
                    lanes[name] = old
                    continue
                lane = Lane.build(name, cfg, build_sink(name, cfg, http=self.http, timeout=timeout))
                lane.rate = shared_rate(self.store, name, lane.rate)  # cluster-wide on PostgreSQL
                lanes[name] = lane
        except Exception:
            await asyncio.gather(*(lane.sink.close() for name, lane in lanes.items()
                                   if lane is not self.lanes.get(name)))
            raise
        for name, lane in lanes.items():
            disabled, reason = states.get(name, (False, None))
            lane.disabled_reason = (reason or "disabled by an operator") if disabled else None
        return lanes

    def install(self, settings: Settings, lanes: dict[str, Lane]) -> None:
        """Switch to lanes from ``prepare``; replaced lanes finish their sends, then close."""
        self._timeout = settings.config.delivery.timeout
        for name, old in self.lanes.items():
            if lanes.get(name) is not old:  # its in-flight sends finish on the old client
                self._close_later(old)
        self.lanes = lanes
        self.holder.mark_disabled(frozenset(n for n, lane in lanes.items() if lane.disabled_reason))
        self.wake.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _close_later(self, lane: Lane) -> None:
        async def close() -> None:
            if lane.tasks:
                await asyncio.wait(set(lane.tasks))
            await lane.sink.close()

        self._spawn(close())

    # --- the loop ------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping.is_set():
            asked = self.wake.take_claim_all() if isinstance(self.wake, Wake) else True  # always take it
            claim_all = self._claim_all or asked
            self._claim_all = not self.store.claims_at_save  # elsewhere other replicas add work unseen
            self.wake.clear()
            try:
                started = await self._tick(claim_all)
            except Exception as exc:  # noqa: BLE001 - storage trouble must not kill the worker
                self._claim_all = True
                await self._back_off(exc)
                continue
            if self.failures:
                log.info("worker_resumed", after_failures=self.failures)
                self.failures = 0
            if not started and not self._finished:
                await self._sleep()

    async def _tick(self, claim_all: bool = True) -> int:
        """Record the attempts finished since the last tick and refill the lanes, together.

        Records and claims are handed to the store in the same loop iteration, so on
        SQLite they share one transaction (group commit) instead of one each; a refill
        claims every free slot at once (``claim_all`` False: only lanes whose last claim was
        full, see ``service.delivery.wake``). Returns how many deliveries were started.
        """
        finished, self._finished = self._finished, []
        records = [asyncio.create_task(self.store.record_attempt(r)) for _, _, r in finished]
        try:
            started = await self._dispatch(claim_all)
        finally:
            failed = await self._settle(finished, records)
        if failed is not None:
            raise failed
        return started

    async def _settle(self, finished: list[Finished], records: list[asyncio.Task[None]]
                      ) -> Exception | None:
        """Wait for the records; put back those that failed (tried again after a back-off)."""
        outcomes = await asyncio.gather(*records, return_exceptions=True)
        failed: Exception | None = None
        for item, outcome in zip(finished, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                self._record_failed(item, outcome)
                failed = outcome
                continue
            self._recorded(*item)
        return failed

    def _record_failed(self, item: Finished, exc: Exception) -> None:
        """Storage refused the record (full disk, I/O error): keep it for the next tick.

        At shutdown it is dropped: the delivery stays ``sending`` and is retried at the
        next start, like after a crash.
        """
        lane, claimed, result = item
        if claimed.id not in self._warned:  # once per delivery, not once per try
            self._warned.add(claimed.id)
            log.warning("attempt_record_failed", delivery_id=result.delivery_id, error=str(exc))
        if not self._stopping.is_set():
            self._finished.append(item)

    def _recorded(self, lane: Lane, claimed: Claimed, result: AttemptResult) -> None:
        self._warned.discard(claimed.id)
        if result.status == "pending":
            self._due = None  # a retry: ask the store when the next one is due
        if lane.cfg.ordered_by is not None:
            self.wake.set()  # the next delivery of this order key may be due now
        self._after(lane, claimed, result)

    async def _back_off(self, exc: Exception) -> None:
        """Wait longer after each failed round (``BACKOFF_FIRST`` doubling up to ``BACKOFF_MAX``).

        Storage that refuses writes (full disk, EIO, read-only) is logged once when it
        starts; the worker keeps trying and says ``worker_resumed`` when it works again.
        """
        self.failures += 1
        if self.failures == 1:
            if isinstance(exc, StorageUnavailable):
                log.error("worker_storage_failing", error=str(exc))
            else:
                log.error("worker_dispatch_failed", exc_info=exc)
        self.backoff = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** min(self.failures - 1, 16))
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=self.backoff)
        except TimeoutError:
            pass

    async def _sleep(self) -> None:
        try:
            due = await self._next_due()
        except Exception:  # noqa: BLE001
            due = None
        delay = SCAN if due is None else min(SCAN, max(0.0, due - time.time()))
        if delay <= 0:
            self._claim_all = True  # a retry is due now
            return
        if self.wake.is_set():
            return
        try:
            async with asyncio.timeout(delay):  # no task of its own, unlike wait_for
                await self.wake.wait()
        except TimeoutError:
            self._claim_all = True  # a retry (or the scan) is due

    async def _next_due(self) -> float | None:
        """When the next retry is due, asked of the store at most once a ``SCAN``.

        New work wakes the worker (ingest, an operator, another replica), so between
        scans only this worker's own retries can change the answer: recording one
        forgets it (``_recorded``).
        """
        now = time.monotonic()
        if self._due is None or now - self._due[0] >= SCAN:
            sinks = [n for n, lane in self.lanes.items() if lane.capacity(time.time())]
            self._due = (now, await self.store.next_due(sinks))
        due = self._due[1]
        if due is not None and due <= time.time():
            self._due = None  # due already: the next sleep asks again, as it did before
        return due

    async def _dispatch(self, claim_all: bool = True) -> int:
        """Claim for every lane with room; return how many deliveries were started.

        Claims for several lanes go out together when the global limit can hold them
        all, else one by one (each seeing what the one before started).
        """
        now = time.time()
        if await self._promote(now):
            claim_all = True  # follow-ups just became pending
        limit = self.holder.settings.config.delivery.concurrency
        in_flight = sum(lane.inflight for lane in self.lanes.values())
        rooms = [(lane, lane.capacity(now)) for lane in list(self.lanes.values())]
        rooms = [(lane, room) for lane, room in rooms if room > 0 and (claim_all or lane.more)]
        if not rooms or self._stopping.is_set():
            return 0
        if sum(room for _, room in rooms) <= limit - in_flight:
            batches = await asyncio.gather(*(self._claim(lane, room, now) for lane, room in rooms))
            return sum(batches)
        started = 0
        for lane, room in rooms:
            room = min(room, limit - sum(lane.inflight for lane in self.lanes.values()))
            if room > 0 and not self._stopping.is_set():
                started += await self._claim(lane, room, now)
        return started

    async def _promote(self, now: float) -> int:
        """Due follow-ups become pending (claims never see them before); count late ones.

        Only with follow-up targets configured (a start or reload cancels the scheduled rows
        of targets that are gone), and at most every ``PROMOTE_EVERY``: the worker runs a round
        after every ingest commit, and a read each time cost ingest about a tenth of its CPU.
        """
        if not self.holder.settings.followups.targets or now < self._promote_at:
            return 0
        self._promote_at = now + PROMOTE_EVERY
        promoted, late = await self.store.promote_due(now, PROMOTE_BATCH)
        if late:
            self.metrics.followups_late.inc(late)
            log.warning("followups_late", count=late)
        if promoted == PROMOTE_BATCH:
            self._promote_at = 0.0
            self.wake.set()  # more are due: the next round takes them
        return promoted
    async def _claim(self, lane: Lane, room: int, now: float) -> int:
        batch = await self.store.claim_due(lane.name, now, room, lane.cfg.ordered_by is not None)
        lane.more = len(batch) == room
        for claimed in batch:
            self._start(lane, claimed)
        return len(batch)

    def _start(self, lane: Lane, claimed: Claimed) -> None:
        lane.inflight += 1
        self._launch(lane, claimed)

    def _launch(self, lane: Lane, claimed: Claimed) -> None:
        """Send a delivery whose slot ``lane.inflight`` already counts."""
        task = asyncio.create_task(self._deliver(lane, claimed))
        lane.tasks.add(task)
        task.add_done_callback(lambda t: self._done(lane, t))

    def _done(self, lane: Lane, task: asyncio.Task[None]) -> None:
        """A send ended: free its slot, then wake the worker to record it (the slot is free
        by then, so the same round can refill it)."""
        lane.inflight -= 1
        lane.tasks.discard(task)
        if task.cancelled():
            return
        if isinstance(self.wake, Wake) and lane.cfg.ordered_by is None:
            self.wake.nudge()  # to be recorded; nothing new is due
        else:  # the next of its order key may be: claim it in the record's transaction
            self.wake.set()

    # --- claimed at save (service.ingest.handoff) ---------------------------------

    def reserve(self, deliveries: list[NewDelivery]) -> Held | None:
        """Hold a slot for each delivery that can be sent at once, so ingest saves it claimed.

        A delivery qualifies when the store claims at save, it is ``pending`` (not grouped,
        scheduled or disabled), its lane has a free slot within ``delivery.concurrency``,
        keeps no order (``ordered_by``: the claim query checks the order) and had nothing
        left over at its last claim (``Lane.more``), so it overtakes no backlog. A pending
        delivery that does not qualify marks its lane as having work (the worker claims it).
        """
        if not self.store.claims_at_save or self._task is None or self._stopping.is_set():
            return None
        now = time.time()
        room = self.holder.settings.config.delivery.concurrency - sum(
            lane.inflight for lane in self.lanes.values())
        out: list[NewDelivery] = []
        lanes: list[Lane] = []
        for d in deliveries:
            lane = self.lanes.get(d.sink) if d.status == "pending" else None
            if lane is not None:
                if (room > 0 and not lane.more and lane.cfg.ordered_by is None
                        and lane.capacity(now) > 0):
                    lane.inflight += 1
                    room -= 1
                    lanes.append(lane)
                    out.append(replace(d, status="sending"))
                    continue
                lane.more = True
            out.append(d)
        return Held(self, out, lanes) if lanes else None

    def _settle_held(self, held: Held, event: NewEvent, saved: Saved | None) -> None:
        """Start what ingest saved claimed; give back the slots of what it did not."""
        handed = [d for d in held.deliveries if d.status == "sending"]
        release: list[int] = []
        for i, (lane, d) in enumerate(zip(held.lanes, handed, strict=True)):
            if saved is None or saved.duplicate:  # nothing of it was stored
                lane.inflight -= 1
                continue
            claimed = Claimed(saved.sending[i], saved.event_id, d.sink, d.route, 0, 0, event.source,
                              event.event, event.external_id, event.sent_date, event.received_at,
                              event.body)
            if self.lanes.get(d.sink) is lane and not self._stopping.is_set():
                self._launch(lane, claimed)
            else:  # reloaded or stopping meanwhile: the row goes back to pending
                lane.inflight -= 1
                release.append(claimed.id)
        if release:
            self._spawn(self.store.release(release))
            self.wake.set()

    # --- one delivery --------------------------------------------------------------

    async def _deliver(self, lane: Lane, claimed: Claimed) -> None:
        """Send once; the attempt is recorded by the next tick (with the next claim)."""
        try:
            await lane.rate.wait()
            result = await self._attempt(lane, claimed)
        except asyncio.CancelledError:
            await asyncio.shield(self.store.release([claimed.id]))
            raise
        self._finished.append((lane, claimed, result))  # _done wakes the worker to record it

    async def _flush(self) -> None:
        """At shutdown: record what finished since the last tick (once; no retries)."""
        finished, self._finished = self._finished, []
        records = [asyncio.create_task(self.store.record_attempt(r)) for _, _, r in finished]
        await self._settle(finished, records)

    async def _attempt(self, lane: Lane, claimed: Claimed) -> AttemptResult:
        settings = self.holder.settings
        started = time.time()
        clock = time.perf_counter()
        try:
            outgoing = self._outgoing(settings, lane, claimed)
            secrets = [*lane.secrets, *message_secrets(outgoing.message)]
            answer = await send_redacted(lane.sink, outgoing, secrets)
        except TransientSinkError as exc:
            return self._retry(settings, lane, claimed, started, clock, exc)
        except SinkGoneError as exc:
            await self._disable(lane, exc.reason, claimed)
            return _result(claimed, started, clock, "failed", "failed", started, exc.status_code, str(exc))
        except (PermanentSinkError, TemplateError) as exc:
            code = getattr(exc, "status_code", None)
            return _result(claimed, started, clock, "failed", "failed", started, code, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug in a sink is retried, not fatal
            log.exception("sink_crashed", sink=lane.name, delivery_id=claimed.id)
            wrapped = TransientSinkError(f"{lane.name}: unexpected {type(exc).__name__}")
            return self._retry(settings, lane, claimed, started, clock, wrapped)
        lane.breaker.success()
        return _result(claimed, started, clock, "succeeded", "succeeded", started,
                       answer.status_code, None, answer.response)

    def _outgoing(self, settings: Settings, lane: Lane, claimed: Claimed) -> Outgoing:
        message = message_for(settings, claimed, message_kind(lane.cfg))
        return Outgoing(
            delivery_id=claimed.id, event_id=claimed.event_id, event=claimed.event,
            source=claimed.source, body=claimed.body, message=message,
            attempt=claimed.attempt_count + 1,
        )

    def _retry(self, settings: Settings, lane: Lane, claimed: Claimed, started: float,
               clock: float, exc: TransientSinkError) -> AttemptResult:
        opened = lane.breaker.failure(time.time())
        if opened:
            log.warning("breaker_opened", sink=lane.name, cooldown_s=lane.breaker.cooldown)
            data = {"sink": lane.name, "failures": lane.breaker.failures,
                    "cooldown_seconds": float(lane.breaker.cooldown), "error": str(exc)}
            self._spawn(self._notify(claimed, "ponte.breaker_opened", data))
        delivery = settings.config.delivery
        tries = claimed.tries + 1
        if tries >= delivery.max_attempts:
            return _result(claimed, started, clock, "failed", "failed", started, exc.status_code, str(exc))
        delay = next_delay(delivery.retry_schedule, tries, retry_after=exc.retry_after)
        return _result(claimed, started, clock, "retry", "pending", started + delay,
                       exc.status_code, str(exc))

    def _after(self, lane: Lane, claimed: Claimed, result: AttemptResult) -> None:
        """Once recorded: metrics, the log line, and ``ponte.delivery_failed`` for a dead letter."""
        self.metrics.observe_attempt(lane.name, result.outcome, result.duration_ms / 1000)
        log.info("delivery_attempted", delivery_id=claimed.id, event_id=claimed.event_id,
                 webhook_event=claimed.event, sink=lane.name, attempt=claimed.attempt_count + 1,
                 outcome=result.outcome, status_code=result.status_code,
                 duration_ms=round(result.duration_ms, 1), error=result.error)
        if result.outcome == "failed":
            self._spawn(self._notify(claimed, "ponte.delivery_failed", {
                "delivery_id": claimed.id, "event_id": claimed.event_id, "event": claimed.event,
                "sink": lane.name, "route": claimed.route, "attempts": claimed.attempt_count + 1,
                "error": result.error, "status_code": result.status_code,
            }))

    async def refresh_sinks(self) -> None:
        """Re-read the sink flags (another replica or ``ponte sinks`` may have changed one);
        apply them when they differ from what this process runs with."""
        states = await self.store.sink_states()
        stored = {name for name, (disabled, _) in states.items() if disabled and name in self.lanes}
        running = {name for name, lane in self.lanes.items() if lane.disabled_reason}
        if stored != running:
            await self.apply(self.holder.settings)

    async def operator_disabled(self, sink: str) -> None:
        """An operator disabled ``sink``: tell the routes (``ponte.sink_disabled``)."""
        await self._notify(None, "ponte.sink_disabled", {"sink": sink, "reason": "disabled by an operator"})

    async def _notify(self, claimed: Claimed | None, name: str, data: dict[str, Any]) -> None:
        """Emit an operational event, unless this delivery was itself one (no loops)."""
        if claimed is not None and claimed.source == OP_SOURCE:
            return
        await emit(self.store, self.holder.settings, self.wake, name, data)

    async def _disable(self, lane: Lane, reason: str, claimed: Claimed) -> None:
        lane.disabled_reason = reason
        self.holder.mark_disabled(self.holder.settings.disabled_sinks | {lane.name})
        await self.store.set_sink_disabled(lane.name, True, reason)
        log.warning("sink_disabled", sink=lane.name, reason=reason)
        await self._notify(claimed, "ponte.sink_disabled", {"sink": lane.name, "reason": reason})


class Held:
    """Slots ``Worker.reserve`` holds for one event (``service.ingest.handoff.Reservation``)."""

    __slots__ = ("_settled", "_worker", "deliveries", "lanes")

    def __init__(self, worker: Worker, deliveries: list[NewDelivery], lanes: list[Lane]) -> None:
        self._worker = worker
        self.deliveries = deliveries
        self.lanes = lanes  # one per delivery stored ``sending``, in order
        self._settled = False

    def settle(self, event: NewEvent, saved: Saved | None) -> None:
        """Start the claimed deliveries, or give their slots back (once)."""
        if not self._settled:
            self._settled = True
            self._worker._settle_held(self, event, saved)


def _result(claimed: Claimed, started: float, clock: float, outcome: str, status: str,
            next_at: float, code: int | None, error: str | None, response: str | None = None
            ) -> AttemptResult:
    return AttemptResult(
        delivery_id=claimed.id, started_at=started,
        duration_ms=(time.perf_counter() - clock) * 1000, outcome=outcome, status=status,
        next_attempt_at=next_at, status_code=code, error=error, response=response,
    )


WORKER: web.AppKey[Worker] = web.AppKey("worker")
"""Where the app keeps its worker (``service.app``), for the operator surfaces."""
