"""The SQLite schema as an ordered list of migrations; ``schema_version`` says how far a file is.

``migrate`` applies what a file lacks when the store opens it; ``check_ownership`` first
refuses a file that is not Ponte's.
"""

from __future__ import annotations

import sqlite3

from service.errors import StorageCorrupt

MIGRATIONS: list[str] = [
    # 1: events, their deliveries (one per sink) and every attempt of each delivery.
    """
    CREATE TABLE events (
        id            INTEGER PRIMARY KEY,
        source        TEXT    NOT NULL,
        external_id   TEXT    NOT NULL,
        event         TEXT    NOT NULL,
        sent_date     TEXT,
        received_at   REAL    NOT NULL,
        status        TEXT    NOT NULL,          -- accepted | ignored
        headers       TEXT    NOT NULL,          -- JSON object of the headers that matter
        schema_error  TEXT,                      -- catalogue mismatch, recorded, never refused
        body          BLOB    NOT NULL,          -- the raw body, byte for byte
        UNIQUE (source, external_id, event)
    );
    CREATE INDEX events_received ON events (received_at);
    CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY,
        event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        sink            TEXT    NOT NULL,
        route           TEXT    NOT NULL,
        status          TEXT    NOT NULL,        -- pending | sending | succeeded | failed | disabled
        attempt_count   INTEGER NOT NULL DEFAULT 0,   -- every attempt ever made
        tries           INTEGER NOT NULL DEFAULT 0,   -- attempts since last (re)scheduled
        next_attempt_at REAL    NOT NULL,
        last_error      TEXT,
        order_key       TEXT,
        created_at      REAL    NOT NULL,
        updated_at      REAL    NOT NULL,
        UNIQUE (event_id, sink)
    );
    CREATE INDEX deliveries_due ON deliveries (sink, status, next_attempt_at);
    CREATE INDEX deliveries_status ON deliveries (status, updated_at);
    CREATE TABLE attempts (
        id           INTEGER PRIMARY KEY,
        delivery_id  INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        number       INTEGER NOT NULL,
        started_at   REAL    NOT NULL,
        duration_ms  REAL    NOT NULL,
        outcome      TEXT    NOT NULL,           -- succeeded | retry | failed
        status_code  INTEGER,
        error        TEXT,
        response     TEXT
    );
    CREATE INDEX attempts_delivery ON attempts (delivery_id);
    CREATE TABLE sink_state (
        sink      TEXT PRIMARY KEY,
        disabled  INTEGER NOT NULL DEFAULT 0,
        reason    TEXT,
        updated_at REAL NOT NULL
    );
    """,
    # 2: claims read the index in order instead of sorting the whole backlog each time;
    #    ordered sinks find an earlier delivery of the same key without a scan.
    """
    CREATE INDEX deliveries_claim ON deliveries (sink, status, (tries > 0), next_attempt_at, id);
    CREATE INDEX deliveries_order ON deliveries (sink, order_key, id);
    """,
    # 3: fewer indexes to update on every insert (ingest writes ~3 deliveries per event).
    #    deliveries_claim already starts with (sink, status): it serves next_due too.
    #    Only deliveries of ordered sinks carry an order_key: index just those.
    """
    DROP INDEX deliveries_due;
    DROP INDEX deliveries_order;
    CREATE INDEX deliveries_order ON deliveries (sink, order_key, id) WHERE order_key IS NOT NULL;
    """,
    # 4: ids are never reused (AUTOINCREMENT): once the newest rows are purged, a new event
    #    must not get an old event's id, or receivers deduplicating on webhook-id or
    #    x-ponte-delivery would drop it. A table rebuild that keeps every row and index; it
    #    runs with foreign_keys OFF (see _migrate), so dropping the old tables cascades nothing.
    #    A delivery an uncapped Retry-After pushed past 2100 (or to infinity) becomes due now.
    """
    CREATE TABLE events_v4 (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        source        TEXT    NOT NULL,
        external_id   TEXT    NOT NULL,
        event         TEXT    NOT NULL,
        sent_date     TEXT,
        received_at   REAL    NOT NULL,
        status        TEXT    NOT NULL,          -- accepted | ignored
        headers       TEXT    NOT NULL,          -- JSON object of the headers that matter
        schema_error  TEXT,                      -- catalogue mismatch, recorded, never refused
        body          BLOB    NOT NULL,          -- the raw body, byte for byte
        UNIQUE (source, external_id, event)
    );
    INSERT INTO events_v4 SELECT id, source, external_id, event, sent_date, received_at, status,
        headers, schema_error, body FROM events;
    CREATE TABLE deliveries_v4 (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        sink            TEXT    NOT NULL,
        route           TEXT    NOT NULL,
        status          TEXT    NOT NULL,        -- pending|sending|succeeded|failed|disabled
        attempt_count   INTEGER NOT NULL DEFAULT 0,   -- every attempt ever made
        tries           INTEGER NOT NULL DEFAULT 0,   -- attempts since last (re)scheduled
        next_attempt_at REAL    NOT NULL,
        last_error      TEXT,
        order_key       TEXT,
        created_at      REAL    NOT NULL,
        updated_at      REAL    NOT NULL,
        UNIQUE (event_id, sink)
    );
    INSERT INTO deliveries_v4 SELECT id, event_id, sink, route, status, attempt_count, tries,
        CASE WHEN next_attempt_at < 4102444800 THEN next_attempt_at   -- before 2100: kept
             ELSE CAST(strftime('%s', 'now') AS REAL) END,  -- an endless Retry-After: due now
        last_error, order_key, created_at, updated_at FROM deliveries;
    CREATE TABLE attempts_v4 (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id  INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        number       INTEGER NOT NULL,
        started_at   REAL    NOT NULL,
        duration_ms  REAL    NOT NULL,
        outcome      TEXT    NOT NULL,           -- succeeded | retry | failed
        status_code  INTEGER,
        error        TEXT,
        response     TEXT
    );
    INSERT INTO attempts_v4 SELECT id, delivery_id, number, started_at, duration_ms, outcome,
        status_code, error, response FROM attempts;
    DROP TABLE attempts;
    DROP TABLE deliveries;
    DROP TABLE events;
    ALTER TABLE events_v4 RENAME TO events;
    ALTER TABLE deliveries_v4 RENAME TO deliveries;
    ALTER TABLE attempts_v4 RENAME TO attempts;
    CREATE INDEX events_received ON events (received_at);
    CREATE INDEX deliveries_status ON deliveries (status, updated_at);
    CREATE INDEX deliveries_claim ON deliveries (sink, status, (tries > 0), next_attempt_at, id);
    CREATE INDEX deliveries_order ON deliveries (sink, order_key, id) WHERE order_key IS NOT NULL;
    CREATE INDEX attempts_delivery ON attempts (delivery_id);
    """,
    # digests and reports (service.batches.digests, .reports): a delivery to a digest target
    # waits 'grouped' with its digest key, then turns 'digested' inside the digest
    # delivery digest_id; a report period is sent once (report_runs' primary key).
    """
    ALTER TABLE deliveries ADD COLUMN digest TEXT;
    ALTER TABLE deliveries ADD COLUMN digest_id INTEGER;
    CREATE INDEX deliveries_grouped ON deliveries (sink, route, digest, id) WHERE status = 'grouped';
    CREATE INDEX deliveries_digest ON deliveries (digest_id) WHERE digest_id IS NOT NULL;
    CREATE TABLE digest_groups (
        sink       TEXT NOT NULL,
        route      TEXT NOT NULL,
        digest     TEXT NOT NULL,
        opened_at  REAL NOT NULL,          -- scheduler clock
        due_at     REAL NOT NULL,          -- the next digest of this group, if items wait
        sent       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (sink, route, digest)
    );
    CREATE TABLE report_runs (
        report        TEXT NOT NULL,
        period_start  REAL NOT NULL,
        period_end    REAL NOT NULL,
        ran_at        REAL NOT NULL,
        late          INTEGER NOT NULL,
        event_id      INTEGER,
        PRIMARY KEY (report, period_start)
    );
    """,
    # 6: follow-ups (service.routing.followups): a delivery waits 'scheduled' until due_at,
    #    then the worker makes it 'pending' (deliveries_scheduled finds the due ones); its
    #    cancel_key finds it when a cancelling event arrives (only while scheduled), and
    #    cancellations keeps those events' keys for a day, for follow-ups planned later.
    """
    ALTER TABLE deliveries ADD COLUMN due_at REAL;
    ALTER TABLE deliveries ADD COLUMN cancel_key TEXT;
    CREATE INDEX deliveries_scheduled ON deliveries (next_attempt_at, id) WHERE status = 'scheduled';
    CREATE INDEX deliveries_cancel ON deliveries (cancel_key) WHERE status = 'scheduled';
    CREATE TABLE cancellations (
        key          TEXT    NOT NULL,     -- a correlation key the event cancels
        event_id     INTEGER NOT NULL,
        received_at  REAL    NOT NULL,
        reason       TEXT    NOT NULL      -- what a cancelled delivery's last_error says
    );
    CREATE INDEX cancellations_key ON cancellations (key, received_at);
    CREATE INDEX cancellations_received ON cancellations (received_at);
    """,
    # 7: console sessions kept in the database (a hash of the cookie's nonce), so logout
    #    and expiry outlive a restart (service.ui.security).
    """
    CREATE TABLE console_sessions (
        key         TEXT PRIMARY KEY,
        expires_at  REAL NOT NULL
    );
    """,
]

LATEST = len(MIGRATIONS)


def check_ownership(conn: sqlite3.Connection) -> None:
    """Refuse a file whose tables are not Ponte's (before any PRAGMA changes it)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and "schema_version" not in tables:
        raise StorageCorrupt("the file holds tables that are not Ponte's (a foreign database)")


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations a file lacks; refuse a schema newer than this code."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    current = row[0] or 0
    if current > LATEST:
        raise StorageCorrupt(f"database schema v{current} is newer than this Ponte (v{LATEST})")
    if current == LATEST:
        return
    # Table rebuilds drop and recreate tables: with foreign keys on, dropping ``events``
    # would cascade into the deliveries still to be copied. Off for the migration only.
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for version in range(current + 1, LATEST + 1):
            conn.executescript(f"BEGIN; {MIGRATIONS[version - 1]}; "
                               f"INSERT INTO schema_version VALUES ({version}); COMMIT;")
        if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise StorageCorrupt("rows that point at missing rows after the schema upgrade")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
