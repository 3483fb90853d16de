"""From database rows to records, for both backends: row readers, pages, the digest race.

Rows are read by column name (SQLite's ``Row`` and psycopg's dict rows alike), except the
digest items, read by position. Lists fetch ``limit + 1`` rows, and ``page_of`` turns them
into one ``Page`` with the next one's cursor; the console's bounded event scan turns its
rows into a page with ``scanned_page``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from service.store.records import (
    AttemptRecord,
    DeliveryDetail,
    DeliveryRecord,
    EventDetail,
    EventRecord,
    Page,
    R,
    StoredItem,
)
from service.timeparse import iso


class Row(Protocol):
    """A result row whose columns are read by name."""

    def __getitem__(self, key: str, /) -> Any: ...


class Positional(Protocol):
    """A result row whose columns are read by position."""

    def __getitem__(self, index: int, /) -> Any: ...


class DigestRace(Exception):
    """An item changed while its digest was being closed; the close is undone and redone later."""


def _when(ts: float) -> str:
    text = iso(ts)
    assert text is not None
    return text


def event_record(r: Row) -> EventRecord:
    """An ``events`` row (id, source, external_id, event, sent_date, received_at, status,
    schema_error) as an ``EventRecord``."""
    return EventRecord(
        event_id=r["id"], source=r["source"], external_id=r["external_id"], event=r["event"],
        sent_date=r["sent_date"], received_at=_when(r["received_at"]), status=r["status"],
        schema_error=r["schema_error"],
    )


def event_detail(r: Row, deliveries: list[DeliveryDetail]) -> EventDetail:
    """A whole ``events`` row (``SELECT *``) with its deliveries."""
    return EventDetail(
        **msgspec.structs.asdict(event_record(r)),
        headers=msgspec.json.decode(r["headers"]),
        body=bytes(r["body"]).decode("utf-8", errors="replace"),
        deliveries=deliveries,
    )


_WAITING = ("pending", "scheduled")


def delivery_record(r: Row) -> DeliveryRecord:
    """A row of the delivery columns (``d.*`` with ``e.event, e.source, e.external_id``)."""
    return DeliveryRecord(
        id=r["id"], event_id=r["event_id"], sink=r["sink"], route=r["route"], status=r["status"],
        attempt_count=r["attempt_count"],
        next_attempt_at=iso(r["next_attempt_at"]) if r["status"] in _WAITING else None,
        last_error=r["last_error"], event=r["event"], source=r["source"],
        external_id=r["external_id"], created_at=_when(r["created_at"]),
        updated_at=_when(r["updated_at"]), due_at=iso(r["due_at"]),
    )


def delivery_detail(
    delivery: DeliveryRecord,
    attempts: list[AttemptRecord],
    digest_events: list[int] | msgspec.UnsetType = msgspec.UNSET,
) -> DeliveryDetail:
    """A listed delivery with its attempts (and a digest's events)."""
    return DeliveryDetail(
        **msgspec.structs.asdict(delivery), attempts=attempts, digest_events=digest_events
    )


def attempt_record(r: Row) -> AttemptRecord:
    """An ``attempts`` row (number, started_at, duration_ms, outcome, status_code, error, response)."""
    return AttemptRecord(
        number=r["number"], started_at=_when(r["started_at"]),
        duration_ms=round(r["duration_ms"], 1), outcome=r["outcome"],
        status_code=r["status_code"], error=r["error"], response=r["response"],
    )


def stored_items(rows: Sequence[Positional]) -> list[StoredItem]:
    """Rows of (id, event_id, source, event, external_id, received_at, body) as records: a
    digest's items (the id is the item's delivery) or a report period's events."""
    return [StoredItem(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6])) for r in rows]


def page_of(items: list[R], limit: int) -> Page[R]:
    """The first ``limit`` of ``items`` (up to ``limit + 1`` fetched, newest first) as a page;
    ``next`` is the last one's id when there are more."""
    if len(items) > limit:
        last = items[limit - 1]
        return Page(items[:limit], str(last.event_id if isinstance(last, EventRecord) else last.id))
    return Page(items, None)


def scanned_page(rows: Sequence[Any], limit: int, scan: int) -> Page[EventRecord]:
    """A page of the scanned event rows whose ``hit`` is true; ``next`` goes on from where the
    page ended, or from the last row scanned when the scan stopped at ``scan`` rows."""
    items: list[EventRecord] = []
    for row in rows:
        if row["hit"]:
            items.append(event_record(row))
            if len(items) == limit:
                return Page(items, str(row["id"]))
    more = len(rows) == scan
    return Page(items, str(rows[-1]["id"]) if more else None)
