"""Plan: the deliveries the current routes give an event (one per sink), before it is stored.

Ingest plans here, and so do Ponte's own operational events (``service.delivery.opevents``),
which enter as if received. Planning asks the digest rules (``service.batches.digests``)
whether a delivery waits grouped, so it sits above them, in ``ingest``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from service.batches import digests
from service.cluster import Coordinated
from service.errors import StorageUnavailable
from service.routing.conditions import MISSING, getter
from service.routing.routes import plan
from service.routing.sale import for_planning
from service.store.records import Cancel, NewDelivery

if TYPE_CHECKING:
    from service.config.settings import Settings


def plan_deliveries(settings: Settings, event: str, doc: dict[str, Any],
                    source: str | None = None, over: set[tuple[str, str]] | None = None) -> list[NewDelivery]:
    """The deliveries the current routes plan for an event from ``source`` (one per sink).

    ``over``: when_busy targets the cluster counted over their rate (``plan_shared``);
    None: counted in this process."""
    doc = for_planning(settings.config, settings.routes, event, doc)
    out = _planned(settings, event, doc, source)
    now = time.time()
    if out and settings.digests:  # deliveries to digest targets wait, grouped (service.digests)
        out = digests.assign(settings.digests, settings.busy, out, event, doc, now, over)
    return settings.followups.schedule(out, doc, now)  # follow-ups wait, scheduled


async def plan_shared(settings: Settings, store: object, event: str, doc: dict[str, Any],
                      source: str | None = None) -> list[NewDelivery]:
    """``plan_deliveries``, with when_busy counted for every replica when ``store`` is shared
    (PostgreSQL); in this process when it is not, or when the database does not answer."""
    if not settings.digests or not isinstance(store, Coordinated):
        return plan_deliveries(settings, event, doc, source)
    planned = _planned(settings, event, for_planning(settings.config, settings.routes, event, doc), source)
    try:
        over = await digests.busy_targets(settings.digests, planned, store.busy_hit)
    except StorageUnavailable:
        return plan_deliveries(settings, event, doc, source)
    return plan_deliveries(settings, event, doc, source, over)


def _planned(settings: Settings, event: str, doc: dict[str, Any],
             source: str | None) -> list[NewDelivery]:
    """One delivery per sink the routes give ``doc`` (already prepared for planning)."""
    planned = plan(settings.routes, event, doc, source)
    sinks, disabled = settings.config.sinks, settings.disabled_sinks
    return [NewDelivery(p.sink, p.route, _order_key(sinks[p.sink].ordered_by, doc),
                        "disabled" if p.sink in disabled else "pending") for p in planned]


def plan_cancels(settings: Settings, event: str, doc: dict[str, Any]) -> list[Cancel]:
    """The follow-ups an event cancels, as correlation keys (service.routing.followups)."""
    doc = for_planning(settings.config, settings.routes, event, doc)
    return settings.followups.cancels(event, doc)


def _order_key(path: str | None, doc: dict[str, Any]) -> str | None:
    if path is None:
        return None
    value = getter(tuple(path.split(".")))(doc)
    return None if value is MISSING or value is None else str(value)
