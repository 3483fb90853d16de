"""The PostgreSQL store's SQL: statements and the filter clauses of the admin lists.

Times are unix seconds in ``DOUBLE PRECISION`` (as in SQLite). Leases and the shared rate
limit use the database's clock (``_NOW``), so replicas with skewed clocks still agree.
"""

from __future__ import annotations

import re
from typing import Any

from service.store.records import Filter

NOW = "extract(epoch FROM clock_timestamp())::float8"

NOTIFY = "SELECT pg_notify('ponte', current_schema() || ' ' || %s)"

# one statement (one round trip, its own transaction): the event, its deliveries, the wake-up.
# A disabled sink's deliveries wait as 'disabled' whatever this replica believed. No row
# comes back when the key is stored already (maybe by another replica this instant).
SAVE = """
WITH ev AS (
    INSERT INTO events (source, external_id, event, sent_date, received_at, status, headers,
                        schema_error, body)
    VALUES (%(source)s, %(external_id)s, %(event)s, %(sent_date)s, %(t)s, %(status)s,
            %(headers)s, %(schema_error)s, %(body)s)
    ON CONFLICT (source, external_id, event) DO NOTHING
    RETURNING id
), d AS (
    INSERT INTO deliveries (event_id, sink, route, status, next_attempt_at, order_key,
                            created_at, updated_at, digest, due_at, cancel_key, last_error)
    SELECT ev.id, v.sink, v.route,
           CASE WHEN v.status = 'scheduled' AND c.reason IS NOT NULL THEN 'cancelled'
                WHEN s.disabled AND v.status = 'pending' THEN 'disabled' ELSE v.status END,
           COALESCE(v.due_at, %(t)s), v.order_key, %(t)s, %(t)s, v.digest, v.due_at,
           v.cancel_key, CASE WHEN v.status = 'scheduled' THEN c.reason END
    FROM ev, unnest(%(sinks)s::text[], %(routes)s::text[], %(statuses)s::text[],
                    %(keys)s::text[], %(digests)s::text[], %(dues)s::float8[],
                    %(ckeys)s::text[]) AS v (sink, route, status, order_key, digest, due_at, cancel_key)
    LEFT JOIN sink_state s ON s.sink = v.sink
    LEFT JOIN LATERAL (  -- a cancelling event that came first (up to a day before)
        SELECT x.reason FROM cancellations x
        WHERE v.status = 'scheduled' AND x.key = v.cancel_key AND x.received_at >= %(t)s - 86400
        ORDER BY x.received_at DESC LIMIT 1) AS c ON true
    RETURNING status
), kept AS (
    INSERT INTO cancellations (key, event_id, received_at, reason)
    SELECT k.key, ev.id, %(t)s, 'cancelled by event #' || ev.id || ' ' || k.why
    FROM ev, unnest(%(cancel_keys)s::text[], %(whys)s::text[]) AS k (key, why)
), cancelled AS (
    UPDATE deliveries x SET status = 'cancelled', updated_at = %(t)s,
           last_error = 'cancelled by event #' || ev.id || ' ' || k.why
    FROM ev, unnest(%(cancel_keys)s::text[], %(whys)s::text[]) AS k (key, why)
    WHERE x.cancel_key = k.key AND x.status = 'scheduled'
    RETURNING x.id
), wake AS (
    SELECT pg_notify('ponte', current_schema() || ' work')
    WHERE EXISTS (SELECT 1 FROM d WHERE status IN ('pending', 'scheduled'))
)
SELECT ev.id, (SELECT COUNT(*) FROM wake), (SELECT COUNT(*) FROM cancelled) FROM ev
"""
# run before a batch's saves, in its transaction: the correlation keys they read or cancel,
# locked in one order, so a follow-up and its cancelling event saved at once by two
# replicas are serialised (the later one's statement sees the other's rows)
LOCK_KEYS = "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k"
FIND = "SELECT id FROM events WHERE source = %s AND external_id = %s AND event = %s"

