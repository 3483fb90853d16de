"""``open_store``: the Store for a ``storage.url``, SQLite or PostgreSQL.

The PostgreSQL backend is imported only for a ``postgresql://`` URL: psycopg and its pool
cost about 22 MiB and 0.2 s of start-up, which a SQLite installation never needs. It is one
of the two imports of ``service.*`` inside a function, both listed in
``tools/import_cycles.py`` (``ALLOWED``) and in ``pyproject.toml``.
"""

from __future__ import annotations

from service.store.protocol import Store
from service.store.sqlite.store import SQLiteStore


def open_store(url: str, *, exclusive: bool = False, lease: float = 30.0) -> Store:
    """The Store for a ``storage.url``; ``exclusive`` for a serving process (with a worker).

    SQLite: one serving process per file (a lock file). PostgreSQL: any number of them;
    ``lease`` is how long a claim stays theirs without renewal.
    """
    if url.startswith(("postgresql://", "postgres://")):
        from service.store.postgres.store import PostgresStore  # noqa: PLC0415 - psycopg (module docstring)

        return PostgresStore(url, exclusive=exclusive, lease=lease)
    return SQLiteStore(url.removeprefix("sqlite:///"), exclusive=exclusive)
