"""Schema checks of Hotmart and Kiwify events: a mismatch is recorded, never refused."""

from __future__ import annotations

from typing import Any

import msgspec

from service.platforms import hotmart, kiwify
from service.sales.kiwify import payload


def platform_schema_error(kind: str, event: str, doc: dict[str, Any]) -> str | None:
    """``data.<path>: <problem>`` when a known event's body differs from its Struct, else None."""
    struct: type[msgspec.Struct] | None
    if kind == "hotmart":
        struct, value, where = hotmart.DATA_TYPES.get(event), doc.get("data"), "data"
    elif kind == "kiwify":
        struct, value, where = kiwify.DATA_TYPES.get(event), payload(doc), "body"
    else:
        return None
    if struct is None or value is None:
        return None
    try:
        msgspec.convert(value, struct)
    except msgspec.ValidationError as exc:
        text, _, at = str(exc).rpartition(" - at `$")
        return f"{where}{at.rstrip('`')}: {text}" if text else f"{where}: {exc}"
    return None
