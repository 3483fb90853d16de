"""The PostgreSQL schema as ordered migrations, applied at start under an advisory lock.

Every replica runs ``migrate`` when it opens the store. ``pg_advisory_xact_lock`` makes
replicas that start together take turns: the first applies what is missing, the others
then find nothing to do. A database whose schema is newer than this code (a replica left
behind by a rolling update, or a downgrade) is refused with a clear error, never used.
"""

from __future__ import annotations

from typing import Any

import psycopg

from service.errors import StorageCorrupt

MIGRATIONS: list[str] = [
    # 1: the SQLite model, with identity ids (never reused) and claim leases for replicas.
    """
    CREATE TABLE events (
        id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        source        TEXT NOT NULL,
        external_id   TEXT NOT NULL,
        event         TEXT NOT NULL,
        sent_date     TEXT,
        received_at   DOUBLE PRECISION NOT NULL,
        status        TEXT NOT NULL,
        headers       TEXT NOT NULL,
        schema_error  TEXT,
        body          BYTEA NOT NULL,
        UNIQUE (source, external_id, event)
    );
    CREATE INDEX events_received ON events (received_at);
    CREATE TABLE deliveries (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id        BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        sink            TEXT NOT NULL,
        route           TEXT NOT NULL,
        status          TEXT NOT NULL,
        attempt_count   INTEGER NOT NULL DEFAULT 0,
        tries           INTEGER NOT NULL DEFAULT 0,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        last_error      TEXT,
        order_key       TEXT,
        created_at      DOUBLE PRECISION NOT NULL,
        updated_at      DOUBLE PRECISION NOT NULL,
        claimed_by      TEXT,              -- the replica sending it (status 'sending')
        lease_until     DOUBLE PRECISION,  -- after this, other replicas may take it back
        UNIQUE (event_id, sink)
    );
    CREATE INDEX deliveries_claim ON deliveries (sink, status, (tries > 0), next_attempt_at, id);
    CREATE INDEX deliveries_order ON deliveries (sink, order_key, id) WHERE order_key IS NOT NULL;
    CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE status = 'sending';
    CREATE INDEX deliveries_status ON deliveries (status, updated_at);
    CREATE TABLE attempts (
        id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id  BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        number       INTEGER NOT NULL,
        started_at   DOUBLE PRECISION NOT NULL,
        duration_ms  DOUBLE PRECISION NOT NULL,
        outcome      TEXT NOT NULL,
        status_code  INTEGER,
        error        TEXT,
        response     TEXT
    );
    CREATE INDEX attempts_delivery ON attempts (delivery_id);
    CREATE TABLE sink_state (
        sink       TEXT PRIMARY KEY,
        disabled   BOOLEAN NOT NULL DEFAULT false,
        reason     TEXT,
        updated_at DOUBLE PRECISION NOT NULL
    );
    -- one row per rate-limited sink: the earliest start of its next send, cluster-wide
    CREATE TABLE sink_rate (
        sink    TEXT PRIMARY KEY,
        next_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 2: digests and reports (as SQLite's migration 5): a delivery to a digest target waits
    #    'grouped' with its digest key, then turns 'digested' inside the digest delivery
    #    digest_id; a report period is sent once cluster-wide (report_runs' primary key).
    """
    ALTER TABLE deliveries ADD COLUMN digest TEXT;
    ALTER TABLE deliveries ADD COLUMN digest_id BIGINT;
    CREATE INDEX deliveries_grouped ON deliveries (sink, route, digest, id) WHERE status = 'grouped';
    CREATE INDEX deliveries_digest ON deliveries (digest_id) WHERE digest_id IS NOT NULL;
    CREATE TABLE digest_groups (
        sink       TEXT NOT NULL,
        route      TEXT NOT NULL,
        digest     TEXT NOT NULL,
        opened_at  DOUBLE PRECISION NOT NULL,  -- scheduler clock
        due_at     DOUBLE PRECISION NOT NULL,  -- the next digest of this group, if items wait
        sent       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (sink, route, digest)
    );
    CREATE TABLE report_runs (
        report        TEXT NOT NULL,
        period_start  DOUBLE PRECISION NOT NULL,
        period_end    DOUBLE PRECISION NOT NULL,
        ran_at        DOUBLE PRECISION NOT NULL,
        late          BOOLEAN NOT NULL,
        event_id      BIGINT,
        PRIMARY KEY (report, period_start)
    );
    """,
    # 3: follow-ups (as SQLite's migration 6): 'scheduled' until due_at, found by
    #    deliveries_scheduled when due and by cancel_key when cancelled; cancellations keeps
    #    cancelling events' keys for a day.
    """
    ALTER TABLE deliveries ADD COLUMN due_at DOUBLE PRECISION;
    ALTER TABLE deliveries ADD COLUMN cancel_key TEXT;
    CREATE INDEX deliveries_scheduled ON deliveries (next_attempt_at, id) WHERE status = 'scheduled';
    CREATE INDEX deliveries_cancel ON deliveries (cancel_key) WHERE status = 'scheduled';
    CREATE TABLE cancellations (
        key          TEXT             NOT NULL,
        event_id     BIGINT           NOT NULL,
        received_at  DOUBLE PRECISION NOT NULL,
        reason       TEXT             NOT NULL
    );
    CREATE INDEX cancellations_key ON cancellations (key, received_at);
    CREATE INDEX cancellations_received ON cancellations (received_at);
    """,
    # 4: console sessions (as SQLite's migration 7), so a logout on one replica ends the
    #    session on all of them; and the recent events per when_busy target, counted
    #    cluster-wide (service.batches.digests, ``busy_hit``).
    """
    CREATE TABLE console_sessions (
        key         TEXT PRIMARY KEY,
        expires_at  DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE busy_marks (
        target  TEXT NOT NULL,
        at      DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX busy_marks_target ON busy_marks (target, at);
    """,
]

LATEST = len(MIGRATIONS)


async def schema_version(conn: psycopg.AsyncConnection[Any]) -> int:
    """The version recorded in the current schema (0 for an empty one)."""
    cur = await conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    row = await cur.fetchone()
    if not row or not row[0]:
        return 0
    cur = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: psycopg.AsyncConnection[Any]) -> list[int]:
    """Bring the schema up to ``LATEST`` in one transaction; return the versions applied.

    Refuses (StorageCorrupt) a schema newer than this code: an older replica must not
    write rows a newer one does not expect.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/migrate'))")
        current = await schema_version(conn)
        if current > LATEST:
            raise StorageCorrupt(
                f"database schema v{current} is newer than this Ponte (v{LATEST}): "
                "upgrade Ponte before starting it; nothing was changed")
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        applied = list(range(current + 1, LATEST + 1))
        for version in applied:
            await conn.execute(MIGRATIONS[version - 1].encode())
            await conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))
    return applied
