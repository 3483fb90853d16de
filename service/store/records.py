"""What the store's reads return: typed records, encoded as the admin API's JSON as they are.

``list_events`` gives ``EventRecord``s, ``get_event`` an ``EventDetail``; ``list_deliveries``
gives ``DeliveryRecord``s, ``get_delivery`` a ``DeliveryDetail`` with its ``AttemptRecord``s.
Times are ISO-8601 text (as the API shows them). ``service.openapi`` derives the API's
schemas from these classes, so the document and the answers cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

from service.timeparse import iso

DeliveryStatus = Literal["pending", "sending", "succeeded", "failed", "disabled", "grouped", "digested"]


class AttemptRecord(msgspec.Struct, frozen=True, gc=False):
    """One try of a delivery."""

    number: int
    started_at: str
    duration_ms: float
    outcome: str  # succeeded | retry | failed
    status_code: int | None
    error: str | None
    response: str | None


class DeliveryRecord(msgspec.Struct, frozen=True, gc=False):
    """A delivery as lists show it, with its event's name, source and id at the sender."""

    id: int
    event_id: int
    sink: str
    route: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: str | None  # only while pending
    last_error: str | None
    event: str
    source: str
    external_id: str
    created_at: str
    updated_at: str


class DeliveryDetail(DeliveryRecord, frozen=True, gc=False):
    """One delivery with every attempt; a digest's delivery also names the events it carried."""

    attempts: list[AttemptRecord]
    digest_events: list[int] | msgspec.UnsetType = msgspec.UNSET


class EventRecord(msgspec.Struct, frozen=True, gc=False):
    """An event as lists show it."""

    event_id: int
    source: str
    external_id: str
    event: str
    sent_date: str | None
    received_at: str
    status: str
    schema_error: str | None


class EventDetail(EventRecord, frozen=True, gc=False):
    """One event with its headers, raw body (as text), deliveries and their attempts."""

    headers: dict[str, str]
    body: str
    deliveries: list[DeliveryDetail]


# --- from database rows, by column name (SQLite's Row and psycopg's dict rows alike) ----


class Row(Protocol):
    """A result row whose columns are read by name."""

    def __getitem__(self, key: str, /) -> Any: ...


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


def delivery_record(r: Row) -> DeliveryRecord:
    """A row of the delivery columns (``d.*`` with ``e.event, e.source, e.external_id``)."""
    return DeliveryRecord(
        id=r["id"], event_id=r["event_id"], sink=r["sink"], route=r["route"], status=r["status"],
        attempt_count=r["attempt_count"],
        next_attempt_at=iso(r["next_attempt_at"]) if r["status"] == "pending" else None,
        last_error=r["last_error"], event=r["event"], source=r["source"],
        external_id=r["external_id"], created_at=_when(r["created_at"]),
        updated_at=_when(r["updated_at"]),
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
