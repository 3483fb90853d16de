"""The webhook ingress: verify → decode → plan → commit → 200. Never a network call to a sink.

This is the one place where domain errors become HTTP statuses.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from aiohttp import web

from service.eduzz import catalogue
from service.errors import (
    BodyCut,
    BodyTooLarge,
    IngestError,
    SignatureError,
    SlowBody,
    StorageUnavailable,
    UnknownSource,
)
from service.ingest.envelope import Envelope
from service.ingest.handoff import HANDOFF, Reservation
from service.ingest.planning import plan_cancels, plan_shared
from service.ingest.platform_schemas import platform_schema_error
from service.ingest.sources import Source
from service.keys import HOLDER, METRICS, STORE, WAKE
from service.logbridge import CLIENT_FAULTS, client_fault
from service.store.protocol import Store
from service.store.records import NewEvent, Saved

if TYPE_CHECKING:
    from service.config.settings import Settings

log = structlog.get_logger("ponte.ingest")
_encode = msgspec.json.encode
KEPT_HEADERS = ("x-subscription", "x-delivery-attempt", "user-agent", "content-type")
PING_EVENTS = frozenset({"ping"})


async def receive(request: web.Request) -> web.Response:
    """``POST /webhooks/<source>``: answer 200 only once the event is committed."""
    started = time.perf_counter()
    settings: Settings = request.app[HOLDER].settings
    name = request.match_info["source"]
    context: dict[str, Any] = {"source": name}
    try:
        status, payload = await _handle(request, settings, name, context)
    except IngestError as exc:
        status, payload = exc.status, {"status": "error", "error": str(exc)}
        context["error"] = payload["error"]
        if isinstance(exc, SignatureError):
            context["auth"] = exc.reason  # "missing" or "mismatch", never the value
    except StorageUnavailable as exc:
        status, payload = 503, {"status": "error", "error": "storage unavailable, retry later"}
        context["error"] = str(exc)
    elapsed = time.perf_counter() - started
    event = context.get("webhook_event", "")
    source = metric_source(settings, name)
    request.app[METRICS].observe_ingest(source, event, payload["status"], elapsed)
    log.info("webhook_received", http_status=status, outcome=payload["status"],
             duration_ms=round(elapsed * 1000, 2), **context)
    return web.Response(body=_encode(payload), status=status, content_type="application/json")


UNKNOWN_SOURCE = "(unknown)"  # not a valid source name, so it never collides with one


def metric_source(settings: Settings, name: str) -> str:
    """The ``source`` label for a request: unknown names share one value (bounded memory)."""
    return name if name in settings.sources else UNKNOWN_SOURCE


async def _handle(request: web.Request, settings: Settings, name: str,
                  context: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    source = settings.sources.get(name)
    if source is None:
        raise UnknownSource(f"unknown source {name!r}")
    server = settings.config.server
    body = await read_body(request, server.max_body_bytes, server.read_timeout)
    source.verify(request.headers, body, request.query)
    envelope = source.envelope(request.headers, body, request.query)
    context.update(webhook_event=envelope.event, external_id=envelope.external_id)
    saved, status = await _store(request, settings, source, envelope, body)
    context.update(event_id=saved.event_id)
    outcome = "duplicate" if saved.duplicate else status
    return 200, {"status": outcome, "event_id": saved.event_id}


async def read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    """The raw body, refusing (413) past ``limit`` bytes without reading them all."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"body of {request.content_length} bytes is over the {limit}-byte limit")
    content = request.content
    if content.is_eof():  # the usual case: the whole body came with the headers
        body = content.read_nowait()
        if len(body) > limit:
            raise BodyTooLarge(f"body is over the {limit}-byte limit")
        return body
    buf = bytearray()
    try:
        async with asyncio.timeout(timeout):
            while chunk := await content.readany():
                buf += chunk
                if len(buf) > limit:
                    raise BodyTooLarge(f"body is over the {limit}-byte limit")
    except TimeoutError:
        raise SlowBody(f"the body did not arrive within {timeout:g}s") from None
    except CLIENT_FAULTS as exc:
        raise BodyCut(f"the body was cut short: {client_fault(exc)}") from None
    return bytes(buf)


