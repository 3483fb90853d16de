"""The SQLite Store's digest and report verbs (mixed into ``SQLiteStore``); SQL in ``digests``."""

from __future__ import annotations

import sqlite3
from typing import Any

from service.store.records import DigestClose, DigestGroup, ReportRun, StoredItem
from service.store.rows import DigestRace, stored_items
from service.store.sqlite import digests as sql
from service.store.sqlite.writer import Writer


class DigestVerbs:
    """Digest groups, closing digests, report runs, and reading events by time."""

    _writer: Writer

    async def _read_all(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        raise NotImplementedError  # provided by SQLiteStore

    async def digest_groups(self) -> list[DigestGroup]:
        """Groups with items waiting, and group rows (read on the writer: never behind it)."""
        return await self._writer.run(sql.groups)

    async def open_digest_group(self, group: DigestGroup, opened_at: float, due_at: float) -> None:
        """Start (or restart) a group's clock."""
        await self._writer.run(lambda conn: sql.open_group(conn, group, opened_at, due_at))

    async def drop_digest_group(self, group: DigestGroup) -> None:
        """Forget a group that has nothing waiting."""
        await self._writer.run(lambda conn: sql.drop_group(conn, group))

    async def digest_items(self, group: DigestGroup, after_id: int, limit: int) -> list[StoredItem]:
        """Up to ``limit`` waiting items of a group, oldest first, after item ``after_id``."""
        args = [group.sink, group.route, group.digest, after_id, limit]
        return stored_items(await self._read_all(sql.ITEMS_SQL, args))

    async def close_digest(self, close: DigestClose) -> int | None:
        """Commit one digest; its delivery id, or None if an item changed meanwhile (redo later)."""
        try:
            return await self._writer.run(lambda conn: sql.close(conn, close))
        except (DigestRace, sqlite3.IntegrityError):  # changed, or closed by another closer
            return None

    async def events_between(
        self, since: float, until: float, after_id: int, limit: int
    ) -> list[StoredItem]:
        """Accepted events received in [since, until), by id, one page at a time."""
        return stored_items(
            await self._read_all(sql.EVENTS_SQL, [since, until, after_id, limit])
        )

    async def last_report(self, report: str) -> float | None:
        """The start of the latest period recorded for ``report`` (None: it never ran)."""
        rows = await self._read_all(
            "SELECT MAX(period_start) FROM report_runs WHERE report = ?", [report]
        )
        return rows[0][0] if rows else None

    async def record_report(self, run: ReportRun) -> int | None:
        """Store a report's event and deliveries; None if its period was already sent."""
        return await self._writer.run(lambda conn: sql.record_report(conn, run))

    async def digest_contents(self, delivery_id: int) -> list[int]:
        """The event ids a digest delivery carried (empty for any other delivery)."""
        rows = await self._read_all(
            "SELECT event_id FROM deliveries WHERE digest_id = ? ORDER BY id", [delivery_id]
        )
        return [r[0] for r in rows]
