"""The SQLite store's write jobs: functions of a connection, run on the writer thread.

``SQLiteStore`` hands these to ``Writer.run``, which runs each in its own SAVEPOINT of a
shared transaction; ``SaveJob`` also saves a whole batch in a few multi-row statements.
The digest and report jobs are in ``digests.py``.
"""

from __future__ import annotations

import sqlite3
import time
from itertools import chain
from typing import Any

import msgspec
from msgspec.structs import replace

from service.store.records import AttemptResult, Claimed, NewDelivery, NewEvent, Saved
from service.store.sqlite.followups import apply_cancels, keep_cancels, row

_json = msgspec.json.encode
_CLAIMED_ROWS = """
SELECT d.id, d.event_id, d.sink, d.route, d.attempt_count, d.tries,
       e.source, e.event, e.external_id, e.sent_date, e.received_at, e.body
FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id IN ({ids})
ORDER BY d.tries > 0, d.next_attempt_at, d.id
"""

_EVENT_COLUMNS = "(source, external_id, event, sent_date, received_at, status, headers, schema_error, body)"
_DELIVERY_COLUMNS_IN = ("(event_id, sink, route, status, next_attempt_at, order_key, created_at, "
                       "updated_at, digest, due_at, cancel_key, last_error)")
_ROWS = 500  # rows per multi-row INSERT (12 parameters each, well under SQLite's limit)


class SaveJob:
    """Saving one event: alone (``__call__``) or with the rest of a batch (``many``)."""

    __slots__ = ("deliveries", "event", "row")

    def __init__(self, event: NewEvent, deliveries: list[NewDelivery]) -> None:
        self.event = event
        self.deliveries = deliveries
        # built by the caller (the event loop), so the writer thread holds the GIL less
        self.row = (event.source, event.external_id, event.event, event.sent_date, event.received_at,
                    event.status, _json(event.headers), event.schema_error, event.body)

    def __call__(self, conn: sqlite3.Connection) -> Saved:
        return self.many(conn, [self])[0]

    @staticmethod
    def many(conn: sqlite3.Connection, jobs: list[SaveJob]) -> list[Saved]:
        """Insert a batch's events in one statement per 500, then all their deliveries."""
        ids: dict[tuple[str, str, str], int] = {}
        for start in range(0, len(jobs), _ROWS):
            ids.update(_insert_events(conn, jobs[start:start + _ROWS]))
        saved: list[Saved] = []
        rows: list[tuple[object, ...]] = []
        owners: list[int] = []  # per row: the index in ``saved`` of its job if stored sending, else -1
        fresh = []
        kept: set[tuple[str, str, str]] = set()
        for job in jobs:  # cancelling keys first: a follow-up in this batch sees them
            if job.event.cancels and (key := job.key) in ids and key not in kept:
                kept.add(key)
                keep_cancels(conn, ids[key], job.event.received_at, job.event.cancels)
        for job in jobs:
            ev = job.event
            key = (ev.source, ev.external_id, ev.event)
            event_id = ids.pop(key, None)  # popped: a second copy in this batch is a duplicate
            if event_id is None:
                saved.append(_existing(conn, ev))
                continue
            t = ev.received_at
            rows += [row(conn, event_id, d, t) for d in job.deliveries]
            owners += [len(saved) if d.status == "sending" else -1 for d in job.deliveries]
            fresh.append((len(saved), event_id, ev))
            saved.append(Saved(event_id, duplicate=False))
        claimed: dict[int, list[int]] = {}
        for start in range(0, len(rows), _ROWS):
            chunk = rows[start:start + _ROWS]
            marks = ",".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            last = conn.execute(f"INSERT INTO deliveries {_DELIVERY_COLUMNS_IN} VALUES {marks}",
                                list(chain.from_iterable(chunk))).lastrowid
            assert last is not None
            first = last - len(chunk) + 1  # one writer: the chunk's ids, in order (as for events)
            for k, owner in enumerate(owners[start:start + _ROWS]):
                if owner >= 0:
                    claimed.setdefault(owner, []).append(first + k)
        for i, taken in claimed.items():
            saved[i] = replace(saved[i], sending=tuple(taken))
        for i, event_id, ev in fresh:  # then the follow-ups they cancel, in the same commit
            if ev.cancels:
                cancelled = apply_cancels(conn, event_id, ev.received_at, ev.cancels)
                saved[i] = replace(saved[i], cancelled=cancelled)
        return saved

    @property
    def key(self) -> tuple[str, str, str]:
        """The event's identity for duplicates: (source, external_id, event)."""
        return (self.event.source, self.event.external_id, self.event.event)


