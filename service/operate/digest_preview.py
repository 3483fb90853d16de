"""What ``ponte routes test`` and ``ponte preview`` say about a delivery to a digest target."""

from __future__ import annotations

import time
from typing import Any

from service.batches.digest_build import DigestBuilder
from service.batches.digests import parse_key
from service.config.settings import Settings
from service.render.batch_messages import render_batch
from service.store.records import StoredItem


def digest_preview(
    settings: Settings,
    route: str,
    sink: str,
    event: str,
    doc: dict[str, Any],
    body: bytes,
    kind: str,
) -> dict[str, Any] | None:
    """The digest rule of (route, sink), the event's group, and a digest of this one event."""
    rule = settings.digests.get((route, sink))
    if rule is None:
        return None
    _, key = parse_key(rule.key(event, doc))
    builder = DigestBuilder(rule, settings.config.messages.timezone)
    now = time.time()
    builder.add(StoredItem(0, 0, "eduzz", event, str(doc.get("id", "")), now, body))
    info: dict[str, Any] = {
        "wait": rule.wait,
        "interval": rule.interval,
        "max_items": rule.max_items,
        "group_by": list(rule.group_by),
        "group": key,
    }
    if rule.busy is not None:
        info["when_busy"] = (
            f"{rule.busy[0]} per {rule.busy[1]:g}s (one message per event below that)"
        )
    info["message"] = render_batch(builder.envelope(sink, route, key, now), kind)
    return info
