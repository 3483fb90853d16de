"""Offline admin commands on the database: events, deliveries, replay, retry, purge."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from service import operations as ops
from service import retention
from service.commands.output import emit_json, table
from service.commands.serve import load_or_report
from service.runtime import Settings
from service.store import DELIVERY_STATUSES, Store, open_store

EVENT_COLUMNS = ["event_id", "received_at", "source", "event", "external_id", "status"]
DELIVERY_COLUMNS = ["id", "event_id", "event", "sink", "status", "attempt_count", "next_attempt_at", "last_error"]


def _filters(parser: argparse.ArgumentParser, *, deliveries: bool) -> None:
    parser.add_argument("--source")
    parser.add_argument("--event", help="event name glob, e.g. 'myeduzz.invoice_*'")
    parser.add_argument("--external-id", dest="external_id")
    parser.add_argument("--since", help="ISO-8601 time or an age such as 24h")
    parser.add_argument("--until", help="ISO-8601 time or an age such as 1h")
    if deliveries:
        parser.add_argument("--status", choices=DELIVERY_STATUSES)
        parser.add_argument("--sink")
        parser.add_argument("--route")


def _listing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--cursor")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def events_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event_id", nargs="?", type=int, help="show one event in full")
    _filters(parser, deliveries=False)
    _listing(parser)


def deliveries_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("delivery_id", nargs="?", type=int, help="show one delivery with its attempts")
    _filters(parser, deliveries=True)
    _listing(parser)


def replay_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event_id", nargs="?", type=int, help="replay one event")
    parser.add_argument("--to", action="append", metavar="SINK", help="with EVENT_ID: only these sinks")
    _filters(parser, deliveries=True)
    parser.add_argument("--all", action="store_true", help="allow an empty filter (replays everything)")
    parser.add_argument("--json", action="store_true")


def retry_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("delivery_id", type=int)
    parser.add_argument("--json", action="store_true")


def purge_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than", dest="days", type=int,
                        help="days (default: storage.retention_days)")


def _params(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("source", "event", "external_id", "since", "until", "status", "sink", "route")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _run(args: argparse.Namespace, body: Callable[[Store, Settings], Awaitable[int]]) -> int:
    settings = load_or_report(args)
    if settings is None:
        return 1

    async def main() -> int:
        store = open_store(settings.config.storage.url)
        await store.open()
        try:
            return await body(store, settings)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except (ops.BadRequest, ops.NotFound, ops.Conflict) as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - storage errors, printed plainly
        print(f"ponte: {exc}", file=sys.stderr)
        return 1


def events(args: argparse.Namespace) -> int:
    """List events, or show one with its body, deliveries and attempts."""
    return _show_or_list(args, args.event_id, "event", EVENT_COLUMNS)


def deliveries(args: argparse.Namespace) -> int:
    """List deliveries, or show one with its attempts."""
    return _show_or_list(args, args.delivery_id, "delivery", DELIVERY_COLUMNS)


def _show_or_list(args: argparse.Namespace, record_id: int | None, what: str, columns: list[str]) -> int:
    """Show the record ``record_id`` of kind ``what`` (event/delivery), or list them."""
    async def body(store: Store, settings: Settings) -> int:
        if record_id is not None:
            record = await (store.get_event if what == "event" else store.get_delivery)(record_id)
            if record is None:
                raise ops.NotFound(f"no {what} {record_id}")
            show = _show_event if what == "event" else _show_delivery
            emit_json(record) if args.json else show(record)
            return 0
        lister = store.list_events if what == "event" else store.list_deliveries
        page = await lister(ops.make_filter(_params(args)), args.limit, args.cursor)
        _print_page(args, page.items, page.next, columns)
        return 0

    return _run(args, body)


def replay(args: argparse.Namespace) -> int:
    """Replay one event, or every delivery matching the filters."""
    async def body(store: Store, settings: Settings) -> int:
        if args.event_id is not None:
            done = await ops.replay_event(store, settings, args.event_id, args.to)
        else:
            params: dict[str, Any] = _params(args) | ({"all": True} if args.all else {})
            done = await ops.bulk_replay(store, settings, params)
        _print_done(args, done)
        return 0

    return _run(args, body)


def retry(args: argparse.Namespace) -> int:
    """Try one delivery again now."""
    async def body(store: Store, settings: Settings) -> int:
        _print_done(args, await ops.retry_delivery(store, settings, args.delivery_id))
        return 0

    return _run(args, body)


def purge(args: argparse.Namespace) -> int:
    """Delete events older than the retention (never one with a delivery still pending)."""
    async def body(store: Store, settings: Settings) -> int:
        days = args.days if args.days is not None else settings.config.storage.retention_days
        count = await retention.prune(store, days)
        print(f"purged {count} event(s) older than {days} day(s)")
        return 0

    return _run(args, body)


def _print_done(args: argparse.Namespace, done: ops.Rescheduled) -> None:
    if args.json:
        emit_json(done.as_dict())
        return
    skipped = f" ({done.skipped} skipped: sink no longer configured)" if done.skipped else ""
    print(f"rescheduled {done.rescheduled} delivery(ies){skipped}; a running Ponte sends them within a second")


def _print_page(args: argparse.Namespace, items: list[dict[str, Any]], cursor: str | None,
                columns: list[str]) -> None:
    if args.json:
        emit_json({"items": items, "next": cursor})
        return
    table(items, columns)
    if cursor:
        print(f"\nmore: add --cursor {cursor}")


def _show_event(event: dict[str, Any]) -> None:
    for key in EVENT_COLUMNS + ["sent_date", "schema_error"]:
        print(f"{key:>12}: {event.get(key) if event.get(key) is not None else '-'}")
    print(f"{'headers':>12}: {event['headers']}")
    print(f"{'body':>12}: {event['body'][:2000]}")
    for delivery in event["deliveries"]:
        print()
        _show_delivery(delivery)


def _show_delivery(delivery: dict[str, Any]) -> None:
    print(f"delivery {delivery['id']} → {delivery['sink']} (route {delivery['route']}): "
          f"{delivery['status']}, {delivery['attempt_count']} attempt(s)")
    if delivery.get("next_attempt_at"):
        print(f"  next attempt at {delivery['next_attempt_at']}")
    if events := delivery.get("digest_events"):  # a digest: the events it carried
        shown = ", ".join(map(str, events[:20])) + (" …" if len(events) > 20 else "")
        print(f"  digest of {len(events)} event(s): {shown}")
    for a in delivery.get("attempts", []):
        code = a["status_code"] if a["status_code"] is not None else "-"
        error = f"  {a['error']}" if a["error"] else ""
        print(f"  #{a['number']} {a['started_at']} {a['outcome']:<9} {code} {a['duration_ms']}ms{error}")