def _insert_events(conn: sqlite3.Connection, jobs: list[SaveJob]) -> dict[tuple[str, str, str], int]:
    """Insert the events not stored yet, in one statement; return their ids by key.

    Statements are few on purpose (each step of one hands the GIL over): one SELECT finds
    the keys already stored, one INSERT adds the rest. With one writer, SQLite gives the
    n new rows of one INSERT the n ids up to ``lastrowid``, in order (AUTOINCREMENT too).
    """
    keys = [row[:3] for row in (job.row for job in jobs)]
    stored = _stored_keys(conn, keys)
    fresh: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for key, job in zip(keys, jobs, strict=True):
        if key not in stored and key not in fresh:
            fresh[key] = job.row
    if not fresh:
        return {}
    marks = ",".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(fresh))
    args = list(chain.from_iterable(fresh.values()))
    last = conn.execute(f"INSERT INTO events {_EVENT_COLUMNS} VALUES {marks}", args).lastrowid
    assert last is not None
    first = last - len(fresh) + 1
    return {key: first + i for i, key in enumerate(fresh)}


def _stored_keys(conn: sqlite3.Connection, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    marks = ",".join(["(?, ?, ?)"] * len(keys))
    rows = conn.execute(  # a join, so each key is an index search (an IN (VALUES …) would scan)
        f"SELECT e.source, e.external_id, e.event FROM (VALUES {marks}) AS v JOIN events e "
        "ON e.source = v.column1 AND e.external_id = v.column2 AND e.event = v.column3",
        [v for key in keys for v in key],
    ).fetchall()
    return {(r[0], r[1], r[2]) for r in rows}


def _existing(conn: sqlite3.Connection, ev: NewEvent) -> Saved:
    row = conn.execute(
        "SELECT id FROM events WHERE source = ? AND external_id = ? AND event = ?",
        (ev.source, ev.external_id, ev.event),
    ).fetchone()
    return Saved(row[0], duplicate=True)


def probe(conn: sqlite3.Connection) -> None:
    """A write that changes nothing but still needs the disk (it rewrites one page)."""
    conn.execute("UPDATE schema_version SET version = version")


def claim(conn: sqlite3.Connection, sql: str, args: dict[str, Any]) -> list[Claimed]:
    """Run the claim UPDATE ``sql`` and read the claimed deliveries with their events."""
    ids = [r[0] for r in conn.execute(sql, args).fetchall()]
    if not ids:
        return []
    rows = conn.execute(_CLAIMED_ROWS.format(ids=",".join(map(str, ids)))).fetchall()
    # mypy cannot know a row's length: the 11 columns before the body are Claimed's fields
    return [Claimed(*r[:11], bytes(r[11])) for r in rows]  # type: ignore[call-arg]


_RECORD = ("UPDATE deliveries SET status = ?, attempt_count = attempt_count + 1, "
           "tries = CASE WHEN ? THEN 0 ELSE tries + 1 END, next_attempt_at = ?, last_error = ?, "
           "updated_at = ? WHERE id = ?")
# the attempt's number is the count just raised; a purged delivery has no row, so no attempt
_ATTEMPT = ("INSERT INTO attempts (delivery_id, number, started_at, duration_ms, outcome, "
            "status_code, error, response) SELECT id, attempt_count, ?, ?, ?, ?, ?, ? "
            "FROM deliveries WHERE id = ?")


class RecordJob:
    """Recording one attempt: alone (``__call__``) or with the others of a batch (``many``)."""

    __slots__ = ("attempt", "update")

    def __init__(self, r: AttemptResult) -> None:
        self.update = (r.status, r.reset_tries, r.next_attempt_at, r.error, time.time(), r.delivery_id)
        self.attempt = (r.started_at, r.duration_ms, r.outcome, r.status_code, r.error, r.response,
                        r.delivery_id)

    def __call__(self, conn: sqlite3.Connection) -> None:
        self.many(conn, [self])

    @staticmethod
    def many(conn: sqlite3.Connection, jobs: list[RecordJob]) -> list[None]:
        """Set every delivery's new state, then keep every attempt: two statements a batch."""
        conn.executemany(_RECORD, [job.update for job in jobs])
        conn.executemany(_ATTEMPT, [job.attempt for job in jobs])
        return [None] * len(jobs)


def reschedule(conn: sqlite3.Connection, where: str, args: list[Any], now: float,
                sinks: set[str]) -> tuple[int, int]:
    """Make the matching deliveries not ``sending`` pending at ``now``; (done, skipped)."""
    rows = conn.execute(
        f"SELECT d.id, d.sink FROM deliveries d JOIN events e ON e.id = d.event_id "
        f"WHERE {where} AND d.status != 'sending'", args
    ).fetchall()
    ids = [(now, now, r[0]) for r in rows if r[1] in sinks]
    conn.executemany(
        "UPDATE deliveries SET status = 'pending', tries = 0, next_attempt_at = ?, "
        "updated_at = ? WHERE id = ?", ids
    )
    return len(ids), len(rows) - len(ids)


# what purge deletes and count_purgeable counts: one rule for both
PURGEABLE = ("received_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d "
              "WHERE d.event_id = e.id AND d.status IN ('pending', 'sending', 'disabled', 'grouped', "
              "'scheduled'))")


def purge(conn: sqlite3.Connection, before: float, batch: int) -> int:
    """Delete up to ``batch`` purgeable events (their rows cascade); return how many."""
    ids = [r[0] for r in conn.execute(
        f"SELECT id FROM events e WHERE {PURGEABLE} LIMIT ?", (before, batch),
    ).fetchall()]
    conn.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in ids])
    return len(ids)
