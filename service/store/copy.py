"""``ponte copy``: move an installation from a SQLite file to PostgreSQL, ids and all.

The SQLite file is read in one read transaction (a consistent snapshot, even while a
service still writes to it); the rows go into PostgreSQL with ``COPY`` in one transaction,
so a failed copy leaves the target as empty as it found it. Identity sequences are moved
past the copied ids, and the two databases are compared table by table at the end.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from service.errors import StorageCorrupt, StorageUnavailable
from service.store.postgres.url import describe, one_line

TABLES: dict[str, tuple[str, ...]] = {
    "events": ("id", "source", "external_id", "event", "sent_date", "received_at", "status",
               "headers", "schema_error", "body"),
    "deliveries": ("id", "event_id", "sink", "route", "status", "attempt_count", "tries",
                   "next_attempt_at", "last_error", "order_key", "created_at", "updated_at",
                   "digest", "digest_id", "due_at", "cancel_key"),
    "attempts": ("id", "delivery_id", "number", "started_at", "duration_ms", "outcome",
                 "status_code", "error", "response"),
    "sink_state": ("sink", "disabled", "reason", "updated_at"),
    "digest_groups": ("sink", "route", "digest", "opened_at", "due_at", "sent"),
    "report_runs": ("report", "period_start", "period_end", "ran_at", "late", "event_id"),
    "cancellations": ("key", "event_id", "received_at", "reason"),  # follow-ups' kept keys
}
# tables and columns a file of an older schema may lack: copied as none / NULL
OPTIONAL_TABLES = {"digest_groups", "report_runs", "cancellations"}
LATER_COLUMNS = {"digest_id": "COALESCE(SUM(digest_id), 0)", "due_at": "COUNT(due_at)",
                 "cancel_key": "COUNT(cancel_key)"}  # deliveries' checks a file without them counts as 0
# what both sides must agree on after the copy: rows, id sums, body bytes, digest links
CHECKS = {
    "events": "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(LENGTH(body)), 0) FROM events",
    "deliveries": "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(attempt_count), 0), "
                  "COALESCE(SUM(digest_id), 0), COUNT(due_at), COUNT(cancel_key) FROM deliveries",
    "attempts": "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(number), 0) FROM attempts",
    "sink_state": "SELECT COUNT(*), 0, 0 FROM sink_state",
    "digest_groups": "SELECT COUNT(*), COALESCE(SUM(sent), 0), 0 FROM digest_groups",
    "report_runs": "SELECT COUNT(*), COALESCE(SUM(event_id), 0), 0 FROM report_runs",
    "cancellations": "SELECT COUNT(*), COALESCE(SUM(event_id), 0), 0 FROM cancellations",
}
BATCH = 1000


@dataclass(frozen=True)
class Copied:
    """Rows copied per table, checked equal on both sides."""

    rows: dict[str, int]


def open_source(url: str) -> sqlite3.Connection:
    """The SQLite file of a ``sqlite:///`` URL, read-only; it must be a Ponte database."""
    if not url.startswith("sqlite:///"):
        raise StorageUnavailable(f"--from must be a sqlite:/// URL, not {url.split(':', 1)[0]}:")
    path = url.removeprefix("sqlite:///")
    if not Path(path).is_file():
        raise StorageUnavailable(f"{path}: no such file")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" not in names or not names >= TABLES.keys() - OPTIONAL_TABLES:
        conn.close()
        raise StorageCorrupt(f"{path} is not a Ponte database")
    return conn


async def copy(source: sqlite3.Connection, target_url: str) -> Copied:
    """Copy every table into the (migrated, empty) PostgreSQL database, then compare both."""
    try:
        async with await psycopg.AsyncConnection.connect(target_url) as target:
            await _refuse_non_empty(target)
            source.execute("BEGIN")  # one snapshot of the file for the copy and the check
            async with target.transaction():
                for table, columns in TABLES.items():
                    await _copy_table(source, target, table, columns)
                for table in ("events", "deliveries", "attempts"):
                    await target.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE(MAX(id), 0) + 1, false) FROM {table}")
            rows = await _compare(source, target)
            source.execute("COMMIT")
    except psycopg.Error as exc:
        raise StorageUnavailable(
            f"copy to {describe(target_url)} failed: {one_line(exc, target_url)}") from None
    return Copied(rows)


async def _refuse_non_empty(target: psycopg.AsyncConnection[Any]) -> None:
    cur = await target.execute(
        "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM sink_state) "
        "+ (SELECT COUNT(*) FROM digest_groups) + (SELECT COUNT(*) FROM report_runs)")
    row = await cur.fetchone()
    if row and row[0]:
        raise StorageCorrupt("the target database already holds data: copy needs an empty one")


async def _copy_table(source: sqlite3.Connection, target: psycopg.AsyncConnection[Any],
                      table: str, columns: tuple[str, ...]) -> None:
    present = _columns(source, table)
    if not present:  # a table of a later schema than the file's: nothing to copy
        return
    picked = ", ".join(c if c in present else f"NULL AS {c}" for c in columns)
    cursor = source.execute(f"SELECT {picked} FROM {table} ORDER BY 1")
    fix = _FIXES.get(table)
    async with target.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as pipe:
        while batch := cursor.fetchmany(BATCH):
            for row in batch:
                await pipe.write_row(row if fix is None else fix(row))


def _columns(source: sqlite3.Connection, table: str) -> set[str]:
    """The columns ``table`` has in the SQLite file (none if it has no such table)."""
    return {r[1] for r in source.execute(f"PRAGMA table_info({table})")}


def _text_headers(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """SQLite keeps the headers' JSON as bytes; PostgreSQL as text."""
    headers = row[7]
    return (*row[:7], headers.decode() if isinstance(headers, bytes) else headers, *row[8:])


def _bool_flag(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """SQLite's 0/1 ``disabled`` as a boolean."""
    return (row[0], bool(row[1]), *row[2:])


def _bool_late(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """SQLite's 0/1 ``late`` of a report run as a boolean."""
    return (*row[:4], bool(row[4]), *row[5:])


_FIXES = {"events": _text_headers, "sink_state": _bool_flag, "report_runs": _bool_late}


async def _compare(source: sqlite3.Connection, target: psycopg.AsyncConnection[Any]) -> dict[str, int]:
    counts = {}
    for table, sql in CHECKS.items():
        mine = _source_check(source, table, sql)
        cur = await target.execute(sql.replace("LENGTH(body)", "octet_length(body)"))
        theirs = tuple(await cur.fetchone() or ())
        if tuple(map(int, mine)) != tuple(map(int, theirs)):
            raise StorageCorrupt(f"check failed for {table}: SQLite has {mine}, PostgreSQL {theirs}")
        counts[table] = int(mine[0])
    return counts


def _source_check(source: sqlite3.Connection, table: str, sql: str) -> tuple[Any, ...]:
    """The check's figures on the SQLite side; zeros for what an older file lacks."""
    present = _columns(source, table)
    if not present:
        return (0, 0, 0)
    if table == "deliveries":
        for column, figure in LATER_COLUMNS.items():
            sql = sql if column in present else sql.replace(figure, "0")
    return tuple(source.execute(sql).fetchone() or ())