async def _store(request: web.Request, settings: Settings, source: Source, env: Envelope,
                 body: bytes) -> tuple[Saved, str]:
    ignored = env.event in PING_EVENTS
    store = request.app[STORE]
    deliveries = [] if ignored else await plan_shared(settings, store, env.event, env.doc, source.name)
    event = NewEvent(
        source=source.name, external_id=env.external_id, event=env.event, sent_date=env.sent_date,
        received_at=time.time(), status="ignored" if ignored else "accepted",
        headers=_kept_headers(request), body=body, schema_error=_schema_error(source, env),
        cancels=[] if ignored else plan_cancels(settings, env.event, env.doc),
    )
    if event.schema_error:
        log.warning("event_schema_mismatch", webhook_event=env.event, error=event.schema_error)
    handoff = request.app.get(HANDOFF) if deliveries else None
    held = handoff.reserve(deliveries) if handoff is not None else None
    if held is None:
        saved = await store.save_event(event, deliveries)
    else:
        deliveries = held.deliveries
        saved = await _save_handed(store, event, held)
    if saved.cancelled:
        request.app[METRICS].followups_cancelled.inc(saved.cancelled)
    if len(saved.sending) < len(deliveries) and not saved.duplicate:
        request.app[WAKE].set()  # the worker claims what was not handed to it
    return saved, event.status


async def _save_handed(store: Store, event: NewEvent, held: Reservation) -> Saved:
    """Save deliveries claimed at save; the reservation is settled whatever becomes of this
    request (the save is shielded: a cancelled handler must not leave claimed rows unsent)."""
    save = asyncio.ensure_future(store.save_event(event, held.deliveries))

    def settle(task: asyncio.Future[Saved]) -> None:
        failed = task.cancelled() or task.exception() is not None
        held.settle(event, None if failed else task.result())

    save.add_done_callback(settle)
    return await asyncio.shield(save)


def _schema_error(source: Source, env: Envelope) -> str | None:
    if source.kind == "eduzz":
        return catalogue.validate_value(env.event, env.doc["data"]) if "data" in env.doc else None
    return platform_schema_error(source.kind, env.event, env.doc)


def _kept_headers(request: web.Request) -> dict[str, str]:
    """The headers worth keeping, as valid text (aiohttp hands odd bytes over as surrogates)."""
    return {k: _text(request.headers[k]) for k in KEPT_HEADERS if k in request.headers}


def _text(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


async def probe(request: web.Request) -> web.Response:
    """``GET /webhooks/<source>``: 200 for a known source, so senders can check the URL."""
    name = request.match_info["source"]
    if name not in request.app[HOLDER].settings.sources:
        return web.json_response({"status": "error", "error": f"unknown source {name!r}"}, status=404)
    return web.json_response({"status": "ok", "source": name})


async def expect_continue(request: web.Request) -> web.StreamResponse | None:
    """``Expect: 100-continue``: refuse an announced body over the limit before it is sent."""
    limit = request.app[HOLDER].settings.config.server.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        error = f"body of {request.content_length} bytes is over the {limit}-byte limit"
        source = request.match_info["source"]
        request.app[METRICS].observe_ingest(metric_source(request.app[HOLDER].settings, source), "",
                                            "error", 0.0)
        log.info("webhook_received", http_status=413, outcome="error", source=source, error=error)
        return web.Response(body=_encode({"status": "error", "error": error}), status=413,
                            content_type="application/json")
    if request.headers.get("Expect", "").lower() != "100-continue":
        raise web.HTTPExpectationFailed(text="unknown Expect header")
    if request.version == (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0
    return None
