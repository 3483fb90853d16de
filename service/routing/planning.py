"""Plan: the deliveries the current routes give an event (one per sink), before it is stored.

Ingest and Ponte's own operational events both plan here, so neither imports the other.
"""

from __future__ import annotations

import time
from typing import Any

from service.batches import digests
from service.config.settings import Settings
from service.delivery.cluster import Coordinated
from service.errors import StorageUnavailable
from service.routing.conditions import MISSING, getter
from service.routing.routes import plan
from service.store.records import NewDelivery


def plan_deliveries(settings: Settings, event: str, doc: dict[str, Any],
                    source: str | None = None) -> list[NewDelivery]:
    """The deliveries the current routes plan for an event from ``source`` (one per sink);
    when_busy counted in this process."""
    out = _planned(settings, event, doc, source)
    if out and settings.digests:  # deliveries to digest targets wait, grouped (service.digests)
        out = digests.assign(settings.digests, settings.busy.busy, out, event, doc, time.time())
    return out


async def plan_shared(settings: Settings, store: object, event: str, doc: dict[str, Any],
                      source: str | None = None) -> list[NewDelivery]:
    """``plan_deliveries``, with when_busy counted for every replica when ``store`` is shared
    (PostgreSQL); in this process when it is not, or when the database does not answer."""
    out = _planned(settings, event, doc, source)
    if not out or not settings.digests or not isinstance(store, Coordinated):
        return plan_deliveries(settings, event, doc, source)
    try:
        over = await digests.busy_targets(settings.digests, out, store.busy_hit)
    except StorageUnavailable:
        return plan_deliveries(settings, event, doc, source)
    return digests.assign(settings.digests, lambda key, *_: key in over, out, event, doc, time.time())


def _planned(settings: Settings, event: str, doc: dict[str, Any],
             source: str | None) -> list[NewDelivery]:
    planned = plan(settings.routes, event, doc, source)
    sinks, disabled = settings.config.sinks, settings.disabled_sinks
    return [NewDelivery(p.sink, p.route, _order_key(sinks[p.sink].ordered_by, doc),
                        "disabled" if p.sink in disabled else "pending") for p in planned]


def _order_key(path: str | None, doc: dict[str, Any]) -> str | None:
    if path is None:
        return None
    value = getter(tuple(path.split(".")))(doc)
    return None if value is MISSING or value is None else str(value)
