"""The ``Store`` protocol: what Ponte asks of its database, console queries included.

All SQL lives in the two implementations (``service.store.sqlite.store.SQLiteStore`` and
``service.store.postgres.store.PostgresStore``); the rest of Ponte calls these verbs
(``save_event``, ``claim_due``, ``record_attempt``, …) and gets the records of
``service.store.records`` back. ``service.store.open.open_store`` returns this type, so
mypy checks both backends against every method here.
"""

from __future__ import annotations

from typing import Protocol

from service.store.records import (
    AttemptResult,
    Claimed,
    DeliveryDetail,
    DeliveryRecord,
    DigestClose,
    DigestGroup,
    EventDetail,
    EventRecord,
    FailureGroup,
    Filter,
    NewDelivery,
    NewEvent,
    Page,
    ReportRun,
    Saved,
    StoredItem,
)


class Store(Protocol):
    """What Ponte asks of its database (``tests/test_store_contract.py`` checks every promise)."""

    claims_at_save: bool
    """True when ``save_event`` may store deliveries already ``sending``: claimed by this
    process as they are saved, so the worker sends them without a claim of its own
    (``service.delivery.handoff``). Only where one process owns every claim (SQLite);
    PostgreSQL's claims carry a replica and a lease, so it says False."""

    # --- life cycle, writes and the worker's verbs -----------------------------------

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

        Follow-ups, in the same commit: a ``scheduled`` delivery waits until ``due_at``; one
        whose ``cancel_key`` an event kept in the last 24 h cancels is stored ``cancelled``
        with that event's reason. The event's own ``cancels`` are kept for 24 h and cancel
        every ``scheduled`` delivery with those keys (status ``cancelled``, ``last_error``
        "cancelled by event #<id> <why>"); ``Saved.cancelled`` says how many. Lookups go by
        index on the key, never through the waiting rows.

        Deliveries given with status ``sending`` (only where ``claims_at_save``) are stored
        claimed, due now; ``Saved.sending`` has their ids in the order given. A crash
        before they are recorded leaves them to ``recover``, like any claim.
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
        """The earliest ``next_attempt_at`` of a pending delivery of these sinks or of a
        scheduled delivery of any sink, or None."""

    async def promote_due(self, now: float, limit: int) -> tuple[int, int]:
        """Make up to ``limit`` scheduled deliveries due at ``now`` ``pending`` (``disabled``
        while their sink is): claims never see a follow-up before this.

        Returns (made pending, of which more than a minute late). Safe to call from every
        replica at once: each delivery is made pending once. On PostgreSQL "now" is the
        earlier of ``now`` and the database's clock, so a fast clock cannot send early.
        """

    async def cancel_scheduled(self, keep: list[tuple[str, str]], reason: str) -> int:
        """Cancel every ``scheduled`` delivery whose (route, sink) is not in ``keep``, with
        ``reason`` as its ``last_error``; return how many (a reload removed their target)."""

    async def forget_cancellations(self, before: float) -> int:
        """Drop the kept cancelling keys of events received before ``before``; return how many."""

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
        (none pending, sending, disabled, grouped or scheduled).

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

    async def count_status(self, status: str, cap: int) -> int:
        """How many deliveries are in ``status``, up to ``cap``: the metrics' gauges, read on
        the service's own path (never queued behind the console's budgeted reads)."""

    # --- digests and reports (service.batches.scheduler and report_run) ---------------
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

    # --- the web console's bounded reads (tests/test_console_store.py) -----------------

    async def window_counts(self, since: float, cap: int) -> dict[str, int]:
        """Events received and deliveries succeeded/failed since ``since``; waiting and
        disabled now (keys: received, delivered, failed, waiting, disabled), each up to ``cap``."""

    async def hourly(self, since: float, cap: int) -> list[tuple[int, int, int]]:
        """Per hour since ``since``: (hour start, events received, dead letters), oldest first;
        the newest ``cap`` rows of each kind are counted."""

    async def sink_outcomes(self, since: float, cap: int) -> dict[str, tuple[int, int]]:
        """Per sink: deliveries (succeeded, failed) since ``since``, each kind up to ``cap``."""

    async def failure_groups(self, cap: int, limit: int) -> list[FailureGroup]:
        """The newest ``cap`` dead letters grouped by sink and error, largest group first."""

    async def scan_events(
        self, flt: Filter, contains: str | None, limit: int, cursor: str | None, scan: int
    ) -> Page[EventRecord]:
        """Events newest first matching ``flt`` (``status``: any of their deliveries has it)
        whose body contains ``contains``, looking at no more than ``scan`` events.

        ``next`` is where to go on from, even when the page came back short.
        """

    async def delivery_summary(self, event_ids: list[int]) -> dict[int, dict[str, int]]:
        """For each event: how many of its deliveries are in each status."""

    async def event_bodies(self, event_ids: list[int], max_bytes: int) -> dict[int, bytes]:
        """The raw body of each of these events that is at most ``max_bytes`` long (a bigger
        body, or a missing event, is absent): the console's one-line summaries."""

    async def count_deliveries(self, flt: Filter, cap: int) -> int:
        """How many deliveries match ``flt`` (what a bulk replay would touch), up to ``cap``."""

    # --- console sessions (service.ui.security) ----------------------------------------

    async def start_session(self, key: str, expires_at: float, now: float) -> None:
        """Record a console session until ``expires_at``; sessions expired by ``now`` go.

        Every process on this database sees it at once (replicas, and after a restart)."""

    async def session_open(self, key: str, now: float) -> bool:
        """Whether the session was started, not ended, and has not expired by ``now``."""

    async def end_session(self, key: str) -> None:
        """End a session (logout) for every process; an unknown key does nothing."""
