"""Operator verbs shared by the admin API and the CLI: list, show, replay, retry, sinks."""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from service.config.settings import Settings
from service.errors import BadRequest, Conflict, NotFound
from service.operate import retention
from service.store.protocol import Store
from service.store.records import DELIVERY_STATUSES, Filter
from service.timeparse import iso, parse_duration, parse_when

FILTER_KEYS = ("source", "event", "external_id", "status", "sink", "since", "until", "route")
MAX_ID = 2**63 - 1  # SQLite's largest integer
_DIGITS = re.compile(r"[0-9]+")


def make_filter(params: dict[str, Any]) -> Filter:
    """A Filter from query parameters or JSON; unknown keys and bad values are BadRequest.

    An empty value (``?source=``) means "any", as if the key were absent.
    """
    params = {k: v for k, v in params.items() if v not in ("", None)}
    unknown = set(params) - set(FILTER_KEYS) - {"all", "limit", "cursor"}
    if unknown:
        raise BadRequest(f"unknown filter(s): {', '.join(sorted(unknown))}")
    wrong = [k for k in FILTER_KEYS if k in params and not isinstance(params[k], str)]
    if wrong:
        raise BadRequest(f"filter values must be text: {', '.join(wrong)}")
    status = params.get("status")
    if status is not None and status not in DELIVERY_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    try:
        since = parse_when(params["since"]) if params.get("since") else None
        until = parse_when(params["until"]) if params.get("until") else None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return Filter(source=params.get("source"), event=params.get("event"),
                  external_id=params.get("external_id"), status=status, sink=params.get("sink"),
                  since=since, until=until, route=params.get("route"))


def page_args(params: dict[str, Any]) -> tuple[int, str | None]:
    """``limit`` (1–500, default 50) and ``cursor`` from request parameters."""
    raw = params.get("limit", "50")
    limit = int(raw) if _is_number(raw) else 0
    if not 1 <= limit <= 500:
        raise BadRequest("limit must be a whole number from 1 to 500")
    cursor = params.get("cursor") or None
    if cursor is not None and not (_is_number(cursor) and int(cursor) <= MAX_ID):
        raise BadRequest("invalid cursor: use the `next` of the previous page")
    return limit, cursor


def parse_id(text: str, what: str) -> int:
    """An id from a path segment: BadRequest unless ASCII digits, NotFound past SQLite's range."""
    if not _is_number(text):
        raise BadRequest(f"{what} ids are whole numbers (0-9), not {text!r}")
    if int(text) > MAX_ID:
        raise NotFound(f"no {what} {text}")
    return int(text)


