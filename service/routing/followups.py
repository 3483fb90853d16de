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
from datetime import UTC, datetime
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
    unless_events: tuple[str, ...] = ()  # the cancelling events' globs as written (for describe)

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

    def describe(self, doc: dict[str, Any], now: float) -> dict[str, Any]:
        """What ``routes test``/``preview`` say of this follow-up for ``doc`` arriving ``now``:
        ``text`` ("scheduled in 30m unless myeduzz.invoice_paid with the same sale.order_id
        (A1); quiet hours 21:00–08:00 America/Sao_Paulo") and its parts."""
        due = now + self.after
        due = self.quiet.shift(due) if self.quiet is not None else due
        values = {p: r(doc) for p, r in zip(self.same, self.reads, strict=True)}
        missing = [p for p, v in values.items() if v is MISSING or v is None]
        info: dict[str, Any] = {
            "after": span(self.after) if self.after else None, "due_in": span(max(0.0, due - now)),
            "due_at": datetime.fromtimestamp(due, UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "held_by_quiet_hours": due > now + self.after,
            "quiet_hours": self.quiet.describe() if self.quiet is not None else None,
            "unless": list(self.unless_events), "same": list(self.same),
            "values": {p: _text(v) for p, v in values.items() if p not in missing}, "missing": missing}
        if due <= now:
            text = "sent at once (outside quiet hours)"
        else:
            text = f"scheduled in {info['due_in']}"
        if self.unless_events:
            shown = f" ({', '.join(info['values'].values())})" if info["values"] else ""
            text += (f" unless {' or '.join(self.unless_events)} with the same "
                     f"{', '.join(self.same)}{shown}")
            if missing:
                text += f"; the event has no {', '.join(missing)}: nothing can cancel it"
        if self.quiet is not None:
            text += f"; quiet hours {info['quiet_hours']}"
            if info["held_by_quiet_hours"]:
                text += " hold it until they end"
        info["text"] = text
        return info

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
    return FollowUp(route, target.sink, float(target.after or 0.0), quiet, same, pattern, where, reads,
                    tuple(unless.events))


def span(seconds: float) -> str:
    """A duration as config writes it: 30m, 3h, 1d2h, 1m30s."""
    left, parts = round(seconds), []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts) or "0s"


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
