"""``open_store``: the Store for a ``storage.url``, SQLite or PostgreSQL."""

from __future__ import annotations

from service.store.postgres.store import PostgresStore
from service.store.protocol import Store
from service.store.sqlite.store import SQLiteStore


def open_store(url: str, *, exclusive: bool = False, lease: float = 30.0) -> Store:
    """The Store for a ``storage.url``; ``exclusive`` for a serving process (with a worker).

    SQLite: one serving process per file (a lock file). PostgreSQL: any number of them;
    ``lease`` is how long a claim stays theirs without renewal.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, exclusive=exclusive, lease=lease)
    return SQLiteStore(url.removeprefix("sqlite:///"), exclusive=exclusive)