def _is_number(value: object) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes '١٢' and '²' (``int`` reads the first)."""
    return isinstance(value, str) and _DIGITS.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Rescheduled:
    """What a replay or retry did."""

    rescheduled: int
    skipped: int  # the sink is not configured any more
    sending: int = 0  # being sent right now: left alone

    def as_dict(self) -> dict[str, int]:
        return {"rescheduled": self.rescheduled, "skipped": self.skipped, "sending": self.sending}


async def replay_event(store: Store, configured: Collection[str], event_id: int,
                       sinks: list[str] | None = None) -> Rescheduled:
    """Deliver an event again to its sinks (or some of them), with a fresh retry budget."""
    event = await store.get_event(event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    if not event.deliveries:
        raise Conflict(f"event {event_id} has no deliveries to replay (no route matched it)")
    own = sorted({d.sink for d in event.deliveries})
    chosen = own if sinks is None else sinks
    stray = [s for s in chosen if s not in own]
    if stray:
        raise NotFound(f"event {event_id} has no delivery to {', '.join(map(repr, stray))} "
                       f"(its sinks: {', '.join(own)})")
    busy = sorted({d.sink for d in event.deliveries if d.sink in chosen and d.status == "sending"})
    rescheduled = skipped = 0
    for sink in chosen:
        done = await _reschedule(store, Filter(event_id=event_id, sink=sink), set(configured))
        rescheduled, skipped = rescheduled + done.rescheduled, skipped + done.skipped
    if rescheduled == 0 and busy:
        raise Conflict(f"event {event_id}'s delivery to {', '.join(busy)} is being sent right now: "
                       "nothing was replayed (replay it again once that attempt ends)")
    if rescheduled == 0:
        raise Conflict(f"none of event {event_id}'s sinks ({', '.join(chosen)}) is configured now: "
                       "nothing was replayed")
    return Rescheduled(rescheduled, skipped, len(busy))


async def retry_delivery(store: Store, configured: Collection[str],
                         delivery_id: int) -> Rescheduled:
    """Try one delivery again now, with a fresh retry budget."""
    delivery = await store.get_delivery(delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.status == "sending":
        raise Conflict(f"delivery {delivery_id} is being sent right now")
    if delivery.sink not in configured:
        raise Conflict(f"sink {delivery.sink!r} is not configured any more")
    return await _reschedule(store, Filter(event_id=delivery.event_id, sink=delivery.sink),
                             set(configured))


async def bulk_replay(store: Store, configured: Collection[str],
                      params: dict[str, Any]) -> Rescheduled:
    """Replay every delivery matching a filter; an empty filter needs ``all: true``."""
    if "all" in params and not isinstance(params["all"], bool):
        raise BadRequest("all must be true or false")
    empty = [k for k, v in params.items() if v == "" or v is None]
    if empty:
        raise BadRequest(f"empty filter value(s): {', '.join(sorted(empty))} (leave the key out instead)")
    flt = make_filter(params)
    if flt == Filter() and params.get("all") is not True:
        raise BadRequest("an empty filter would replay every delivery: say so with --all "
                         '(the API: "all": true)')
    return await _reschedule(store, flt, set(configured))


async def _reschedule(store: Store, flt: Filter, sinks: set[str]) -> Rescheduled:
    rescheduled, skipped = await store.reschedule(flt, time.time(), sinks)
    return Rescheduled(rescheduled, skipped)


def sink_rows(settings: Settings, states: dict[str, tuple[bool, str | None]],
              backlog: list[tuple[str, int, float | None]], lanes: dict[str, Any]) -> list[dict[str, Any]]:
    """Every configured sink with its state, for ``GET /api/sinks``."""
    waiting = {sink: count for sink, count, _ in backlog}
    now = time.time()
    rows = []
    for name, cfg in settings.config.sinks.items():
        disabled, reason = states.get(name, (False, None))
        lane = lanes.get(name)
        is_open = lane is not None and not lane.breaker.allows(now)
        reopens = lane.breaker.open_until if lane is not None and is_open else None
        rows.append({
            "name": name, "type": type(cfg).__struct_config__.tag, "enabled": cfg.enabled and not disabled,
            "disabled_reason": reason if disabled else (None if cfg.enabled else "enabled: false in the config"),
            "breaker": "open" if lane is not None and not lane.breaker.allows(now) else "closed",
            "breaker_reopens_at": iso(reopens),
            "in_flight": lane.inflight if lane is not None else 0, "backlog": waiting.get(name, 0),
        })
    return rows


PURGE_KEYS = ("older_than", "dry_run")


async def purge(store: Store, params: dict[str, Any], retention_days: int) -> dict[str, Any]:
    """Purge (or with ``dry_run`` count) events older than ``older_than`` (default: the retention).

    ``older_than`` is a duration (``12h``, ``30d``) or a number of days; never negative.
    Events with a delivery still waiting are never purged.
    """
    unknown = set(params) - set(PURGE_KEYS)
    if unknown:
        raise BadRequest(f"unknown key(s): {', '.join(sorted(unknown))} "
                         f"(allowed: {', '.join(PURGE_KEYS)})")
    dry_run = params.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadRequest("dry_run must be true or false")
    if "older_than" in params and params["older_than"] is None:
        raise BadRequest("older_than must be a duration such as 30d, or left out")
    seconds = age_seconds(params.get("older_than"), retention_days)
    before = max(0.0, time.time() - seconds)  # older than 1970: nothing, and a printable time
    if dry_run:
        count = await store.count_purgeable(before)
    else:
        count = await retention.prune_before(store, before)
    return {"purged": count, "before": iso(before), "older_than_seconds": seconds,
            "dry_run": dry_run}


def age_seconds(value: Any, retention_days: int) -> float:
    """``12h``/``30d``/a number of days as seconds; BadRequest when negative or unreadable."""
    if value is None:
        return retention_days * 86400.0
    text = "" if isinstance(value, bool) else str(value).strip()
    if text.startswith("-"):
        raise BadRequest("older_than must not be negative")
    if text.replace(".", "", 1).isdigit():
        text += "d"  # a plain number counts days
    try:
        return float(parse_duration(text))
    except ValueError as exc:
        raise BadRequest(f"older_than: {exc}") from None


async def set_sink_disabled(store: Store, holder: Any, worker: Any, name: str, *,
                            disabled: bool) -> dict[str, Any]:
    """Disable a sink (its pending deliveries wait as ``disabled``) or enable it again."""
    settings = holder.settings
    if name not in settings.config.sinks:
        raise NotFound(f"no sink {name!r}")
    reason = "disabled by an operator" if disabled else None
    changed = await store.set_sink_disabled(name, disabled, reason)
    current = holder.settings.disabled_sinks
    holder.mark_disabled(current | {name} if disabled else current - {name})
    if worker is not None:
        await worker.apply(settings)
        if disabled:
            await worker.operator_disabled(name)
    return {"name": name, "enabled": not disabled, "deliveries_changed": changed}
