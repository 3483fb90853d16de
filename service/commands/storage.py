"""``ponte migrate`` and ``ponte copy``: the database's schema, and moving to another one."""

from __future__ import annotations

import argparse
import asyncio
import sys

from service.commands.serve import load_or_report
from service.errors import StorageCorrupt, StorageUnavailable
from service.store.open import open_store


def migrate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--storage-url", dest="store_url", metavar="URL",
                        help="the database (default: the config's storage.url)")


def migrate(args: argparse.Namespace) -> int:
    """Create or upgrade the database schema, then exit (``serve`` also does it at start)."""
    url = args.store_url
    if url is None:
        settings = load_or_report(args)
        if settings is None:
            return 1
        url = settings.config.storage.url

    async def main() -> None:
        store = open_store(url)
        await store.open()
        await store.close()

    try:
        asyncio.run(main())
    except (StorageUnavailable, StorageCorrupt) as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 1
    print("ponte: schema up to date")
    return 0


def copy_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", required=True, metavar="URL",
                        help="the SQLite database: sqlite:///data/ponte.db")
    parser.add_argument("--to", dest="target", required=True, metavar="URL",
                        help="the PostgreSQL database: postgresql://user:pass@host:5432/ponte")


def copy(args: argparse.Namespace) -> int:
    """Copy events, deliveries, attempts, sink flags, digest groups and report runs from SQLite
    to PostgreSQL (ids kept)."""
    if not args.target.startswith(("postgresql://", "postgres://")):
        print("ponte: --to must be a postgresql:// URL", file=sys.stderr)
        return 2

    # psycopg loads for this command only (service.store.open's docstring)
    from service.store.copy import copy as run_copy, open_source  # noqa: I001, PLC0415 - psycopg

    async def main() -> dict[str, int]:
        source = open_source(args.source)
        try:
            store = open_store(args.target)
            await store.open()  # creates (or checks) the schema
            await store.close()
            return (await run_copy(source, args.target)).rows
        finally:
            source.close()

    try:
        rows = asyncio.run(main())
    except (StorageUnavailable, StorageCorrupt) as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 1
    summary = ", ".join(f"{n} {table}" for table, n in rows.items())
    print(f"ponte: copied {summary}; both databases checked equal")
    return 0
