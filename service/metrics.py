"""Prometheus metrics, one registry per application (so tests can run many apps).

The ``event`` label takes only the catalogue's event names (``myeduzz.invoice_paid``; an
unprefixed Eduzz name counts as its full name) and ``other``: anyone holding a source's
secret could otherwise add one series per made-up name.

The two ingest metrics are counted in plain dicts and handed to ``prometheus_client`` as a
custom collector at scrape time: they are updated on every webhook, on the event loop,
and a ``Counter``/``Histogram`` child costs a lock and a label lookup per update.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.utils import floatToGoString

from service.eduzz import catalogue

# no ``*_created`` series: they double the counters for no use here
disable_created_metrics()  # type: ignore[no-untyped-call]

OTHER_EVENT = "other"
_KNOWN_EVENTS = frozenset(catalogue.EVENT_NAMES)
_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """Every ``ponte_`` metric, and the calls that update them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.ingest = IngestStats()
        r.register(self.ingest)
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
        self.dead_letters = Gauge("ponte_dead_letters", "Deliveries that failed for good, per sink",
                                  ["sink"], registry=r)
        self.scheduled = Gauge("ponte_followups_scheduled", "Follow-ups waiting until they are due",
                               registry=r)
        self.followups_cancelled = Counter(
            "ponte_followups_cancelled", "Scheduled follow-ups cancelled by a matching event",
            registry=r)
        self.followups_late = Counter(
            "ponte_followups_late", "Follow-ups released more than a minute after they were due",
            registry=r)
        self.reloads_refused = Counter(
            "ponte_config_reloads_refused", "Config reloads refused (the running config stayed)",
            registry=r)

    def observe_ingest(self, source: str, event: str, status: str, seconds: float) -> None:
        """Count one webhook request and its latency."""
        self.ingest.observe(source, event_label(event), status, seconds)

    def observe_attempt(self, sink: str, outcome: str, seconds: float) -> None:
        """Count one delivery attempt and its latency."""
        self.deliveries.labels(sink, outcome).inc()
        self.attempt_seconds.labels(sink).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def event_label(event: str) -> str:
    """``event`` when the catalogue knows it (by its full name), else ``other`` ("" stays:
    the request failed before its event was read)."""
    if not event or event in _KNOWN_EVENTS:
        return event
    name = catalogue.normalize_event_name(event)
    return name if name in _KNOWN_EVENTS else OTHER_EVENT


class IngestStats:
    """``ponte_events_received`` and ``ponte_ingest_seconds``, counted cheaply (loop thread only)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}
        self.buckets: dict[str, list[int]] = {}  # per source: a count per bound, then +Inf
        self.sums: dict[str, float] = {}

    def observe(self, source: str, event: str, status: str, seconds: float) -> None:
        """Count one webhook request and its latency."""
        key = (source, event, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        buckets = self.buckets.get(source)
        if buckets is None:
            buckets = self.buckets[source] = [0] * (len(_LATENCY) + 1)
            self.sums[source] = 0.0
        buckets[bisect_left(_LATENCY, seconds)] += 1
        self.sums[source] += seconds

    def collect(self) -> Iterator[Metric]:
        """The two families as ``prometheus_client`` renders them."""
        events = CounterMetricFamily("ponte_events_received", "Webhook requests by source, event and outcome",
                                     labels=["source", "event", "status"])
        for labels, count in list(self.counts.items()):
            events.add_metric(list(labels), count)
        latency = HistogramMetricFamily("ponte_ingest_seconds", "Time from request to answer",
                                        labels=["source"])
        for source, counts in list(self.buckets.items()):
            cumulative, total = [], 0
            for bound, count in zip([*_LATENCY, float("inf")], counts, strict=True):
                total += count
                cumulative.append((floatToGoString(bound), total))  # type: ignore[no-untyped-call]
            latency.add_metric([source], cumulative, sum_value=self.sums[source])
        yield events
        yield latency
