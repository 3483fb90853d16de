"""The PostgreSQL Store's console sessions (part of the ``Store`` protocol): one row per
logged-in browser, so logout and expiry hold on every replica and after a restart."""

from __future__ import annotations

from service.store.postgres.reads import Reads

_START = """
INSERT INTO console_sessions (key, expires_at) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
"""
_FORGET_EXPIRED = "DELETE FROM console_sessions WHERE expires_at <= %s"
_OPEN = "SELECT 1 FROM console_sessions WHERE key = %s AND expires_at > %s"
_END = "DELETE FROM console_sessions WHERE key = %s"


class PgSessions(Reads):
    """Start, check and end console sessions."""

    async def start_session(self, key: str, expires_at: float, now: float) -> None:
        """Record a session until ``expires_at``; forget sessions expired by ``now``."""
        async with self._conn() as conn, conn.transaction():
            await conn.execute(_FORGET_EXPIRED, (now,))
            await conn.execute(_START, (key, expires_at))

    async def session_open(self, key: str, now: float) -> bool:
        """Whether the session was started, not ended, and has not expired by ``now``."""
        return bool(await self._all(_OPEN, (key, now)))

    async def end_session(self, key: str) -> None:
        """End a session (logout); ending an unknown one does nothing."""
        await self._count(_END, (key,))
