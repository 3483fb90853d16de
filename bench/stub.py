"""Run ``ponte`` with parts of its request path stubbed out, to see what each part costs.

    python bench/stub.py --stub store,schema,routing,metrics -- serve --config ponte.yaml ...

``bench/ingest.py --stub PARTS`` runs Ponte this way. The parts:

- ``store``: ``save_event`` answers with a fresh id and writes nothing (no SQLite, no
  writer thread);
- ``schema``: no catalogue check;
- ``routing``: no routes are evaluated, no deliveries planned;
- ``metrics``: the ingest metrics are not updated.

This is a measuring tool, never a way to run Ponte: with ``store`` stubbed, every
200 is a lie.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from typing import Any

PARTS = ("store", "schema", "routing", "metrics")


def stub(parts: set[str]) -> None:
    """Replace the named parts of the request path with no-ops."""
    from service.ingest import handler as ingest
    from service.metrics import Metrics
    from service.store.records import Saved
    from service.store.sqlite.store import SQLiteStore

    if "store" in parts:
        ids = itertools.count(1)

        async def save_event(self: SQLiteStore, event: Any, deliveries: Any) -> Saved:
            return Saved(next(ids), duplicate=False)

        SQLiteStore.save_event = save_event  # type: ignore[method-assign]
    if "schema" in parts:
        ingest._schema_error = lambda source, env: None
    if "routing" in parts:
        ingest.plan_deliveries = lambda settings, event, doc: []
    if "metrics" in parts:
        Metrics.observe_ingest = lambda self, *args: None  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stub", required=True, help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("ponte_args", nargs=argparse.REMAINDER, help="-- then the ponte command line")
    args = parser.parse_args()
    parts = {p.strip() for p in args.stub.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    stub(parts)
    from service.__main__ import main as ponte

    rest = args.ponte_args[1:] if args.ponte_args[:1] == ["--"] else args.ponte_args
    return ponte(rest)


if __name__ == "__main__":
    sys.exit(main())
