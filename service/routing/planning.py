"""Plan: the deliveries the current routes give an event (one per sink), before it is stored.

Ingest and Ponte's own operational events both plan here, so neither imports the other.
"""

from __future__ import annotations

import time
from typing import Any

from service.batches import digests
from service.config.settings import Settings
from service.routing.conditions import MISSING, getter
from service.routing.routes import plan
from service.store.records import Cancel, NewDelivery


def plan_deliveries(settings: Settings, event: str, doc: dict[str, Any],
                    source: str | None = None) -> list[NewDelivery]:
    """The deliveries the current routes plan for an event from ``source`` (one per sink)."""
    planned = plan(settings.routes, event, doc, source)
    if not planned:
        return []
    sinks, disabled = settings.config.sinks, settings.disabled_sinks
    out = [NewDelivery(p.sink, p.route, _order_key(sinks[p.sink].ordered_by, doc),
                       "disabled" if p.sink in disabled else "pending") for p in planned]
    now = time.time()
    if settings.digests:  # deliveries to digest targets wait, grouped (service.digests)
        out = digests.assign(settings.digests, settings.busy, out, event, doc, now)
    return settings.followups.schedule(out, doc, now)  # follow-ups wait, scheduled


def plan_cancels(settings: Settings, event: str, doc: dict[str, Any]) -> list[Cancel]:
    """The follow-ups an event cancels, as correlation keys (service.routing.followups)."""
    return settings.followups.cancels(event, doc)


def _order_key(path: str | None, doc: dict[str, Any]) -> str | None:
    if path is None:
        return None
    value = getter(tuple(path.split(".")))(doc)
    return None if value is MISSING or value is None else str(value)
