"""Building a digest's envelope from its items: counts, totals, the first items, how many more.

Used when the scheduler closes a group and when ``ponte routes test`` / ``preview`` show
what a digest of an event would look like. Only the first ``max_items`` items are kept
whole; every item is counted and its amount summed, so the envelope's size is bounded.
"""

from __future__ import annotations

from typing import Any

from service.batches.digests import Rule
from service.batches.items import decode_doc, event_name, item_of
from service.batches.summary import Sales
from service.render.batch_cards import DIGEST_EVENT
from service.store.records import StoredItem
from service.timeparse import iso

_TOTALS = ("paid", "refunded", "chargeback", "canceled", "abandoned")


class DigestBuilder:
    """Takes items one by one; ``envelope`` gives the ``ponte.digest`` document."""

    def __init__(self, rule: Rule, timezone: str) -> None:
        self.rule = rule
        self.timezone = timezone
        self.ids: list[int] = []
        self.items: list[dict[str, Any]] = []
        self.by_event: dict[str, int] = {}
        self.sales = Sales()
        self.first: float | None = None
        self.last: float | None = None

    def add(self, stored: StoredItem) -> None:
        """Count one item (and keep it whole while fewer than max_items are kept)."""
        doc, event = decode_doc(stored.body), event_name(stored)
        self.ids.append(stored.id)
        self.by_event[event] = self.by_event.get(event, 0) + 1
        self.sales.add(event, doc)
        self.first = self.first or stored.received_at
        self.last = stored.received_at
        if len(self.items) < self.rule.max_items:
            self.items.append(item_of(stored, doc, self.timezone))

    def envelope(self, sink: str, route: str, key: list[str], now: float) -> dict[str, Any]:
        """The digest's envelope (the body of its ``ponte.digest`` event)."""
        figures = self.sales.as_dict()
        rule = self.rule
        data = {
            "sink": sink,
            "route": route,
            "group_by": list(rule.group_by),
            "key": key,
            "count": len(self.ids),
            "by_event": self.by_event,
            "totals": {k: figures[k] for k in _TOTALS if figures[k]["count"]},
            "platforms": figures["platforms"],
            "items": self.items,
            "more": len(self.ids) - len(self.items),
            "first_at": iso(self.first),
            "last_at": iso(self.last),
            "timezone": self.timezone,
            "rule": {"wait": rule.wait, "interval": rule.interval, "max_items": rule.max_items},
        }
        doc_id = f"digest-{sink}-{self.ids[0]}" if self.ids else f"digest-{sink}"
        return {"id": doc_id, "event": DIGEST_EVENT, "sentDate": iso(now), "data": data}
