"""Wrong-credential throttling per client address (the admin API and the console login).

A correct credential is never refused here: the caller checks the credential first and
asks the throttle only about a wrong one. Past ``limit`` wrong guesses from one client
within ``window`` seconds, the answer is 429 with ``Retry-After``: a guessing flood stays
cheap to answer and visible in the log, while the owner of the right secret gets in.
The client is the peer address, or the one a trusted proxy forwarded for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aiohttp import web

MAX_CLIENTS = 10_000  # remembered clients; the oldest are forgotten first


@dataclass(slots=True)
class Throttle:
    """Recent wrong guesses per client in a sliding window (per process, bounded)."""

    limit: int
    window: float
    failures: dict[str, list[float]] = field(default_factory=dict)

    def retry_after(self, client: str, now: float) -> float:
        """0 when ``client`` may guess again now, else seconds until it may."""
        recent = [t for t in self.failures.get(client, []) if now - t < self.window]
        if recent:
            self.failures[client] = recent
        else:
            self.failures.pop(client, None)
        if len(recent) < self.limit:
            return 0.0
        return max(1.0, recent[-self.limit] + self.window - now)

    def failed(self, client: str, now: float) -> None:
        """Count one wrong guess."""
        if client not in self.failures and len(self.failures) >= MAX_CLIENTS:
            self.failures.pop(next(iter(self.failures)))
        times = self.failures.setdefault(client, [])
        times.append(now)
        del times[:-self.limit]  # only the newest ``limit`` matter


def retry_after_header(seconds: float) -> dict[str, str]:
    """``Retry-After`` in whole seconds (rounded up)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def trusted(request: web.Request, proxies: list[str]) -> bool:
    """Whether the peer is one of ``server.trusted_proxies``."""
    return request.remote is not None and request.remote in proxies


def client_of(request: web.Request, proxies: list[str]) -> str:
    """Who is asking: the peer, or the address a trusted proxy forwarded for."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and trusted(request, proxies):
        return forwarded.split(",")[-1].strip()
    return request.remote or "?"
