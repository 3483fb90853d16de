"""``ponte report NAME [--period yesterday|today|YYYY-MM-DD] [--send]``: a summary on demand.

Without ``--send`` it prints the summary as text (``--json``: what each of the report's
sinks would receive). With
``--send`` the summary is stored like a scheduled one (one delivery per sink, retries,
history) and the running service sends it; it does not count as the scheduled period.
Without ``--period``: the latest scheduled period that ended.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from service.batches.report_run import SOURCE, report_doc, report_zone, send_report
from service.batches.reports import Period, calendar_day, last_period, parse_at
from service.commands.output import emit_json
from service.commands.serve import load_or_report
from service.config.schema import ReportConfig
from service.config.settings import Settings
from service.render.batch_cards import REPORT_EVENT
from service.render.batch_messages import render_batch
from service.render.messages import message_for
from service.sinks.registry import message_kind
from service.store.open import open_store
from service.store.protocol import Store
from service.store.records import Claimed


def report_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="a report from the config's reports:")
    parser.add_argument(
        "--period", help="yesterday, today or YYYY-MM-DD (default: the last scheduled period)"
    )
    parser.add_argument(
        "--send", action="store_true", help="store it for sending (the service sends it)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print what each sink would receive, as JSON"
    )


def report(args: argparse.Namespace) -> int:
    """Render (or with --send, store for sending) one report for one period."""
    settings = load_or_report(args)
    if settings is None:
        return 1
    found = {r.name: r for r in settings.config.reports}
    if args.name not in found:
        names = ", ".join(found) or "none configured"
        print(f"ponte: no report {args.name!r} (reports: {names})", file=sys.stderr)
        return 2
    cfg = found[args.name]
    now = time.time()
    try:
        period = pick_period(settings, cfg, args.period, now)
    except ValueError as exc:
        print(f"ponte: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run(settings, cfg, period, now, args.send, args.json))


def pick_period(settings: Settings, cfg: ReportConfig, text: str | None, now: float) -> Period:
    """The period ``--period`` names, in the report's time zone."""
    tz = ZoneInfo(report_zone(settings, cfg))
    if text is None:
        return last_period(cfg.every, parse_at(cfg.at), tz, now)
    return calendar_day(text, tz, now)


async def _run(
    settings: Settings, cfg: ReportConfig, period: Period, now: float, send: bool, as_json: bool
) -> int:
    store = open_store(settings.config.storage.url)
    await store.open()
    try:
        if send:
            event_id = await send_report(
                store, settings, cfg, period, now, now, late=False, scheduled=False
            )
            print(
                f"report {cfg.name} stored as event {event_id}: the running service sends it to "
                f"{', '.join(cfg.to)}"
            )
            return 0
        if as_json:
            emit_json(await rendered(store, settings, cfg, period, now))
        else:
            print(readable(await report_doc(store, settings, cfg, period, now, late=False), cfg))
        return 0
    finally:
        await store.close()


def readable(doc: dict[str, Any], cfg: ReportConfig) -> str:
    """The summary as plain text (the e-mail's subject and text), then where it goes."""
    email = render_batch(doc, "email")
    sinks = ", ".join(cfg.to)
    return f"{email['subject']}\n\n{email['text'].strip()}\n\n(sinks: {sinks}; --json shows each one's message)"


async def rendered(
    store: Store, settings: Settings, cfg: ReportConfig, period: Period, now: float
) -> list[dict[str, Any]]:
    """What each sink of the report would receive for ``period``."""
    doc = await report_doc(store, settings, cfg, period, now, late=False)
    body = msgspec.json.encode(doc)
    out = []
    for sink in cfg.to:
        claimed = Claimed(
            0,
            0,
            sink,
            f"report:{cfg.name}",
            0,
            0,
            SOURCE,
            REPORT_EVENT,
            doc["id"],
            doc["sentDate"],
            now,
            body,
        )
        kind = message_kind(settings.config.sinks[sink])
        out.append(
            {
                "sink": sink,
                "period": doc["data"]["period"],
                "message": message_for(settings, claimed, kind),
            }
        )
    return out
