"""PostgreSQL for tests: the server from ``PONTE_TEST_POSTGRES_URL``, a fresh schema per test.

Without a server the tests that need one are skipped with the reason, except under
``CI=true``, where they fail: CI can never pass without having run them.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
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


# --- one store URL per test: SQLite, or PostgreSQL in the modules that run on both ----------

BOTH = {"test_end_to_end", "test_ingest", "test_delivery", "test_api", "test_reload",
        "test_abuse", "test_failure_sinks", "test_injection", "test_slow_clients",
        "test_digests", "test_reports", "test_console_store", "test_console_pages",
        "test_purge", "test_metrics_gauges", "test_console", "test_admin_http", "test_channels_e2e",
        "test_end_to_end_chat", "test_ids", "test_retry_after", "test_unknown_sources",
        "test_digest_cli", "test_sink_flags", "test_throttle", "test_console_sellers",
        "test_console_sessions", "test_probes_under_load", "test_handoff"}
_URLS: dict[Path, str] = {}


def parametrize_backends(metafunc: pytest.Metafunc) -> None:
    """Run tests of the ``BOTH`` modules that use ``store_url`` on SQLite and on PostgreSQL."""
    if "store_url" not in metafunc.fixturenames:
        return
    both = metafunc.module.__name__ in BOTH and not metafunc.definition.get_closest_marker("sqlite_only")
    metafunc.parametrize("store_url", ["sqlite", "postgres"] if both else ["sqlite"], indirect=True)


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The ``storage.url`` of this test's app: a SQLite file in tmp_path or a fresh schema."""
    backend = getattr(request, "param", "sqlite")
    url = f"sqlite:///{tmp_path}/ponte.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    _URLS[tmp_path] = url
    yield url
    _URLS.pop(tmp_path, None)


def uses_postgres(tmp_path: Path) -> bool:
    """True when this test's app stores in PostgreSQL."""
    return _URLS.get(tmp_path, "sqlite").startswith("postgresql")


def query(tmp_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``?`` placeholders) on this test's database, as a second process would."""
    url = _URLS.get(tmp_path, "sqlite")
    if url.startswith("sqlite"):
        with sqlite3.connect(tmp_path / "ponte.db") as conn:
            return conn.execute(sql, args).fetchall()
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql.replace("%", "%%").replace("?", "%s"), args)  # type: ignore[call-overload]
        return [tuple(r) for r in cur.fetchall()] if cur.description else []
