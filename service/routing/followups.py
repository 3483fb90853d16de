"""Follow-ups: deliveries sent later (``after``, ``quiet_hours``) unless an event makes them moot.

A target with ``after`` or ``quiet_hours`` plans its delivery as ``scheduled``, due at
``quiet.shift(now + after)``; only quiet hours and a moment outside them plan it
``pending`` as usual. A target with ``unless`` gives it a **correlation key**: a hash of
(route, sink, the values at the ``same`` paths). An event that matches ``unless.events``
(and ``unless.where``) carries the keys it cancels, computed the same way from its own
values; the store cancels the scheduled deliveries with those keys in the event's own
commit, and keeps the keys for 24 hours so a follow-up planned later is cancelled at once
(``service.store.followups.CANCEL_WINDOW``: webhooks arrive out of order).

Paths are dotted and read from the event's context (``data.id`` now, ``sale.order_id``
once the context has the sale model). A follow-up whose ``same`` values are missing has
no key: nothing can cancel it, and planning says so in the log.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog

from service.config.schema import Config, TargetConfig
from service.routing.conditions import MISSING, Predicate, compile_where, getter, predicate
from service.routing.quiet_hours import QuietHours, compile_quiet_hours
from service.store.protocol import Store
from service.store.records import Cancel, NewDelivery

log = structlog.get_logger("ponte.followups")
MAX_AFTER = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One target's follow-up rules, compiled."""

    route: str
    sink: str
    after: float
    quiet: QuietHours | None
    same: tuple[str, ...] = ()
    unless: re.Pattern[str] | None = None  # the cancelling events' globs as one regex
    unless_where: Predicate | None = None
    reads: tuple[Callable[[Any], Any], ...] = field(default=(), compare=False, repr=False)

    def key(self, doc: dict[str, Any]) -> str | None:
        """The correlation key of ``doc``'s values at ``same``; None if one is missing."""
        values = [read(doc) for read in self.reads]
        if any(v is MISSING or v is None for v in values):
            return None
        return correlation_key(self.route, self.sink, values)

    def cancelled_by(self, event: str, doc: dict[str, Any]) -> bool:
        """Whether ``event`` is one of this follow-up's cancelling events (``where`` included)."""
        return (self.unless is not None and self.unless.match(event) is not None
                and (self.unless_where is None or self.unless_where(doc)))

    def describe_values(self, doc: dict[str, Any]) -> str:
        """``data.id=123`` for the reason a cancellation gives."""
        return ", ".join(f"{p}={_text(r(doc))}" for p, r in zip(self.same, self.reads, strict=True))


@dataclass(frozen=True, slots=True)
class FollowUps:
    """Every follow-up target of a config: by (route, sink), and those that can be cancelled."""

    targets: dict[tuple[str, str], FollowUp] = field(default_factory=dict)
    cancellable: tuple[FollowUp, ...] = ()

    def schedule(self, planned: list[NewDelivery], doc: dict[str, Any], now: float) -> list[NewDelivery]:
        """The planned deliveries with follow-up targets made ``scheduled`` (due, key)."""
        if not self.targets:
            return planned
        return [self._one(d, doc, now) for d in planned]

    def _one(self, d: NewDelivery, doc: dict[str, Any], now: float) -> NewDelivery:
        rule = self.targets.get((d.route, d.sink))
        if rule is None or d.status not in ("pending", "disabled"):
            return d
        due = now + rule.after
        due = rule.quiet.shift(due) if rule.quiet is not None else due
        if due <= now:  # quiet hours alone, outside them: sent as usual
            return d
        key = rule.key(doc) if rule.unless is not None else None
        if rule.unless is not None and key is None:
            log.warning("followup_not_cancellable", route=d.route, sink=d.sink, same=list(rule.same))
        return msgspec.structs.replace(d, status="scheduled", due_at=due, cancel_key=key)

    def cancels(self, event: str, doc: dict[str, Any]) -> list[Cancel]:
        """The correlation keys ``event`` cancels, each with the reason it gives."""
        found: list[Cancel] = []
        for rule in self.cancellable:
            if rule.cancelled_by(event, doc) and (key := rule.key(doc)) is not None:
                found.append(Cancel(key, f"{event} ({rule.describe_values(doc)})"))
        return found


def correlation_key(route: str, sink: str, values: list[Any]) -> str:
    """The hash that links a follow-up to the events that cancel it (32 hex digits)."""
    raw = msgspec.json.encode([route, sink, [_text(v) for v in values]])
    return hashlib.sha256(raw).hexdigest()[:32]


def _text(value: Any) -> str:
    """Values compare as text, so ``123`` in one event equals ``"123"`` in another."""
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def compile_followups(config: Config) -> FollowUps:
    """The follow-up rules of every target (config errors are ``ponte check``'s job)."""
    targets: dict[tuple[str, str], FollowUp] = {}
    for route in config.routes:
        for target in route.targets:
            rule = _compile(route.name, target)
            if rule is not None and (route.name, target.sink) not in targets:
                targets[(route.name, target.sink)] = rule
    cancellable = tuple(r for r in targets.values() if r.unless is not None)
    return FollowUps(targets, cancellable)


def _compile(route: str, target: TargetConfig) -> FollowUp | None:
    if target.after is None and target.quiet_hours is None:
        return None
    quiet = None
    if target.quiet_hours is not None:
        q = target.quiet_hours
        compiled = compile_quiet_hours(q.from_, q.to, q.timezone)
        quiet = compiled if isinstance(compiled, QuietHours) else None
    unless = target.unless
    if unless is None or not unless.events:
        return FollowUp(route, target.sink, float(target.after or 0.0), quiet)
    pattern = re.compile("|".join(fnmatch.translate(g) for g in unless.events))
    where = predicate(compile_where(unless.where, "unless.where", []))
    same = tuple(unless.same)
    reads = tuple(getter(tuple(p.split("."))) for p in same)
    return FollowUp(route, target.sink, float(target.after or 0.0), quiet, same, pattern, where, reads)


def followup_targets(config: Config) -> list[tuple[str, str]]:
    """Every (route, sink) pair the config sends to: scheduled deliveries of others are moot."""
    return sorted({(route.name, t.sink) for route in config.routes for t in route.targets})


async def cancel_removed(store: Store, config: Config, why: str) -> int:
    """Cancel the scheduled follow-ups whose route or target ``config`` no longer has.

    Follow-ups of targets that remain keep their due time, even if ``after`` changed.
    """
    count = await store.cancel_scheduled(followup_targets(config), f"cancelled: {why}")
    if count:
        log.warning("followups_cancelled", count=count, reason=why)
    return count
