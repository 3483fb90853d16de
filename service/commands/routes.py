"""``ponte routes test`` and ``ponte preview``: see what routing does without sending anything."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import yaml

from service.commands.opsconfig import CliError, OpsConfig, existing_database, preview_settings
from service.commands.output import emit_json
from service.commands.serve import load_or_report
from service.config.load import resolve_path
from service.config.settings import Settings
from service.eduzz import catalogue
from service.errors import ConfigError, EnvelopeError
from service.ingest.envelope import decode
from service.operate.digest_preview import digest_preview
from service.operate.route_test import followup_preview, render_message, routing_report
from service.routing.routes import plan
from service.routing.sale import for_planning
from service.sinks.registry import message_kind
from service.store.open import open_store


def routes_args(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", help="test")
    test = actions.add_parser("test", help="show (and with --expect, assert) routing for event files")
    test.add_argument("files", nargs="*", metavar="FILE",
                      help="event JSON files, or catalogue event names (myeduzz.invoice_paid)")
    test.add_argument("--expect", metavar="TESTS.yaml", help="assert the sinks each file reaches")
    test.add_argument("--json", action="store_true", help="print JSON instead of text")
    test.add_argument("--source", metavar="NAME",
                      help="the source the events arrive on (routes' sources:)")
    test.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file")


def preview_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", metavar="EVENT_ID|FILE", help="a stored event id, an event file or a catalogue name")
    parser.add_argument("--sink", required=True, help="the sink whose message to print")
    parser.add_argument("--source", metavar="NAME",
                        help="the source the event arrives on (routes' sources:)")


def load_event(ref: str, base: Path | None = None) -> tuple[str, bytes]:
    """An event body from a file path or a catalogue event name; returns (label, body)."""
    path = Path(ref) if base is None or Path(ref).is_absolute() else base / ref
    if path.is_file():
        return str(ref), path.read_bytes()
    name = catalogue.normalize_event_name(ref)
    if catalogue.spec(name) is not None:
        return name, catalogue.fixture_bytes(name)
    close = catalogue.closest_event(ref)
    hint = f" (did you mean {close}?)" if close is not None else ""
    raise FileNotFoundError(f"{ref}: no such file, and not a catalogue event name{hint}")


def default_source(settings: Settings, given: str | None) -> str | None:
    """``--source``, else the only configured source, else None (routes' ``sources`` unchecked)."""
    if given is not None:
        return given
    names = list(settings.config.sources)
    return names[0] if len(names) == 1 else None


def routes_test(args: argparse.Namespace) -> int:
    """Print routing for each file; with --expect, assert the sinks and exit 1 on a mismatch."""
    settings = load_or_report(args)
    if settings is None:
        return 1
    try:
        cases = _cases(args)
        source = default_source(settings, args.source)
        reports = [(routing_report(settings, label, body, entry_source or source), expected)
                   for label, body, expected, entry_source in cases]
    except (OSError, EnvelopeError, ValueError) as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 2
    failures = [_mismatch(r, e) for r, e in reports if e is not None]
    failures = [f for f in failures if f]
    if args.json:
        emit_json([r for r, _ in reports])
    else:
        for report, _ in reports:
            _print_report(report)
    if args.source is not None and args.source not in settings.config.sources:
        print(f"ponte: warning: no source {args.source!r} in the config", file=sys.stderr)
    for line in failures:
        print(f"FAIL {line}", file=sys.stderr)
    if args.expect:
        print(f"{len(cases) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


Case = tuple[str, bytes, list[str] | None, str | None]


def _cases(args: argparse.Namespace) -> list[Case]:
    cases: list[Case] = [(*load_event(f), None, None) for f in args.files]
    if args.expect:
        path = Path(args.expect)
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(entries, list):
            raise ValueError(f"{path}: expected a list of {{file, sinks}} entries")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or "file" not in entry or not isinstance(entry.get("sinks"), list):
                raise ValueError(f"{path}[{i}]: each entry needs file: and sinks: [..]")
            source = str(entry["source"]) if entry.get("source") is not None else None
            sinks = [str(s) for s in entry["sinks"]]
            cases.append((*load_event(str(entry["file"]), path.parent), sinks, source))
    return cases


def _mismatch(report: dict[str, Any], expected: list[str]) -> str | None:
    got = sorted(d["sink"] for d in report["deliveries"])
    if got == sorted(expected):
        return None
    return f"{report['file']} ({report['event']}): expected sinks {sorted(expected)}, got {got}"


def _print_report(report: dict[str, Any]) -> None:
    source = f"  (source {report['source']})" if report.get("source") else ""
    print(f"== {report['file']}  [{report['event']}]{source}")
    for r in report["routes"]:
        print(f"  {'✔' if r['matched'] else '✘'} {r['route']}: {r['reason']}")
    if not report["deliveries"]:
        print("  → no sink receives this event")
    for d in report["deliveries"]:
        print(f"  → {d['sink']} (route {d['route']}):")
        text = msgspec.json.format(msgspec.json.encode(d["message"]), indent=2).decode()
        print("    " + text.replace("\n", "\n    "))
        if "digest" in d:
            rule = d["digest"]
            print(f"    ⏳ digest: waits {rule['wait']:g}s, then one message every "
                  f"{rule['interval']:g}s (group {rule['group']}, at most {rule['max_items']} items listed)")
        if "followup" in d:
            print(f"    ⏰ {d['followup']['text']}")
    for cancel in report.get("cancels", []):
        print(f"  ✖ {cancel['text']}")
    print()


def preview(args: argparse.Namespace) -> int:
    """Print what one sink would receive for a stored event or an event file.

    Only storage, routes and that sink need to be valid: other sinks, sources and the
    server section may be broken or use unset variables."""
    path = resolve_path(args.config)
    try:
        settings = preview_settings(path, args.sink)
    except ConfigError as exc:
        print(f"{path}: {len(exc.errors)} error(s)", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    try:
        body, route = _preview_source(settings, args)
    except (OSError, EnvelopeError, LookupError, CliError) as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 2
    kind = message_kind(settings.config.sinks[args.sink])
    message = render_message(settings, body, args.sink, route, kind)
    env = decode(body)
    event = catalogue.normalize_event_name(env.event)
    digest = digest_preview(settings, route, args.sink, event, env.doc, body, kind)
    followup = followup_preview(settings, route, args.sink,
                                for_planning(settings.config, settings.routes, event, env.doc), time.time())
    if followup is not None:
        print(f"ponte: {args.sink} (route {route}): {followup['text']}", file=sys.stderr)
    extras = {k: v for k, v in (("digest", digest), ("followup", followup)) if v is not None}
    emit_json({"message": message, **extras} if extras else message)
    return 0


def _preview_source(settings: Settings, args: argparse.Namespace) -> tuple[bytes, str]:
    if args.event.isdigit():
        body = asyncio.run(_stored_body(settings, int(args.event)))
    else:
        body = load_event(args.event)[1]
    env = decode(body)
    source = default_source(settings, args.source)
    name = catalogue.normalize_event_name(env.event)
    planned = {p.sink: p.route for p in plan(settings.routes, name, env.doc, source)}
    return body, planned.get(args.sink, "(preview)")


async def _stored_body(settings: Settings, event_id: int) -> bytes:
    cfg = settings.config
    existing_database(OpsConfig(cfg.path, cfg.storage))  # never create one to look in it
    store = open_store(cfg.storage.url)
    await store.open()
    try:
        event = await store.get_event(event_id)
    finally:
        await store.close()
    if event is None:
        raise LookupError(f"no event {event_id}")
    return event.body.encode()
