"""The SQLite store's follow-up jobs (run on the writer thread, like ``jobs.py``).

A cancelling event's keys are kept in ``cancellations`` and cancel the scheduled
deliveries that carry them; a follow-up planned later finds a key kept there (up to
``CANCEL_WINDOW`` older) and is stored ``cancelled`` at once. Due follow-ups become
``pending`` (``disabled`` while their sink is) in ``promote``; claims never see them before.
"""

from __future__ import annotations

import sqlite3

from service.store.followups import CANCEL_WINDOW, LATE, reason
from service.store.records import Cancel, NewDelivery

_CANCEL = ("UPDATE deliveries SET status = 'cancelled', last_error = ?, updated_at = ? "
           "WHERE cancel_key = ? AND status = 'scheduled'")
_EARLIER = ("SELECT reason FROM cancellations INDEXED BY cancellations_key "
            "WHERE key = ? AND received_at >= ? ORDER BY received_at DESC LIMIT 1")
_PROMOTE = """
UPDATE deliveries SET updated_at = :now,
       status = CASE WHEN EXISTS (SELECT 1 FROM sink_state s WHERE s.sink = deliveries.sink
                                  AND s.disabled) THEN 'disabled' ELSE 'pending' END
WHERE id IN (SELECT id FROM deliveries INDEXED BY deliveries_scheduled
             WHERE status = 'scheduled' AND next_attempt_at <= :now
             ORDER BY next_attempt_at, id LIMIT :limit)
RETURNING next_attempt_at
"""


def keep_cancels(conn: sqlite3.Connection, event_id: int, t: float, cancels: list[Cancel]) -> None:
    """Remember an event's keys, for follow-ups planned after it."""
    conn.executemany("INSERT INTO cancellations (key, event_id, received_at, reason) VALUES (?, ?, ?, ?)",
                     [(c.key, event_id, t, reason(event_id, c.why)) for c in cancels])


def apply_cancels(conn: sqlite3.Connection, event_id: int, t: float, cancels: list[Cancel]) -> int:
    """Cancel the scheduled deliveries with the event's keys; return how many."""
    return sum(conn.execute(_CANCEL, (reason(event_id, c.why), t, c.key)).rowcount for c in cancels)


def row(conn: sqlite3.Connection, event_id: int, d: NewDelivery, t: float) -> tuple[object, ...]:
    """A delivery's INSERT values; a follow-up whose key was cancelled already is ``cancelled``."""
    status, error = d.status, None
    if d.status == "scheduled" and d.cancel_key is not None:
        found = conn.execute(_EARLIER, (d.cancel_key, t - CANCEL_WINDOW)).fetchone()
        if found is not None:
            status, error = "cancelled", found[0]
    due = d.due_at if d.due_at is not None else t
    return (event_id, d.sink, d.route, status, due, d.order_key, t, t, d.digest, d.due_at,
            d.cancel_key, error)


def promote(conn: sqlite3.Connection, now: float, limit: int) -> tuple[int, int]:
    """Make up to ``limit`` due follow-ups pending; return (how many, how many were late)."""
    dues = [r[0] for r in conn.execute(_PROMOTE, {"now": now, "limit": limit}).fetchall()]
    return len(dues), sum(1 for due in dues if now - due > LATE)


def cancel_others(conn: sqlite3.Connection, keep: list[tuple[str, str]], why: str, now: float) -> int:
    """Cancel scheduled deliveries whose (route, sink) is not in ``keep``; return how many.

    One statement over the scheduled rows' index: a million scheduled follow-ups are not
    read into memory at every start and reload (that cost 220 MiB of peak RSS)."""
    kept = " AND NOT (route = ? AND sink = ?)" * len(keep)
    sql = ("UPDATE deliveries SET status = 'cancelled', last_error = ?, updated_at = ? "
           "WHERE id IN (SELECT id FROM deliveries INDEXED BY deliveries_scheduled "
           f"WHERE status = 'scheduled'{kept})")
    return conn.execute(sql, [why, now, *(v for pair in keep for v in pair)]).rowcount
