"""The PostgreSQL store's digest and report verbs (mixed into ``PostgresStore``).

The same semantics as SQLite's (``sqlite/digest_verbs.py``, ``sqlite/digests.py``), safe with replicas:

- closing a digest is one transaction that first locks the group's row, then turns the
  items from ``grouped`` to ``digested``; a second replica closing the same group waits for
  the lock, finds the items taken (``status = 'grouped'`` re-checked on the locked rows) and
  rolls back: an item is never in two digests;
- a report period is a ``report_runs`` row (primary key: report, period start) inserted in
  the same transaction as the report's event: the period is sent once, cluster-wide.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg

from service.store.postgres.reads import Conn, Reads
from service.store.records import DigestClose, DigestGroup, NewEvent, ReportRun, StoredItem
from service.store.rows import DigestRace, stored_items

_GROUP_ROWS = "SELECT sink, route, digest, opened_at, due_at FROM digest_groups"
_WAITING = ("SELECT sink, route, digest, COUNT(*) FROM deliveries WHERE status = 'grouped' "
            "GROUP BY sink, route, digest")
_OPEN = """
INSERT INTO digest_groups (sink, route, digest, opened_at, due_at) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (sink, route, digest) DO UPDATE SET opened_at = EXCLUDED.opened_at,
    due_at = EXCLUDED.due_at
"""
_DROP = """
DELETE FROM digest_groups g WHERE g.sink = %s AND g.route = %s AND g.digest = %s AND NOT EXISTS (
    SELECT 1 FROM deliveries d WHERE d.sink = g.sink AND d.route = g.route
    AND d.digest = g.digest AND d.status = 'grouped')
"""
_ITEMS = """
SELECT d.id, d.event_id, e.source, e.event, e.external_id, e.received_at, e.body
FROM deliveries d JOIN events e ON e.id = d.event_id
WHERE d.sink = %s AND d.route = %s AND d.digest = %s AND d.status = 'grouped' AND d.id > %s
ORDER BY d.id LIMIT %s
"""
_EVENTS = """
SELECT id, id, source, event, external_id, received_at, body FROM events
WHERE received_at >= %s AND received_at < %s AND status = 'accepted' AND id > %s
ORDER BY id LIMIT %s
"""
_LOCK_GROUP = ("SELECT 1 FROM digest_groups WHERE sink = %s AND route = %s AND digest = %s "
               "FOR UPDATE")
_TAKE = """
UPDATE deliveries SET status = 'digested', digest_id = %s, updated_at = %s
WHERE id = ANY(%s) AND status = 'grouped'
"""
_SENT = ("UPDATE digest_groups SET due_at = %s, sent = sent + 1 "
         "WHERE sink = %s AND route = %s AND digest = %s")
_EVENT_IN = """
INSERT INTO events (source, external_id, event, sent_date, received_at, status, headers,
                    schema_error, body)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
"""
# a sink disabled meanwhile (by any replica) gets its delivery as 'disabled', as ingest does
_DELIVERY_IN = """
INSERT INTO deliveries (event_id, sink, route, status, next_attempt_at, created_at, updated_at)
SELECT %(event)s, %(sink)s, %(route)s,
       CASE WHEN s.disabled AND %(status)s = 'pending' THEN 'disabled' ELSE %(status)s END,
       %(t)s, %(t)s, %(t)s
