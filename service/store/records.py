"""The records that cross the storage seam, the same for SQLite and PostgreSQL.

What goes in: ``NewEvent`` and its ``NewDelivery``s (``save_event``), an ``AttemptResult``
(``record_attempt``), a ``Filter`` for lists and bulk verbs, a ``DigestClose`` or a
``ReportRun`` to commit. What comes out: ``Saved``, ``Claimed`` deliveries to send, pages
of ``EventRecord``s and ``DeliveryRecord``s, an ``EventDetail`` or a ``DeliveryDetail`` with
its ``AttemptRecord``s, ``DigestGroup``s and their ``StoredItem``s, the console's
``FailureGroup``s. Read records carry times as ISO-8601 text (as the admin API shows them);
``service.operate.openapi`` derives the API's schemas from them, so the two cannot drift apart.
How rows become these records is in ``service.store.rows``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar, get_args

import msgspec

DeliveryStatus = Literal["pending", "sending", "succeeded", "failed", "disabled", "grouped", "digested",
                         "scheduled", "cancelled"]
DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)


# --- what goes in -------------------------------------------------------------------------


class Cancel(msgspec.Struct, frozen=True, gc=False):
    """A correlation key an event cancels, and the reason given (the event id goes first)."""

    key: str
    why: str


class NewEvent(msgspec.Struct, frozen=True, gc=False):
    """An authenticated event on its way into storage."""

    source: str
    external_id: str
    event: str
    sent_date: str | None
    received_at: float
    status: str
    headers: dict[str, str]
    body: bytes
    schema_error: str | None = None
    cancels: list[Cancel] = []  # the follow-ups this event cancels (service.routing.followups)


class NewDelivery(msgspec.Struct, frozen=True, gc=False):
    """A planned delivery: this event goes to ``sink`` because of ``route``."""

    sink: str
    route: str
    order_key: str | None = None
    status: str = "pending"  # "disabled" when the sink is disabled: it waits for enable;
    # "sending" when the worker took it at ingest (``claims_at_save`` stores only)
    digest: str | None = None  # with status "grouped": the digest key (service.batches.digests)
    due_at: float | None = None  # with status "scheduled": when it is due (a follow-up)
    cancel_key: str | None = None  # a follow-up's correlation key (service.routing.followups)


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt did, and what happens to the delivery next."""

    delivery_id: int
    started_at: float
    duration_ms: float
    outcome: str  # succeeded | retry | failed
    status: str  # the delivery's new status
    next_attempt_at: float
    status_code: int | None = None
    error: str | None = None
    response: str | None = None
    reset_tries: bool = False


@dataclass(frozen=True, slots=True)
class Filter:
    """Filters shared by the admin API and CLI lists; None means any."""

    source: str | None = None
    event: str | None = None  # a glob
    external_id: str | None = None
    status: str | None = None
    sink: str | None = None
    since: float | None = None
    until: float | None = None
    event_id: int | None = None
    route: str | None = None
    not_source: str | None = None  # events lists only: leave this source's events out
    sources: tuple[str, ...] | None = None  # one of these sources (the console's platform)


# --- what the writes and the worker get back ------------------------------------------------


class Saved(msgspec.Struct, frozen=True, gc=False):
    """The outcome of ``save_event``: the event's id, and whether it was already stored."""

    event_id: int
    duplicate: bool
    cancelled: int = 0  # scheduled follow-ups this event cancelled
    sending: tuple[int, ...] = ()  # ids of the deliveries stored ``sending`` (claimed at save), in order


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery claimed for sending, with what the sink needs."""

    id: int
    event_id: int
    sink: str
    route: str
    attempt_count: int
    tries: int
    source: str
    event: str
    external_id: str
    sent_date: str | None
    received_at: float
    body: bytes


# --- what the reads return (the admin API's JSON as they are) -------------------------------


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
    next_attempt_at: str | None  # only while pending or scheduled
    last_error: str | None
    event: str
    source: str
    external_id: str
    created_at: str
    updated_at: str
    due_at: str | None  # a follow-up's due time as planned (kept once sent or cancelled)


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


R = TypeVar("R", EventRecord, DeliveryRecord)


@dataclass(slots=True)
class Page(Generic[R]):
    """One page of a list (``EventRecord``s or ``DeliveryRecord``s) and the next one's cursor."""

    items: list[R] = field(default_factory=list)
    next: str | None = None


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Dead letters of one sink with one error: how many, and the newest one's id."""

    sink: str
    error: str | None
    count: int
    newest_id: int


# --- digests and reports --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """Items waiting under one digest key for one (sink, route), and the group's state."""

    sink: str
    route: str
    digest: str
    waiting: int
    opened_at: float | None = None  # None: no group row yet (the scheduler opens it)
    due_at: float | None = None


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A stored event (an item of a digest, or an event of a report period)."""

    id: int  # the item's delivery id for digests, the event id for reports
    event_id: int
    source: str
    event: str
    external_id: str
    received_at: float
    body: bytes


@dataclass(frozen=True, slots=True)
class DigestClose:
    """One digest to commit: its event, the item deliveries it takes, the group's next due."""

    group: DigestGroup
    item_ids: list[int]
    event: NewEvent
    next_due: float
    wall: float  # wall-clock time: the digest delivery is due at once
    status: str = "pending"  # "disabled" while its sink is disabled (it waits for enable)


@dataclass(frozen=True, slots=True)
class ReportRun:
    """One report period to send: its event and the sinks to send it to."""

    report: str
    period_start: float
    period_end: float
    ran_at: float
    late: bool
    event: NewEvent | None  # None: a period marked as not sent (it ended before the report existed)
    deliveries: list[tuple[str, str]]  # (sink, status)
    scheduled: bool = True  # False: on demand (``ponte report --send``), no report_runs row
