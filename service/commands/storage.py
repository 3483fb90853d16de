"""``ponte migrate`` and ``ponte copy``: the database's schema, and moving to another one."""

from __future__ import annotations

import argparse
import asyncio
import sys

from service.commands.serve import load_or_report
from service.errors import StorageCorrupt, StorageUnavailable
from service.store import open_store


def migrate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", dest="store_url", help="storage URL (default: storage.url)")


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
