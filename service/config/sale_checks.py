"""Load-time checks of ``sale.*`` paths in ``where``, templates and digests (any events)."""

from __future__ import annotations

import difflib

from service.sales import SALE_PATHS, has_sale


def is_sale_path(path: str) -> bool:
    """Whether ``path`` reads the sale model (``sale`` or ``sale.…``)."""
    return path == "sale" or path.startswith("sale.")


def check_sale_path(path: str, at: str, events: list[str] | None, errors: list[str]) -> None:
    """Append an error when ``path`` is no sale field, or no event the route takes is a sale."""
    if path not in SALE_PATHS:
        close = difflib.get_close_matches(path, sorted(SALE_PATHS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        errors.append(f"{at}: {path!r} is not a sale field{hint}; see docs/sales.md")
    elif events is not None and not any(has_sale(e) for e in events):
        names = events[0] if len(events) == 1 else f"any of {len(events)} events"
        errors.append(f"{at}: {path!r}: {names} is not a sale, so sale.* is never set")
