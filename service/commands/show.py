"""How the admin commands print: tables with times in the configured zone, whole event bodies."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from typing import Any

from service.commands.output import emit_json, local_time, table

EVENT_COLUMNS = ["event_id", "received", "source", "event", "external_id", "status"]
DELIVERY_COLUMNS = [
    "id",
    "updated",
    "event_id",
    "event",
    "sink",
    "status",
    "attempt_count",
    "next_attempt",
    "last_error",
]
SINK_COLUMNS = ["name", "type", "state", "backlog", "breaker", "reopens", "in_flight"]


def print_done(args: argparse.Namespace, done: dict[str, Any], tz: str) -> None:
    if args.json:
        emit_json(done)
        return
    notes = []
    if done.get("skipped"):
        notes.append(f"{done['skipped']} skipped: sink no longer configured")
    if done.get("sending"):
        notes.append(f"{done['sending']} being sent right now, left alone")
    extra = f" ({'; '.join(notes)})" if notes else ""
    print(f"rescheduled {done['rescheduled']} delivery(ies){extra}")
    breakers = done.get("breaker_open_until") or {}
    for sink, until in breakers.items():
        print(
            f"sink {sink}'s circuit breaker is open: it is sent when the breaker lets a try "
            f"through, at {local_time(until, tz)}"
        )
    if not args.url:
        print(
            "a running Ponte sends them within a second, or once the sink's circuit breaker lets a "
            "try through (ponte sinks --url … shows when)"
        )


def print_page(args: argparse.Namespace, page: dict[str, Any], columns: list[str], tz: str) -> None:
    if args.json:
        emit_json(page)
        return
    rows = [_localised(item, tz) for item in page["items"]]
    table(rows, columns)
    if page.get("next"):
        print(f"\nmore: add --cursor {page['next']}")


def _localised(item: dict[str, Any], tz: str) -> dict[str, Any]:
    """A row with its times in the configured time zone; an overdue try says why it waits."""
    return item | {
        "received": local_time(item.get("received_at"), tz),
        "updated": local_time(item.get("updated_at"), tz),
        "next_attempt": _next_attempt(item, tz),
    }


OVERDUE = 5.0  # seconds past due: a running worker would have taken it by now
WAITING = "waiting for the breaker (or a running service)"


def _next_attempt(item: dict[str, Any], tz: str) -> str | None:
    """The next try's local time; a pending one already past due waits for its sink's
    breaker (or for ``ponte serve``), so it says so instead of showing a past time."""
    when = item.get("next_attempt_at")
    if item.get("status") == "pending" and when and _age(when) > OVERDUE:
        return WAITING
    return local_time(when, tz)


def _age(text: str) -> float:
    return time.time() - datetime.fromisoformat(text).timestamp()


def print_sinks(args: argparse.Namespace, page: dict[str, Any], tz: str) -> None:
    if args.json:
        emit_json(page)
        return
    rows = []
    for s in page["items"]:
        state = "enabled" if s["enabled"] else f"disabled ({s.get('disabled_reason') or '?'})"
        rows.append(s | {"state": state, "reopens": local_time(s.get("breaker_reopens_at"), tz)})
    table(rows, SINK_COLUMNS)
    if not args.url:
        print("\nbreaker and in-flight live in the running service: ask it with --url")


def show_event(event: dict[str, Any], tz: str) -> None:
    shown = event | {"received_at": f"{local_time(event.get('received_at'), tz)} ({tz})"}
    for key in [
        "event_id",
        "received_at",
        "source",
        "event",
        "external_id",
        "status",
        "sent_date",
        "schema_error",
    ]:
        print(f"{key:>12}: {shown.get(key) if shown.get(key) is not None else '-'}")
    print(f"{'headers':>12}:")
    print(json.dumps(event.get("headers") or {}, indent=2, ensure_ascii=False))
    print(
        f"{'body':>12}: ({len(event['body'].encode())} bytes, whole; "
        "indented here, as received with --json)"
    )
    print(_pretty_body(event["body"]))
    for delivery in event.get("deliveries", []):
        print()
        show_delivery(delivery, tz)


def _pretty_body(text: str) -> str:
    """The body as indented JSON when it is JSON, else as it came."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def show_delivery(delivery: dict[str, Any], tz: str) -> None:
    print(
        f"delivery {delivery['id']} → {delivery['sink']} (route {delivery['route']}): "
        f"{delivery['status']}, {delivery['attempt_count']} attempt(s)"
    )
    if delivery.get("next_attempt_at"):
        shown = _next_attempt(delivery, tz)
        print(f"  next attempt: {shown}" if shown == WAITING else f"  next attempt at {shown}")
    if events := delivery.get("digest_events"):  # a digest: the events it carried
        shown = ", ".join(map(str, events[:20])) + (" …" if len(events) > 20 else "")
        print(f"  digest of {len(events)} event(s): {shown}")
    for a in delivery.get("attempts", []):
        code = a["status_code"] if a["status_code"] is not None else "-"
        error = f"  {a['error']}" if a["error"] else ""
        print(
            f"  #{a['number']} {local_time(a['started_at'], tz)} {a['outcome']:<9} {code} "
            f"{a['duration_ms']}ms{error}"
        )
