"""Routing: which sinks hear about an event. Pure, compiled once at config load.

``compile_routes`` turns the config's routes into matchers (globs and regexes compiled,
paths split); ``plan`` walks them for one event; ``explain`` says, route by route, why.
Semantics are the contract's: every matching route fires in order until one with
``stop: true``; an event goes at most once to a sink (the first route naming it wins).
Ponte's own operational events (``ponte.delivery_failed`` …) only match globs that start
with ``ponte.``, so a catch-all ``*`` route never forwards them by surprise.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from service.config.schema import Config, RouteConfig, TargetConfig
from service.errors import ConfigError
from service.routing.conditions import Condition, Predicate, compile_where, predicate


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    """A route ready to match: its event globs as one regex, its ``where`` as a Condition."""

    name: str
    events: re.Pattern[str]
    where: Condition
    targets: tuple[TargetConfig, ...]
    stop: bool
    index: int
    match: Predicate | None = field(default=None, compare=False, repr=False)  # None: no ``where``
    sources: frozenset[str] | None = None  # None: any source
    seen: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def matches_event(self, event: str) -> bool:
        """Whether a glob matches ``event``; remembered per name (there are few names)."""
        found = self.seen.get(event)
        if found is None:
            if len(self.seen) >= _SEEN_LIMIT:
                self.seen.clear()
            found = self.seen[event] = self.events.match(event) is not None
        return found

    def takes_source(self, source: str | None) -> bool:
        """Whether events from ``source`` may match (None: the source is not known, no filter)."""
        return self.sources is None or source is None or source in self.sources


_SEEN_LIMIT = 4096


class Planned(msgspec.Struct, frozen=True, gc=False):
    """One delivery to make: ``sink`` hears about the event because of ``route``."""

    sink: str
    route: str
    template: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a route did or did not match an event."""

    route: str
    matched: bool
    reason: str
    sinks: tuple[str, ...] = ()


def compile_routes(config: Config) -> list[CompiledRoute]:
    """Compile every route; raise ConfigError listing every bad pattern or condition."""
    errors: list[str] = []
    compiled = [_compile(route, i, errors) for i, route in enumerate(config.routes)]
    if errors:
        raise ConfigError(errors)
    return compiled


INTERNAL_PREFIX = "ponte."


def _compile(route: RouteConfig, index: int, errors: list[str]) -> CompiledRoute:
    pattern = "|".join(_translate(glob) for glob in route.events)
    where = compile_where(route.where, f"routes[{index}].where", errors)
    sources = frozenset(route.sources) if route.sources is not None else None
    return CompiledRoute(route.name, re.compile(pattern), where, tuple(route.targets), route.stop, index,
                         predicate(where), sources)


def _translate(glob: str) -> str:
    """A glob as a regex; Ponte's own ``ponte.*`` events only match globs that name them."""
    regex = fnmatch.translate(glob)
    if glob.startswith(INTERNAL_PREFIX):
        return regex
    return f"(?!{re.escape(INTERNAL_PREFIX)}){regex}"


def plan(routes: list[CompiledRoute], event: str, doc: dict[str, Any],
         source: str | None = None) -> list[Planned]:
    """The deliveries for one event: at most one per sink, in route order, up to a ``stop``.

    ``source`` is the name of the source that received the event (None: not known)."""
    planned: dict[str, Planned] = {}
    for route in routes:
        if (route.matches_event(event) and route.takes_source(source)  # cheapest test first
                and (route.match is None or route.match(doc))):
            for target in route.targets:
                if target.sink not in planned:
                    planned[target.sink] = Planned(target.sink, route.name, target.template)
            if route.stop:
                break
    return list(planned.values())


def explain(routes: list[CompiledRoute], event: str, doc: dict[str, Any],
            source: str | None = None) -> list[Verdict]:
    """A verdict per route, in order, stopping where a matching ``stop: true`` route stops."""
    verdicts: list[Verdict] = []
    taken: set[str] = set()
    for route in routes:
        verdict = _verdict(route, event, doc, taken, source)
        verdicts.append(verdict)
        if verdict.matched and route.stop:
            break
    return verdicts


def _verdict(route: CompiledRoute, event: str, doc: dict[str, Any], taken: set[str],
             source: str | None) -> Verdict:
    if not route.takes_source(source):
        names = ", ".join(sorted(route.sources or ()))
        return Verdict(route.name, False, f"source {source!r} is not one of its sources ({names})")
    if not route.matches_event(event):
        return Verdict(route.name, False, f"event {event!r} matches none of its events globs")
    failed = route.where.why_not(doc)
    if failed is not None:
        return Verdict(route.name, False, f"condition failed: {failed}")
    sinks = tuple(t.sink for t in route.targets if t.sink not in taken)
    taken.update(sinks)
    reason = "matched" + (" (stop: later routes are not evaluated)" if route.stop else "")
    return Verdict(route.name, True, reason, sinks)


def template_for(routes: list[CompiledRoute], route_name: str, sink: str) -> dict[str, Any] | None:
    """The template a route gives a sink now (None: the built-in message)."""
    for route in routes:
        if route.name == route_name:
            for target in route.targets:
                if target.sink == sink:
                    return target.template
    return None
