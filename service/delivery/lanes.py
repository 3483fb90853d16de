"""Per-sink isolation: concurrency slots, a rate limit and a circuit breaker for each sink."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from service.config.schema import SinkConfig
from service.sinks.base import Sink
from service.sinks.redaction import sink_secrets


@dataclass
class Breaker:
    """Opens after ``threshold`` consecutive failures; lets one try through after ``cooldown``."""

    threshold: int
    cooldown: float
    failures: int = 0
    open_until: float = 0.0

    def allows(self, now: float) -> bool:
        """False while open (deliveries wait instead of burning attempts)."""
        return now >= self.open_until

    @property
    def half_open(self) -> bool:
        """True when the last try after a cool-down decides whether it closes."""
        return self.failures >= self.threshold

    def success(self) -> None:
        """A delivery went through: close."""
        self.failures = 0
        self.open_until = 0.0

    def failure(self, now: float) -> bool:
        """A transient failure; True when this one opened the breaker (not when it already was)."""
        self.failures += 1
        if self.failures < self.threshold or now < self.open_until:
            return False
        self.open_until = now + self.cooldown
        return True


@dataclass
class RateLimit:
    """At most ``per_second`` starts a second, spaced evenly (None: no limit)."""

    per_second: float | None
    _next: float = 0.0

    async def wait(self) -> None:
        """Sleep until this caller may start."""
        if self.per_second is None:
            return
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + 1.0 / self.per_second
        if start > now:
            await asyncio.sleep(start - now)


@dataclass
class Lane:
    """One sink's share of the worker."""

    name: str
    cfg: SinkConfig
    sink: Sink
    breaker: Breaker
    rate: RateLimit
    inflight: int = 0
    more: bool = True  # the last claim was full, so more deliveries may be due
    disabled_reason: str | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    secrets: list[str] = field(default_factory=list)  # masked in every answer (read once)

    @classmethod
    def build(cls, name: str, cfg: SinkConfig, sink: Sink) -> Lane:
        """A lane with the sink's configured limits."""
        breaker = Breaker(cfg.breaker_threshold, cfg.breaker_cooldown)
        return cls(name, cfg, sink, breaker, RateLimit(cfg.rate_per_second), secrets=sink_secrets(cfg))

    def capacity(self, now: float) -> int:
        """How many more deliveries this lane may claim now."""
        if self.disabled_reason is not None or not self.cfg.enabled or not self.breaker.allows(now):
            return 0
        limit = 1 if self.breaker.half_open else self.cfg.concurrency
        return max(0, limit - self.inflight)
