"""The composition root: ``create_app(settings)`` builds the whole service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web

from service import ui
from service.batches.scheduler import scheduler_ctx
from service.config.settings import Holder, Settings
from service.delivery.cluster import Cluster
from service.delivery.wake import Wake
from service.delivery.worker import WORKER, Worker
from service.ingest import handler as ingest
from service.ingest.handoff import HANDOFF
from service.keys import HOLDER, METRICS, STORE, WAKE
from service.metrics import Metrics
from service.operate import api, retention
from service.operate.reload import reload_from_file
from service.store.open import open_store
from service.store.postgres.url import redact
from service.store.protocol import Store

log = structlog.get_logger("ponte.app")


def create_app(settings: Settings, *, store: Store | None = None, worker: bool = True) -> web.Application:
    """The aiohttp application: ingress, probes, metrics, admin API, and the worker."""
    app = web.Application(client_max_size=settings.config.server.max_body_bytes + 1)
    app[HOLDER] = Holder(settings)
    storage = settings.config.storage
    app[STORE] = store or open_store(storage.url, exclusive=worker, lease=storage.lease)
    app[WAKE] = Wake()
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_storage)
    if worker:
        app.cleanup_ctx.append(_worker)
        app.cleanup_ctx.append(scheduler_ctx)  # digests and reports; stops before the worker
    _add_routes(app)
    return app


def _add_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/{source}", ingest.receive, expect_handler=ingest.expect_continue)
    app.router.add_get("/webhooks/{source}", ingest.probe)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    api.add_routes(app)
    ui.add_routes(app)


async def _storage(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    await store.open()
    log.info("storage_opened", url=redact(app[HOLDER].settings.config.storage.url))
    yield
    await store.close()


async def _worker(app: web.Application) -> AsyncIterator[None]:
    settings = app[HOLDER].settings
    async with aiohttp.ClientSession(auto_decompress=True) as http:
        worker = Worker(app[HOLDER], app[STORE], app[WAKE], app[METRICS], http)
        app[WORKER] = worker
        try:
            await worker.start()
        except BaseException:
            # aiohttp cleans nothing up when start-up fails: close storage, freeing the lock
            await app[STORE].close()
            raise
        app[HANDOFF] = worker  # ingest hands deliveries over in their save (claims at save)
        holder = app[HOLDER]
        janitor = asyncio.create_task(
            retention.run_forever(app[STORE], lambda: holder.settings.config.storage.retention_days))
        cluster = _cluster(app, worker)
        yield
        janitor.cancel()
        await asyncio.gather(janitor, return_exceptions=True)
        await cluster.stop()
        await worker.stop(settings.config.delivery.shutdown_grace)


def _cluster(app: web.Application, worker: Worker) -> Cluster:
    """Hear the other replicas (wake-ups, reloads: PostgreSQL) and the sink flags (always)."""
    cluster = Cluster(app[STORE], wake=app[WAKE], refresh_sinks=worker.refresh_sinks,
                      reload=lambda: reload_from_file(app, tell_others=False))
    cluster.start()
    return cluster


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Storage answers and a config is loaded."""
    try:
        await request.app[STORE].ping()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return web.json_response({"status": "unavailable", "error": str(exc)}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition; gauges that need the database are refreshed here."""
    await _refresh_gauges(request.app)
    body, content_type = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": content_type})


SCHEDULED_CAP = 10_000_000  # the scheduled gauge counts up to this many


async def _refresh_gauges(app: web.Application) -> None:
    m, store = app[METRICS], app[STORE]
    now = time.time()
    idle = dict.fromkeys(app[HOLDER].settings.config.sinks, 0)  # an idle sink is 0, not no series
    waiting = {sink: (count, oldest) for sink, count, oldest in await store.backlog()}
    m.backlog.clear()
    m.oldest.clear()
    m.dead_letters.clear()
    for sink in idle | waiting:
        count, oldest = waiting.get(sink, (0, None))
        m.backlog.labels(sink).set(count)
        m.oldest.labels(sink).set(max(0.0, now - oldest) if oldest else 0)
    for sink, dead in (idle | await store.dead_letters()).items():
        m.dead_letters.labels(sink).set(dead)
    m.db_bytes.set(await store.size_bytes())
    m.scheduled.set(await store.count_status("scheduled", SCHEDULED_CAP))  # not the console's budget
    worker = app.get(WORKER)
    if worker is not None:
        for name, lane in worker.lanes.items():
            m.breaker.labels(name).set(0 if lane.breaker.allows(now) else 1)
