"""The SQLite Store's console sessions (mixed into ``SQLiteStore``): one row per logged-in
browser, so logout and expiry hold after a restart (``service.ui.security``)."""

from __future__ import annotations

import sqlite3
from typing import Any

from service.store.sqlite.writer import Writer

_START = "INSERT OR REPLACE INTO console_sessions (key, expires_at) VALUES (?, ?)"
_FORGET_EXPIRED = "DELETE FROM console_sessions WHERE expires_at <= ?"
_OPEN = "SELECT 1 FROM console_sessions WHERE key = ? AND expires_at > ?"
_END = "DELETE FROM console_sessions WHERE key = ?"


class SessionVerbs:
    """Start, check and end console sessions."""

    _writer: Writer

    async def _read_all(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        raise NotImplementedError  # provided by SQLiteStore

    async def start_session(self, key: str, expires_at: float, now: float) -> None:
        """Record a session until ``expires_at``; forget sessions expired by ``now``."""

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(_FORGET_EXPIRED, (now,))
            conn.execute(_START, (key, expires_at))

        await self._writer.run(job)

    async def session_open(self, key: str, now: float) -> bool:
        """Whether the session was started, not ended, and has not expired by ``now``."""
        return bool(await self._read_all(_OPEN, [key, now]))

    async def end_session(self, key: str) -> None:
        """End a session (logout); ending an unknown one does nothing."""
        await self._writer.run(lambda conn: conn.execute(_END, (key,)))
