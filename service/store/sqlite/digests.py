"""SQL for digests and reports on SQLite: the queries and write jobs ``DigestVerbs`` runs.

Closing a digest is one transaction: the ``ponte.digest`` event, its delivery, and every
item turned from ``grouped`` to ``digested`` with the digest's id. A crash leaves either
all of it or none, so an item is never lost and never in two digests. A report period
is one ``report_runs`` row (primary key: report, period start), written in the same
transaction as the report's event and deliveries: a period is sent at most once.
"""

from __future__ import annotations

import sqlite3

import msgspec

from service.store.records import DigestClose, DigestGroup, NewEvent, ReportRun
from service.store.rows import DigestRace

_EVENT_IN = (
    "INSERT INTO events (source, external_id, event, sent_date, received_at, status, headers, "
    "schema_error, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
_DELIVERY_IN = (
    "INSERT INTO deliveries (event_id, sink, route, status, next_attempt_at, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"
)


def _insert_event(conn: sqlite3.Connection, ev: NewEvent) -> int:
    row = conn.execute(
        _EVENT_IN,
        (
            ev.source,
            ev.external_id,
            ev.event,
            ev.sent_date,
            ev.received_at,
            ev.status,
            msgspec.json.encode(ev.headers),
            ev.schema_error,
            ev.body,
        ),
    ).fetchone()
    return int(row[0])


def _insert_delivery(
    conn: sqlite3.Connection, event_id: int, sink: str, route: str, status: str, wall: float
) -> int:
    return int(
        conn.execute(_DELIVERY_IN, (event_id, sink, route, status, wall, wall, wall)).fetchone()[0]
    )


def groups(conn: sqlite3.Connection) -> list[DigestGroup]:
    """Every group with items waiting or a group row (merged)."""
    found: dict[tuple[str, str, str], DigestGroup] = {}
    for sink, route, digest, opened, due in conn.execute(
        "SELECT sink, route, digest, opened_at, due_at FROM digest_groups"
    ):
        found[(sink, route, digest)] = DigestGroup(sink, route, digest, 0, opened, due)
    for sink, route, digest, count in conn.execute(
        "SELECT sink, route, digest, COUNT(*) FROM deliveries INDEXED BY deliveries_grouped "
        "WHERE status = 'grouped' GROUP BY sink, route, digest"
    ):
        old = found.get((sink, route, digest)) or DigestGroup(sink, route, digest, 0)
        found[(sink, route, digest)] = DigestGroup(
            sink, route, digest, count, old.opened_at, old.due_at
        )
    return list(found.values())


def open_group(conn: sqlite3.Connection, g: DigestGroup, opened_at: float, due_at: float) -> None:
    """Create or reset a group's row (first item seen, or a clock that jumped back)."""
    conn.execute(
        "INSERT INTO digest_groups (sink, route, digest, opened_at, due_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (sink, route, digest) DO UPDATE SET opened_at = excluded.opened_at, "
        "due_at = excluded.due_at",
        (g.sink, g.route, g.digest, opened_at, due_at),
    )


def drop_group(conn: sqlite3.Connection, g: DigestGroup) -> None:
    """Forget a group whose interval passed with nothing new (unless items arrived meanwhile)."""
    conn.execute(
        "DELETE FROM digest_groups WHERE sink = ? AND route = ? AND digest = ? AND NOT EXISTS ("
        "SELECT 1 FROM deliveries WHERE sink = ? AND route = ? AND digest = ? "
        "AND status = 'grouped')",
        (g.sink, g.route, g.digest, g.sink, g.route, g.digest),
    )


# rows for ``service.store.rows.stored_items``
ITEMS_SQL = (
    "SELECT d.id, d.event_id, e.source, e.event, e.external_id, e.received_at, e.body "
    "FROM deliveries d INDEXED BY deliveries_grouped JOIN events e ON e.id = d.event_id "
    "WHERE d.sink = ? AND d.route = ? AND d.digest = ? AND d.status = 'grouped' AND d.id > ? "
    "ORDER BY d.id LIMIT ?"
)
EVENTS_SQL = (
    "SELECT id, id, source, event, external_id, received_at, body FROM events "
    "WHERE received_at >= ? AND received_at < ? AND status = 'accepted' AND id > ? "
    "ORDER BY id LIMIT ?"
)


def close(conn: sqlite3.Connection, c: DigestClose) -> int:
    """Commit one digest; return its delivery id. DigestRace (rolled back) if an item moved."""
    g = c.group
    event_id = _insert_event(conn, c.event)
    delivery_id = _insert_delivery(conn, event_id, g.sink, g.route, c.status, c.wall)
    moved = 0
    for start in range(0, len(c.item_ids), 500):
        chunk = c.item_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        moved += conn.execute(
            f"UPDATE deliveries SET status = 'digested', digest_id = ?, updated_at = ? "
            f"WHERE id IN ({marks}) AND status = 'grouped'",
            (delivery_id, c.wall, *chunk),
        ).rowcount
    if moved != len(c.item_ids):
        raise DigestRace(
            f"{len(c.item_ids) - moved} item(s) of a digest for {g.sink} changed meanwhile"
        )
    conn.execute(
        "UPDATE digest_groups SET due_at = ?, sent = sent + 1 WHERE sink = ? AND route = ? "
        "AND digest = ?",
        (c.next_due, g.sink, g.route, g.digest),
    )
    return delivery_id


def record_report(conn: sqlite3.Connection, run: ReportRun) -> int | None:
    """Store a report's event and deliveries; None if the period was sent already (0: marked)."""
    if run.scheduled:
        added = conn.execute(
            "INSERT INTO report_runs (report, period_start, period_end, ran_at, late) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (run.report, run.period_start, run.period_end, run.ran_at, int(run.late)),
        )
        if added.rowcount == 0:
            return None
    if run.event is None:
        return 0
    event_id = _insert_event(conn, run.event)
    for sink, status in run.deliveries:
        _insert_delivery(
            conn, event_id, sink, f"report:{run.report}", status, run.event.received_at
        )
    if run.scheduled:
        conn.execute(
            "UPDATE report_runs SET event_id = ? WHERE report = ? AND period_start = ?",
            (event_id, run.report, run.period_start),
        )
    return event_id
