"""Digests: a route target's events grouped into one message, durably (Alertmanager's grouping).

At ingest a delivery to a digest target is stored ``grouped`` with a digest key: the JSON
of its rule (wait, interval, max_items, group_by) and its group's values. Items carry
their rule, so a reload that changes or removes a digest leaves waiting items to be sent
under the rule they came with. The scheduler (``service.scheduler``) closes due groups,
each in one transaction, into a ``ponte.digest`` delivery like any other.

``when_busy: N/min`` keeps one message per event until more than N events reached the
target within the window, then groups (wait = interval = the window) until it calms down.
The rate is counted in memory: after a restart the first N events go out one by one.

``max_groups`` caps the groups a target keeps open at once (``group_by`` on a value with
no bound, a buyer's e-mail, would make one digest per event): past it, an event whose
group is not open goes into one ``outros`` group, and ``digest_groups_capped`` is logged
(once per wait + interval). Open groups are counted in memory, like ``when_busy``.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog

from service.routing.conditions import MISSING, getter
from service.sinks.recipients import recipient_template
from service.sinks.registry import KINDS
from service.store.records import NewDelivery

log = structlog.get_logger("ponte.digests")
OTHERS = "outros"  # the group past ``max_groups``
DEFAULT_WAIT = 30.0
DEFAULT_INTERVAL = 120.0
_BUSY = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_WINDOWS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}
_ENVELOPE = ("event", "id", "sentDate", "data")


@dataclass(frozen=True, slots=True)
class Rule:
    """How one target groups: seconds to wait, seconds between digests, items listed, keys."""

    wait: float
    interval: float
    max_items: int
    group_by: tuple[str, ...] = ()
    busy: tuple[int, float] | None = None  # (events, window seconds) for when_busy
    max_groups: int = 20  # open groups at once; past it, new values go to "outros"

    def values(self, event: str, doc: dict[str, Any]) -> list[str]:
        """The item's group values, one per ``group_by`` path."""
        return [_group_value(path, event, doc) for path in self.group_by]

    def key(self, event: str, doc: dict[str, Any], values: list[str] | None = None) -> str:
        """The digest key stored on a grouped item: this rule and the item's group values."""
        values = self.values(event, doc) if values is None else values
        return msgspec.json.encode(
            {
                "wait": self.wait,
                "interval": self.interval,
                "max_items": self.max_items,
                "group_by": list(self.group_by),
                "key": values,
            }
        ).decode()


def parse_key(text: str) -> tuple[Rule, list[str]]:
    """The rule and group values inside a stored digest key."""
    doc = msgspec.json.decode(text)
    rule = Rule(
        float(doc["wait"]), float(doc["interval"]), int(doc["max_items"]), tuple(doc["group_by"])
    )
    return rule, [str(v) for v in doc["key"]]


def _group_value(path: str, event: str, doc: dict[str, Any]) -> str:
    if path == "event":
        return event
    value = getter(tuple(path.split(".")))(doc)
    return "" if value is MISSING or value is None else str(value)


def busy_rate(text: str) -> tuple[int, float]:
    """``"10/min"`` -> (10, 60.0); ValueError naming the key otherwise."""
    match = _BUSY.match(text)
    if match is None or int(match[1]) < 1:
        raise ValueError(f"when_busy: {text!r} is not a rate (use e.g. 10/min, 2/s, 100/h)")
    return int(match[1]), _WINDOWS[match[2]]


def rule_of(cfg: Any) -> Rule:
    """The Rule of a ``DigestConfig``; when_busy defaults wait and interval to its window."""
    busy = busy_rate(cfg.when_busy) if cfg.when_busy is not None else None
    wait = float(cfg.wait) if cfg.wait is not None else (busy[1] if busy else DEFAULT_WAIT)
    default_interval = busy[1] if busy else max(DEFAULT_INTERVAL, wait)
    interval = float(cfg.interval) if cfg.interval is not None else default_interval
    return Rule(wait, interval, cfg.max_items, tuple(cfg.group_by), busy, cfg.max_groups)


def validate_digest(cfg: Any) -> None:
    """Raise ValueError (``key: problem``) for a digest that cannot work as written."""
    rule = rule_of(cfg)
    if rule.wait > rule.interval:
        raise ValueError(
            f"wait: {rule.wait:g}s is longer than interval ({rule.interval:g}s); "
            "the first digest would come after later ones should"
        )
    if rule.interval <= 0:
        raise ValueError("interval: must be more than 0s")
    for path in rule.group_by:
        if path.split(".", 1)[0] not in _ENVELOPE:
            raise ValueError(
                f"group_by: {path!r} must be event or a path from the envelope (data.…)"
            )


