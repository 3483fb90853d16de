"""PostgreSQL for tests: the server from ``PONTE_TEST_POSTGRES_URL``, a fresh schema per test.

Without a server the tests that need one are skipped with the reason, except under
``CI=true``, where they fail: CI can never pass without having run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest

DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
BASE = os.environ.get("PONTE_TEST_POSTGRES_URL", DEFAULT)


def _missing() -> str | None:
    try:
        psycopg.connect(BASE, connect_timeout=3, autocommit=True).close()
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at PONTE_TEST_POSTGRES_URL ({exc.__class__.__name__})"
    return None


_REASON: list[str | None] = []


def need_postgres() -> None:
    """Skip (or fail under CI=true) when no PostgreSQL answers."""
    if not _REASON:
        _REASON.append(_missing())
    reason = _REASON[0]
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
    pytest.skip(reason)


def schema_url(schema: str) -> str:
    """The base URL with ``search_path`` set to ``schema``."""
    sep = "&" if "?" in BASE else "?"
    return f"{BASE}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a new, empty schema, dropped after the test."""
    need_postgres()
    schema = f"ponte_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(BASE, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schema_url(schema)
    with psycopg.connect(BASE, autocommit=True) as conn:
        conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE pid <> pg_backend_pid() AND query LIKE '%%{schema}%%'")
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