CLAIM = f"""
WITH picked AS (
    SELECT d.id FROM deliveries d
    WHERE d.sink = %(sink)s AND d.status = 'pending' AND d.next_attempt_at <= %(now)s {{ordered}}
      AND NOT EXISTS (SELECT 1 FROM sink_state s WHERE s.sink = d.sink AND s.disabled)
    ORDER BY d.tries > 0, d.next_attempt_at, d.id
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries d SET status = 'sending', updated_at = %(now)s, claimed_by = %(owner)s,
       lease_until = {NOW} + %(lease)s
FROM picked, events e
WHERE d.id = picked.id AND e.id = d.event_id
RETURNING d.id, d.event_id, d.sink, d.route, d.attempt_count, d.tries, e.source, e.event,
          e.external_id, e.sent_date, e.received_at, e.body, d.next_attempt_at
"""
# one in flight per key, cluster-wide: an earlier delivery of the key not yet done blocks it
ORDERED = """AND NOT EXISTS (
        SELECT 1 FROM deliveries p WHERE p.sink = d.sink AND p.order_key = d.order_key
        AND p.id < d.id AND p.status IN ('pending', 'sending'))"""

# the delivery's new state and its attempt, in one statement (nothing if it was purged)
RECORD = """
WITH d AS (
    UPDATE deliveries SET status = %(status)s, attempt_count = attempt_count + 1,
           tries = CASE WHEN %(reset)s THEN 0 ELSE tries + 1 END, next_attempt_at = %(next)s,
           last_error = %(error)s, updated_at = %(now)s, claimed_by = NULL, lease_until = NULL
    WHERE id = %(id)s RETURNING id, attempt_count
)
INSERT INTO attempts (delivery_id, number, started_at, duration_ms, outcome, status_code,
                      error, response)
SELECT d.id, d.attempt_count, %(started)s, %(ms)s, %(outcome)s, %(code)s, %(error)s, %(response)s
FROM d
RETURNING delivery_id
"""
RELEASE = """
UPDATE deliveries SET status = 'pending', claimed_by = NULL, lease_until = NULL
WHERE id = ANY(%s) AND status = 'sending'
"""
# claims whose lease ran out (their replica died or hung) go back to pending
REAP = f"""
UPDATE deliveries SET status = 'pending', claimed_by = NULL, lease_until = NULL, updated_at = %s
WHERE status = 'sending' AND (lease_until IS NULL OR lease_until < {NOW})
"""
RENEW = f"""
UPDATE deliveries SET lease_until = {NOW} + %s WHERE status = 'sending' AND claimed_by = %s
"""
NEXT_DUE = """
SELECT LEAST((SELECT MIN(m.due) FROM unnest(%s::text[]) AS s (sink)
CROSS JOIN (VALUES (false), (true)) AS r (retry)
CROSS JOIN LATERAL (
    SELECT d.next_attempt_at AS due FROM deliveries d
    WHERE d.sink = s.sink AND d.status = 'pending' AND (d.tries > 0) = r.retry
    ORDER BY d.next_attempt_at LIMIT 1
) AS m), (SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'scheduled'))
"""
# due follow-ups become pending (disabled while their sink is), by the earlier of the caller's
# clock and the database's, so neither a fast replica nor a fast server sends early
# (a stable one here, so the partial index deliveries_scheduled serves the range)
_STMT_NOW = "extract(epoch FROM statement_timestamp())::float8"
PROMOTE = f"""
UPDATE deliveries d SET updated_at = {_STMT_NOW},
       status = CASE WHEN EXISTS (SELECT 1 FROM sink_state s WHERE s.sink = d.sink AND s.disabled)
                     THEN 'disabled' ELSE 'pending' END
FROM (SELECT id FROM deliveries WHERE status = 'scheduled'
      AND next_attempt_at <= LEAST(%(now)s, {_STMT_NOW})
      ORDER BY next_attempt_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) AS due
WHERE d.id = due.id
RETURNING d.next_attempt_at, LEAST(%(now)s, {_STMT_NOW})
"""
CANCEL_OTHERS = """
UPDATE deliveries d SET status = 'cancelled', last_error = %s, updated_at = %s
WHERE d.status = 'scheduled'
  AND NOT EXISTS (SELECT 1 FROM unnest(%s::text[], %s::text[]) AS k (route, sink)
                  WHERE k.route = d.route AND k.sink = d.sink)
"""
# the sink's next start moves 1/rate later for each caller; the caller waits until its own
RESERVE = f"""
INSERT INTO sink_rate AS r (sink, next_at) VALUES (%(sink)s, {NOW} + %(gap)s)
ON CONFLICT (sink) DO UPDATE
SET next_at = GREATEST(r.next_at, EXCLUDED.next_at - %(gap)s) + %(gap)s
RETURNING next_at - %(gap)s - {NOW}
"""
# what purge deletes and count_purgeable counts: one rule for both (as SQLite's _PURGEABLE)
PURGEABLE = """e.received_at < %s AND NOT EXISTS (
        SELECT 1 FROM deliveries d
        WHERE d.event_id = e.id
          AND d.status IN ('pending', 'sending', 'disabled', 'grouped', 'scheduled'))"""