def check_digest_targets(routes: list[Any], sinks: dict[str, Any], errors: list[str]) -> None:
    """A digest on a sink that cannot take one (a spreadsheet row, a WhatsApp template)."""
    for i, route in enumerate(routes):
        if route is None:
            continue
        for j, target in enumerate(route.targets):
            sink = sinks.get(target.sink)
            if target.digest is None or sink is None:
                continue
            problem = digest_problem(sink)
            if problem:
                errors.append(f"routes[{i}].to[{j}].digest: {problem}")


def digest_problem(sink: Any) -> str | None:
    """Why a sink config cannot take a digest, or None."""
    kind = str(type(sink).__struct_config__.tag)
    record = KINDS.get(kind)
    if record is None or not record.digests:
        return f"a {kind} sink takes one row or message per event, not a digest"
    if kind == "whatsapp" and any(_per_buyer(str(n)) for n in getattr(sink, "to", None) or []):
        return "a whatsapp sink that writes to each buyer's number cannot take a digest"
    if kind == "whatsapp" and (
        getattr(sink, "template", None) or getattr(sink, "mode", "") == "template"
    ):
        return "a whatsapp sink that sends template messages cannot take a digest (use a text sink)"
    return None


def _per_buyer(entry: str) -> bool:
    """A ``to`` entry read from each event (a template or a bare path), not a fixed number."""
    return "{{" in recipient_template(entry)


@dataclass
class BusyMeter:
    """Recent event times per (route, sink), at most N+1 each: is the rate over N per window?
    Also the groups each (route, sink) has open, at most ``max_groups`` each."""

    seen: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    groups: dict[tuple[str, str], dict[tuple[str, ...], float]] = field(default_factory=dict)
    warned: dict[tuple[str, str], float] = field(default_factory=dict)

    def admit(self, key: tuple[str, str], values: tuple[str, ...], cap: int, ttl: float,
              now: float) -> bool:
        """Whether the group ``values`` is open or may open (groups idle for ``ttl`` closed)."""
        open_groups = self.groups.setdefault(key, {})
        if values not in open_groups and len(open_groups) >= cap:
            for old in [v for v, seen in open_groups.items() if now - seen > ttl]:
                del open_groups[old]
        if values in open_groups or len(open_groups) < cap:
            open_groups[values] = now
            return True
        return False

    def should_warn(self, key: tuple[str, str], every: float, now: float) -> bool:
        """True at most once per ``every`` seconds for ``key``."""
        if now - self.warned.get(key, float("-inf")) < every:
            return False
        self.warned[key] = now
        return True

    def busy(self, key: tuple[str, str], limit: int, window: float, now: float) -> bool:
        """Count one event now; True when more than ``limit`` fell within ``window``."""
        times = self.seen.get(key)
        if times is None or times.maxlen != limit + 1:
            times = self.seen[key] = deque(maxlen=limit + 1)
        times.append(now)
        return len(times) == limit + 1 and now - times[0] < window


def digest_rules(config: Any) -> dict[tuple[str, str], Rule]:
    """(route, sink) -> Rule for every target with a digest."""
    return {
        (route.name, t.sink): rule_of(t.digest)
        for route in config.routes
        for t in route.targets
        if t.digest is not None
    }


def assign(
    rules: dict[tuple[str, str], Rule],
    meter: BusyMeter,
    deliveries: list[NewDelivery],
    event: str,
    doc: dict[str, Any],
    now: float,
) -> list[NewDelivery]:
    """Turn deliveries to digest targets into ``grouped`` items (pending ones only)."""
    out = []
    for d in deliveries:
        rule = rules.get((d.route, d.sink))
        if rule is not None and d.status == "pending" and _groups(rule, meter, d, now):
            d = msgspec.structs.replace(d, status="grouped", digest=_key(rule, meter, d, event, doc, now))
        out.append(d)
    return out


def _groups(rule: Rule, meter: BusyMeter, d: NewDelivery, now: float) -> bool:
    if rule.busy is None:
        return True
    return meter.busy((d.route, d.sink), rule.busy[0], rule.busy[1], now)


def _key(rule: Rule, meter: BusyMeter, d: NewDelivery, event: str, doc: dict[str, Any],
         now: float) -> str:
    """The item's digest key; past ``max_groups`` open groups, the ``outros`` group's."""
    values = rule.values(event, doc)
    ttl = rule.wait + rule.interval
    if not values or meter.admit((d.route, d.sink), tuple(values), rule.max_groups, ttl, now):
        return rule.key(event, doc, values)
    if meter.should_warn((d.route, d.sink), ttl, now):
        log.warning("digest_groups_capped", route=d.route, sink=d.sink, max_groups=rule.max_groups,
                    group_by=list(rule.group_by))
    return rule.key(event, doc, [OTHERS] * len(values))
