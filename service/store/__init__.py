"""The storage seam: plain records and the ``Store`` protocol; SQLite now, PostgreSQL later.

All SQL lives in the implementations; the rest of Ponte calls verbs (``save_event``,
``claim_due``, ``record_attempt``) and gets these records back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, get_args

import msgspec

from service.store.records import (
    AttemptRecord,
    DeliveryDetail,
    DeliveryRecord,
    DeliveryStatus,
    EventDetail,
    EventRecord,
)

if TYPE_CHECKING:
    from service.store.sqlite.digests import DigestClose, DigestGroup, ReportRun, StoredItem

__all__ = ["AttemptRecord", "DeliveryDetail", "DeliveryRecord", "EventDetail", "EventRecord"]

DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)


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


class NewDelivery(msgspec.Struct, frozen=True, gc=False):
    """A planned delivery: this event goes to ``sink`` because of ``route``."""

    sink: str
    route: str
    order_key: str | None = None
    status: str = "pending"  # "disabled" when the sink is disabled: it waits for enable
    digest: str | None = None  # with status "grouped": the digest key (service.digests)


class Saved(msgspec.Struct, frozen=True, gc=False):
    """The outcome of ``save_event``: the event's id, and whether it was already stored."""

    event_id: int
    duplicate: bool


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


R = TypeVar("R", EventRecord, DeliveryRecord)


@dataclass(slots=True)
class Page(Generic[R]):
    """One page of a list (``EventRecord``s or ``DeliveryRecord``s) and the next one's cursor."""

    items: list[R] = field(default_factory=list)
    next: str | None = None


class Store(Protocol):
    """What Ponte asks of its database (``tests/test_store_contract.py`` checks every promise)."""

    async def open(self) -> None:
        """Connect, create or upgrade the schema; refuse a schema newer than this code."""

    async def close(self) -> None:
        """Finish queued writes and close every connection; later calls raise StorageUnavailable."""

    async def ping(self) -> None:
        """Return if the database answers a query, else raise StorageUnavailable."""

    async def save_event(self, event: NewEvent, deliveries: list[NewDelivery]) -> Saved:
        """Commit the event and its deliveries together; return once durable.

        An event whose (source, external_id, event) is stored already is not stored again
        and gets no deliveries: the original's id comes back with ``duplicate=True``.
        Ids grow and are never reused. Raises StorageUnavailable when nothing was stored.
        """

    async def recover(self) -> int:
        """At start: put claims abandoned by a dead process back to ``pending``; return how many.

        Never takes back a claim a live process still holds (on PostgreSQL: its lease).
        """

    async def claim_due(self, sink: str, now: float, limit: int, ordered: bool) -> list[Claimed]:
        """Move up to ``limit`` due pending deliveries of ``sink`` to ``sending`` and return them.

        Due means ``next_attempt_at <= now``; first tries come before retries, then oldest
        first. A delivery is claimed by one caller at a time. ``ordered``: a delivery waits
        while an earlier one with the same order key is pending or sending.
        """

    async def record_attempt(self, result: AttemptResult) -> None:
        """Keep the attempt and set the delivery's status, next time and counters, together.

        ``attempt_count`` counts every attempt; ``tries`` counts since the last reschedule
        (``reset_tries`` restarts it). A delivery that no longer exists is ignored.
        """

    async def release(self, delivery_ids: list[int]) -> None:
        """Give claimed (``sending``) deliveries back as ``pending`` without counting an attempt."""

    async def next_due(self, sinks: list[str]) -> float | None:
        """The earliest ``next_attempt_at`` of a pending delivery of these sinks, or None."""

    async def list_events(self, flt: Filter, limit: int, cursor: str | None) -> Page[EventRecord]:
        """Events matching ``flt`` (``event`` is a glob), newest first, ``limit`` a page."""

    async def get_event(self, event_id: int) -> EventDetail | None:
        """An event with its raw body, headers, deliveries and their attempts; None if absent."""

    async def list_deliveries(
        self, flt: Filter, limit: int, cursor: str | None
    ) -> Page[DeliveryRecord]:
        """Deliveries matching ``flt``, newest first, ``limit`` a page."""

    async def get_delivery(self, delivery_id: int) -> DeliveryDetail | None:
        """One delivery with its attempts; None if absent."""

    async def reschedule(self, flt: Filter, now: float, sinks: set[str]) -> tuple[int, int]:
        """Make matching deliveries not ``sending`` pending at ``now`` with ``tries`` = 0.

        Those of sinks not in ``sinks`` are skipped. Returns (rescheduled, skipped).
        """

    async def set_sink_disabled(self, sink: str, disabled: bool, reason: str | None) -> int:
        """Store the sink's flag; its pending deliveries become ``disabled`` (or back again).

        Returns how many deliveries changed status.
        """

    async def sink_states(self) -> dict[str, tuple[bool, str | None]]:
        """Every stored sink flag: name -> (disabled, reason)."""

    async def backlog(self) -> list[tuple[str, int, float | None]]:
        """Per sink with work left: (sink, pending + sending, oldest ``created_at``)."""

    async def purge(self, before: float, batch: int) -> int:
        """Delete up to ``batch`` events received before ``before`` whose deliveries are done
        (none pending, sending, disabled or grouped).

        Their deliveries and attempts go with them. Returns how many events were deleted.
        """

    async def dead_letters(self) -> dict[str, int]:
        """Per sink: how many deliveries are ``failed`` (the dead letters); sinks with none absent."""

    async def count_purgeable(self, before: float) -> int:
        """How many events ``purge`` would delete for ``before`` (a dry run; nothing changes)."""

    async def size_bytes(self) -> int:
        """How many bytes the database takes."""

    async def counts(self) -> dict[str, int]:
        """Deliveries by status (statuses with none are absent)."""

    # digests and reports (records in service.store.digests)
    async def digest_groups(self) -> list[DigestGroup]: ...
    async def open_digest_group(
        self, group: DigestGroup, opened_at: float, due_at: float
    ) -> None: ...
    async def drop_digest_group(self, group: DigestGroup) -> None: ...
    async def digest_items(
        self, group: DigestGroup, after_id: int, limit: int
    ) -> list[StoredItem]: ...
    async def close_digest(self, close: DigestClose) -> int | None: ...
    async def events_between(
        self, since: float, until: float, after_id: int, limit: int
    ) -> list[StoredItem]: ...
    async def last_report(self, report: str) -> float | None: ...
    async def record_report(self, run: ReportRun) -> int | None: ...


def open_store(url: str, *, exclusive: bool = False, lease: float = 30.0) -> Store:
    """The Store for a ``storage.url``; ``exclusive`` for a serving process (with a worker).

    SQLite: one serving process per file (a lock file). PostgreSQL: any number of them;
    ``lease`` is how long a claim stays theirs without renewal.
    """
    if url.startswith(("postgresql://", "postgres://")):
        from service.store.postgres.store import PostgresStore

        return PostgresStore(url, exclusive=exclusive, lease=lease)
    from service.store.sqlite.store import SQLiteStore

    return SQLiteStore(url.removeprefix("sqlite:///"), exclusive=exclusive)