FROM (VALUES (1)) AS one LEFT JOIN sink_state s ON s.sink = %(sink)s
RETURNING id, status
"""
_RUN_IN = """
INSERT INTO report_runs (report, period_start, period_end, ran_at, late) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING RETURNING report
"""
_RUN_EVENT = "UPDATE report_runs SET event_id = %s WHERE report = %s AND period_start = %s"


class PgDigestVerbs(Reads):
    """Digest groups, closing digests, report runs, and reading events by time."""

    async def digest_groups(self) -> list[DigestGroup]:
        """Groups with items waiting, and group rows (merged)."""
        found: dict[tuple[str, str, str], DigestGroup] = {}
        for sink, route, digest, opened, due in await self._all(_GROUP_ROWS, []):
            found[(sink, route, digest)] = DigestGroup(sink, route, digest, 0, opened, due)
        for sink, route, digest, count in await self._all(_WAITING, []):
            old = found.get((sink, route, digest)) or DigestGroup(sink, route, digest, 0)
            found[(sink, route, digest)] = DigestGroup(
                sink, route, digest, int(count), old.opened_at, old.due_at)
        return list(found.values())

    async def open_digest_group(self, group: DigestGroup, opened_at: float, due_at: float) -> None:
        """Start (or restart) a group's clock."""
        g = group
        await self._count(_OPEN, (g.sink, g.route, g.digest, opened_at, due_at))

    async def drop_digest_group(self, group: DigestGroup) -> None:
        """Forget a group that has nothing waiting (unless items arrived meanwhile)."""
        await self._count(_DROP, (group.sink, group.route, group.digest))

    async def digest_items(self, group: DigestGroup, after_id: int, limit: int) -> list[StoredItem]:
        """Up to ``limit`` waiting items of a group, oldest first, after item ``after_id``."""
        args = (group.sink, group.route, group.digest, after_id, limit)
        return stored_items(await self._all(_ITEMS, args))

    async def close_digest(self, close: DigestClose) -> int | None:
        """Commit one digest; its delivery id, or None if an item changed meanwhile (redo later)."""
        try:
            async with self._conn() as conn, conn.transaction():
                return await _close(conn, close)
        except (DigestRace, psycopg.errors.UniqueViolation):
            return None

    async def events_between(
        self, since: float, until: float, after_id: int, limit: int
    ) -> list[StoredItem]:
        """Accepted events received in [since, until), by id, one page at a time."""
        return stored_items(await self._all(_EVENTS, (since, until, after_id, limit)))

    async def last_report(self, report: str) -> float | None:
        """The start of the latest period recorded for ``report`` (None: it never ran)."""
        row = await self._one("SELECT MAX(period_start) FROM report_runs WHERE report = %s", (report,))
        return None if row is None else row[0]

    async def record_report(self, run: ReportRun) -> int | None:
        """Store a report's event and deliveries; None if its period was already sent."""
        async with self._conn() as conn, conn.transaction():
            return await _record_report(conn, run)


async def _close(conn: Conn, c: DigestClose) -> int:
    """The digest's rows; DigestRace (the caller's transaction rolls back) if an item moved."""
    g = c.group
    await conn.execute(_LOCK_GROUP, (g.sink, g.route, g.digest))
    event_id = await _insert_event(conn, c.event)
    delivery_id = await _insert_delivery(conn, event_id, g.sink, g.route, c.status, c.wall)
    cur = await conn.execute(_TAKE, (delivery_id, c.wall, list(c.item_ids)))
    if cur.rowcount != len(c.item_ids):
        raise DigestRace(
            f"{len(c.item_ids) - cur.rowcount} item(s) of a digest for {g.sink} changed meanwhile")
    await conn.execute(_SENT, (c.next_due, g.sink, g.route, g.digest))
    return delivery_id


async def _record_report(conn: Conn, run: ReportRun) -> int | None:
    if run.scheduled:
        cur = await conn.execute(
            _RUN_IN, (run.report, run.period_start, run.period_end, run.ran_at, run.late))
        if await cur.fetchone() is None:
            return None
    if run.event is None:
        return 0
    event_id = await _insert_event(conn, run.event)
    for sink, status in run.deliveries:
        await _insert_delivery(conn, event_id, sink, f"report:{run.report}", status,
                               run.event.received_at)
    if run.scheduled:
        await conn.execute(_RUN_EVENT, (event_id, run.report, run.period_start))
    return event_id


async def _insert_event(conn: Conn, ev: NewEvent) -> int:
    cur = await conn.execute(_EVENT_IN, (
        _text(ev.source), _text(ev.external_id), _text(ev.event), _text(ev.sent_date),
        ev.received_at, ev.status, msgspec.json.encode(ev.headers).decode(),
        _text(ev.schema_error), ev.body))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def _insert_delivery(conn: Conn, event_id: int, sink: str, route: str, status: str,
                           wall: float) -> int:
    args: dict[str, Any] = {"event": event_id, "sink": sink, "route": route, "status": status,
                            "t": wall}
    cur = await conn.execute(_DELIVERY_IN, args)
    row = await cur.fetchone()
    assert row is not None
    if row[1] == "pending":
        await conn.execute("SELECT pg_notify('ponte', current_schema() || ' work')")
    return int(row[0])


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL: it becomes U+FFFD (as ``PostgresStore.save_event``)."""
    return value.replace("\x00", "\ufffd") if value is not None and "\x00" in value else value
