"""Printing for the CLI: aligned tables on a terminal, JSON with ``--json``."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(data), indent=2).decode() + "\n")


def table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print rows as an aligned table with the given columns (long cells are shortened)."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    if not rows:
        print("(none)")


def _cell(value: Any) -> str:
    text = "-" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 60 else text[:59] + "…"


def local_time(text: str | None, timezone: str) -> str | None:
    """An ISO-8601 UTC time from the store as ``30/11/2026 20:43:17`` in ``timezone``."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M:%S")
