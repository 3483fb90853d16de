"""Operational events: Ponte tells routes about its own trouble, like any other event.

``ponte.delivery_failed`` (a delivery gave up for good), ``ponte.sink_disabled`` (a 410
Gone or an operator), ``ponte.breaker_opened`` (a sink is paused after repeated
failures). They are stored under the source ``ponte`` and routed by the current routes,
so ``events: ["ponte.*"]`` sends them to the team's Slack channel. Failures of
deliveries of ``ponte.*`` events never emit further events (no loops).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from service.ingest.planning import plan_shared
from service.store.protocol import Store
from service.store.records import NewEvent
from service.timeparse import iso

if TYPE_CHECKING:
    from service.config.settings import Settings

SOURCE = "ponte"
log = structlog.get_logger("ponte.opevents")


async def emit(store: Store, settings: Settings, wake: asyncio.Event, name: str, data: dict[str, Any]) -> None:
    """Store and route one operational event; never raises (it is a side channel)."""
    now = time.time()
    sent = iso(now)
    external_id = uuid.uuid4().hex
    doc = {"id": external_id, "event": name, "sentDate": sent, "data": data}
    try:
        event = NewEvent(source=SOURCE, external_id=external_id, event=name, sent_date=sent,
                         received_at=now, status="accepted", headers={},
                         body=msgspec.json.encode(doc))
        saved = await store.save_event(event, await plan_shared(settings, store, name, doc, SOURCE))
    except Exception:  # noqa: BLE001 - losing a notice must not break delivery
        log.exception("operational_event_failed", webhook_event=name)
        return
    log.info("operational_event", webhook_event=name, event_id=saved.event_id)
    wake.set()
