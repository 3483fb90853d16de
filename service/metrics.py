"""Prometheus metrics, one registry per application (so tests can run many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """Every ``ponte_`` metric, and the calls that update them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter("ponte_events_received", "Webhook requests by source, event and outcome",
                              ["source", "event", "status"], registry=r)
        self.ingest_seconds = Histogram("ponte_ingest_seconds", "Time from request to answer",
                                        ["source"], buckets=_LATENCY, registry=r)
        self.deliveries = Counter("ponte_delivery_attempts", "Delivery attempts by sink and outcome",
                                  ["sink", "outcome"], registry=r)
        self.attempt_seconds = Histogram("ponte_attempt_seconds", "Time one delivery attempt took",
                                         ["sink"], buckets=_LATENCY, registry=r)
        self.backlog = Gauge("ponte_backlog", "Deliveries not yet done, per sink", ["sink"], registry=r)
        self.oldest = Gauge("ponte_backlog_oldest_seconds", "Age of the oldest delivery not yet done",
                            ["sink"], registry=r)
        self.breaker = Gauge("ponte_breaker_open", "1 while a sink's circuit breaker is open",
                             ["sink"], registry=r)
        self.db_bytes = Gauge("ponte_sqlite_bytes", "Size of the SQLite file and its WAL", registry=r)

    def observe_ingest(self, source: str, event: str, status: str, seconds: float) -> None:
        """Count one webhook request and its latency."""
        self.events.labels(source, event, status).inc()
        self.ingest_seconds.labels(source).observe(seconds)

    def observe_attempt(self, sink: str, outcome: str, seconds: float) -> None:
        """Count one delivery attempt and its latency."""
        self.deliveries.labels(sink, outcome).inc()
        self.attempt_seconds.labels(sink).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