PURGE = f"DELETE FROM events WHERE id IN (SELECT e.id FROM events e WHERE {PURGEABLE} LIMIT %s)"
COUNT_PURGEABLE = f"SELECT COUNT(*) FROM events e WHERE {PURGEABLE}"
DEAD_LETTERS = "SELECT sink, COUNT(*) FROM deliveries WHERE status = 'failed' GROUP BY sink"
SIZE = """
SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'r'
"""
DELIVERY_COLUMNS = (
    "d.id, d.event_id, d.sink, d.route, d.status, d.attempt_count, d.next_attempt_at, "
    "d.last_error, e.event, e.source, e.external_id, d.created_at, d.updated_at, d.due_at"
)


def event_where(flt: Filter, cursor: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of an events list."""
    pairs = (("e.source", flt.source), ("e.external_id", flt.external_id))
    where, args = _where(flt, cursor, "e.id", pairs)
    if flt.sources is None:
        return where, args
    return f"{where} AND e.source = ANY(%s)", [*args, list(flt.sources)]


def delivery_where(flt: Filter, cursor: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of a deliveries list (joined with events ``e``)."""
    pairs = (("e.source", flt.source), ("e.external_id", flt.external_id), ("d.status", flt.status),
             ("d.sink", flt.sink), ("d.event_id", flt.event_id), ("d.route", flt.route))
    return _where(flt, cursor, "d.id", pairs)


def _where(flt: Filter, cursor: str | None, id_column: str,
           pairs: tuple[tuple[str, Any], ...]) -> tuple[str, list[Any]]:
    clauses, args = ["true"], []
    for column, value in pairs:
        if value is not None:
            clauses.append(f"{column} = %s")
            args.append(value.replace("\x00", "\ufffd") if isinstance(value, str) else value)
    for clause, value in (("e.event ~ %s", None if flt.event is None else glob_regex(flt.event)),
                          ("e.received_at >= %s", flt.since), ("e.received_at < %s", flt.until),
                          (f"{id_column} < %s", None if cursor is None else int(cursor))):
        if value is not None:
            clauses.append(clause)
            args.append(value)
    return " AND ".join(clauses), args


def glob_regex(pattern: str) -> str:
    """SQLite's GLOB as a PostgreSQL regular expression: ``*``, ``?`` and ``[…]``, case-sensitive."""
    out, i = ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        end = pattern.find("]", i + 2) if ch == "[" else -1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif end != -1:
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out) + "$"
