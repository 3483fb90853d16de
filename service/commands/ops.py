"""Admin commands: events, deliveries, replay, retry, purge and sinks.

Offline they act on the database named by the config's ``storage`` section (nothing else
in the file needs to be valid); with ``--url`` they go through a running Ponte's admin API.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from service.commands import backend, show
from service.commands.opsconfig import best_effort_timezone, load_ops_config
from service.commands.output import emit_json, local_time
from service.config.load import resolve_path
from service.errors import BadRequest, ConfigError, Conflict, NotFound
from service.store.records import DELIVERY_STATUSES

Body = Callable[[backend.Backend, str], Awaitable[int]]


# --- arguments ---------------------------------------------------------------------------


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("PONTE_URL"),
        metavar="URL",
        help="act through a running Ponte's admin API, e.g. http://127.0.0.1:8080 "
        "(default: $PONTE_URL; token from $PONTE_ADMIN_TOKEN)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="with --url: give up after this long (default 30)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _filters(parser: argparse.ArgumentParser, *, deliveries: bool) -> None:
    parser.add_argument("--source", help="only events from this source")
    parser.add_argument("--event", help="event name glob, e.g. 'myeduzz.invoice_*'")
    parser.add_argument("--external-id", dest="external_id", help="the sender's event id")
    parser.add_argument("--since", help="received at or after: ISO-8601 time or an age such as 24h")
    parser.add_argument("--until", help="received before: ISO-8601 time or an age such as 1h")
    if deliveries:
        parser.add_argument(
            "--status",
            choices=DELIVERY_STATUSES,
            help="delivery status",
        )
        parser.add_argument("--sink", help="only deliveries to this sink")
        parser.add_argument("--route", help="only deliveries planned by this route")


def _listing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit", type=int, default=50, help="rows per page, 1 to 500 (default 50)"
    )
    parser.add_argument("--cursor", help="the next page, as printed after the previous one")


def events_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event_id", nargs="?", type=int, help="show one event in full")
    _filters(parser, deliveries=False)
    _listing(parser)
    _target(parser)


def deliveries_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "delivery_id", nargs="?", type=int, help="show one delivery with its attempts"
    )
    _filters(parser, deliveries=True)
    _listing(parser)
    _target(parser)


def replay_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event_id", nargs="?", type=int, help="replay one event")
    parser.add_argument(
        "--to", action="append", metavar="SINK", help="with EVENT_ID: only these sinks"
    )
    _filters(parser, deliveries=True)
    parser.add_argument(
        "--all", action="store_true", help="allow an empty filter (replays everything)"
    )
    _target(parser)


def retry_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("delivery_id", type=int, help="the delivery to try again now")
    _target(parser)


def purge_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--older-than",
        dest="older_than",
        metavar="AGE",
        help="a duration such as 12h or 30d, or a number of days (default: storage.retention_days)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be purged; delete nothing"
    )
    _target(parser)


def sinks_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=["enable", "disable"],
        help="enable or disable a sink (without it: list the sinks)",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the sink to enable or disable")
    _target(parser)


def _params(args: argparse.Namespace) -> dict[str, Any]:
    keys = (
        "source",
        "event",
        "external_id",
        "since",
        "until",
        "status",
        "sink",
        "route",
        "limit",
        "cursor",
    )
    # query parameters as text, as the admin API receives them, for both backends
    return {k: str(getattr(args, k)) for k in keys if getattr(args, k, None) is not None}


# --- running -----------------------------------------------------------------------------


def _run(args: argparse.Namespace, body: Body) -> int:
    try:
        return asyncio.run(_with_backend(args, body))
    except (BadRequest, NotFound, Conflict) as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"{resolve_path(args.config)}: {len(exc.errors)} error(s)", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - CliError, storage errors: printed plainly
        print(f"ponte: {exc}", file=sys.stderr)
        return 1


async def _with_backend(args: argparse.Namespace, body: Body) -> int:
    path = resolve_path(args.config)
    opened: AbstractAsyncContextManager[backend.Backend]
    if args.url:
        opened, timezone = backend.remote(args.url, args.timeout), best_effort_timezone(path)
    else:
        cfg = load_ops_config(path)
        opened, timezone = backend.local(cfg), cfg.timezone
    async with opened as target:
        return await body(target, timezone)


def events(args: argparse.Namespace) -> int:
    """List events, or show one with its body, headers, deliveries and attempts."""

    async def body(target: backend.Backend, tz: str) -> int:
        if args.event_id is not None:
            event = await target.get_event(args.event_id)
            emit_json(event) if args.json else show.show_event(event, tz)
        else:
            show.print_page(args, await target.list_events(_params(args)), show.EVENT_COLUMNS, tz)
        return 0

    return _run(args, body)


def deliveries(args: argparse.Namespace) -> int:
    """List deliveries, or show one with its attempts."""

    async def body(target: backend.Backend, tz: str) -> int:
        if args.delivery_id is not None:
            delivery = await target.get_delivery(args.delivery_id)
            emit_json(delivery) if args.json else show.show_delivery(delivery, tz)
        else:
            show.print_page(
                args, await target.list_deliveries(_params(args)), show.DELIVERY_COLUMNS, tz
            )
        return 0

    return _run(args, body)


def replay(args: argparse.Namespace) -> int:
    """Replay one event, or every delivery matching the filters."""

    async def body(target: backend.Backend, tz: str) -> int:
        if args.event_id is not None:
            done = await target.replay_event(args.event_id, args.to)
        else:
            params = {k: v for k, v in _params(args).items() if k not in ("limit", "cursor")}
            done = await target.bulk_replay(params | ({"all": True} if args.all else {}))
        show.print_done(args, done, tz)
        return 0

    return _run(args, body)


def retry(args: argparse.Namespace) -> int:
    """Try one delivery again now."""

    async def body(target: backend.Backend, tz: str) -> int:
        show.print_done(args, await target.retry(args.delivery_id), tz)
        return 0

    return _run(args, body)


def purge(args: argparse.Namespace) -> int:
    """Delete events older than an age (never one with a delivery still waiting)."""

    async def body(target: backend.Backend, tz: str) -> int:
        params: dict[str, Any] = {"dry_run": args.dry_run}
        if args.older_than is not None:
            params["older_than"] = args.older_than
        done = await target.purge(params)
        if args.json:
            emit_json(done)
        else:
            verb = "would purge" if done["dry_run"] else "purged"
            print(
                f"{verb} {done['purged']} event(s) received before {local_time(done['before'], tz)}"
            )
        return 0

    return _run(args, body)


def sinks(args: argparse.Namespace) -> int:
    """List sinks (state, backlog, breaker), or enable/disable one."""
    if args.action is not None and not args.name:
        print(f"ponte: sinks {args.action} needs the sink's NAME", file=sys.stderr)
        return 2

    async def body(target: backend.Backend, tz: str) -> int:
        if args.action is None:
            show.print_sinks(args, await target.sinks(), tz)
            return 0
        done = await target.set_sink(args.name, args.action == "enable")
        if args.json:
            emit_json(done)
            return 0
        print(
            f"sink {done['name']} {args.action}d; "
            f"{done['deliveries_changed']} delivery(ies) changed"
        )
        if done.get("note"):
            print(f"note: {done['note']}")
        return 0

    return _run(args, body)
