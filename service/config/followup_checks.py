"""``ponte check`` for follow-ups: ``after``, ``unless`` and ``quiet_hours`` on route targets.

Refused, each with its YAML path: an ``after`` not positive or beyond 30 days; an
``unless`` without ``events``; a ``same`` path the catalogue says the route's or the
cancelling events lack; ``after`` or ``quiet_hours`` beside ``digest``; ``unless``
without ``after`` or ``quiet_hours``; a malformed ``quiet_hours``.
"""

from __future__ import annotations

from collections.abc import Callable

from service.config.schema import Config, TargetConfig
from service.eduzz import catalogue
from service.routing.conditions import compile_where
from service.routing.followups import MAX_AFTER
from service.routing.quiet_hours import compile_quiet_hours

EventsOf = Callable[[list[str]], list[str] | None]  # catalogue events of globs (None: unknown)
_ENVELOPE = ("id", "event", "sentDate", "data")
_CONTEXT = ("sale",)  # the sale model (checked once the catalogue knows it)


def check_followups(config: Config, errors: list[str], events_of: EventsOf) -> None:
    """Append every follow-up problem of every route target to ``errors``."""
    for i, route in enumerate(config.routes):
        for j, target in enumerate(route.targets):
            at = f"routes[{i}].to[{j}]"
            _check_target(target, at, errors)
            if target.unless is not None and target.unless.events:
                for k, path in enumerate(target.unless.same):
                    where = f"{at}.unless.same[{k}]"
                    _check_same(path, where, events_of(route.events), errors)
                    _check_same(path, where, events_of(target.unless.events), errors)


def _check_target(target: TargetConfig, at: str, errors: list[str]) -> None:
    if target.after is not None and not 0 < target.after <= MAX_AFTER:
        errors.append(f"{at}.after: must be more than 0 and at most 30d (got {target.after:g}s)")
    if target.digest is not None and (target.after is not None or target.quiet_hours is not None):
        errors.append(f"{at}.digest: a digest cannot be combined with after or quiet_hours "
                      "(a follow-up is one message per event)")
    if target.quiet_hours is not None:
        q = target.quiet_hours
        compiled = compile_quiet_hours(q.from_, q.to, q.timezone)
        if isinstance(compiled, str):
            errors.append(f"{at}.quiet_hours: {compiled}")
    unless = target.unless
    if unless is None:
        return
    if not unless.events:
        errors.append(f"{at}.unless.events: name at least one event that cancels the follow-up")
    if target.after is None and target.quiet_hours is None:
        errors.append(f"{at}.unless: needs after or quiet_hours (only a waiting delivery can be cancelled)")
    compile_where(unless.where, f"{at}.unless.where", errors)


def _check_same(path: str, at: str, events: list[str] | None, errors: list[str]) -> None:
    head = path.split(".", 1)[0]
    if head not in _ENVELOPE and head not in _CONTEXT:
        errors.append(f"{at}: paths start at the envelope (id, event, sentDate, data.…) or sale.…")
        return
    if events is None or head in _CONTEXT or any(catalogue.path_exists(e, path) for e in events):
        return
    hint = next((s for e in events if (s := catalogue.suggest(e, path))), None)
    names = events[0] if len(events) == 1 else f"{len(events)} events"
    close = f" (did you mean {hint!r}?)" if hint else ""
    error = f"{at}: {path!r} does not exist on {names}{close}"
    if error not in errors:
        errors.append(error)
