"""Running a report: read a period's events, compute the figures, store a delivery per sink.

The figures are computed when the report runs and kept in the ``ponte.report`` event's
body, so a retry or a replay sends the same message. ``run_due`` is the scheduler's step:
for each report, the latest period that ended, unless it was already sent.
"""

from __future__ import annotations

import fnmatch
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import msgspec
import structlog

from service.batches.items import decode_doc, event_name, item_of
from service.batches.reports import (
    LATE_AFTER,
    Period,
    last_period,
    parse_at,
    previous,
)
from service.batches.summary import Sales, change
from service.config.schema import ReportConfig
from service.render.batch_cards import REPORT_EVENT
from service.routing.conditions import compile_where, predicate
from service.store.protocol import Store
from service.store.records import NewEvent, ReportRun

if TYPE_CHECKING:
    from service.config.settings import Settings

SOURCE = "ponte"
ITEMS_KEPT = 100  # items a custom template sees (the figures cover every event)
PAGE = 1000
log = structlog.get_logger("ponte.reports")


def report_zone(settings: Settings, report: ReportConfig) -> str:
    """The report's time zone name (its own, else ``messages.timezone``)."""
    return report.timezone or settings.config.messages.timezone


def matcher(report: ReportConfig) -> Callable[[str, dict[str, Any]], bool]:
    """Whether an event (name, envelope) belongs in the report: its globs and ``where``."""
    globs = re.compile("|".join(fnmatch.translate(g) for g in report.events))
    internal = any(g.startswith("ponte.") for g in report.events)
    errors: list[str] = []
    test = predicate(compile_where(report.where, f"reports[{report.name}].where", errors))

    def matches(event: str, doc: dict[str, Any]) -> bool:
        if event.startswith("ponte.") and not internal:
            return False
        return globs.match(event) is not None and (test is None or test(doc))

    return matches


async def figures(
    store: Store, report: ReportConfig, period: Period, timezone: str, keep: int = ITEMS_KEPT
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The sales figures of a period and its first ``keep`` matching items."""
    matches, sales, after = matcher(report), Sales(), 0
    items: list[dict[str, Any]] = []
    while True:
        page = await store.events_between(period.start, period.end, after, PAGE)
        for stored in page:
            event, doc = event_name(stored), decode_doc(stored.body)
            if matches(event, doc):
                sales.add(event, doc)
                if len(items) < keep:
                    items.append(item_of(stored, doc, timezone))
        if len(page) < PAGE:
            return sales.as_dict(), items
        after = page[-1].id


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def report_doc(
    store: Store, settings: Settings, report: ReportConfig, period: Period, now: float, late: bool
) -> dict[str, Any]:
    """The ``ponte.report`` envelope: period, figures, change against the period before, items."""
    tz_name = report_zone(settings, report)
    tz = ZoneInfo(tz_name)
    summary, items = await figures(store, report, period, tz_name)
    before = previous(period, report.every, parse_at(report.at), tz)
    old, _ = await figures(store, report, before, tz_name, keep=0)
    data = {
        "report": report.name,
        "every": report.every,
        "timezone": tz_name,
        "period": {"start": _iso(period.start), "end": _iso(period.end), "label": period.label(tz)},
        "previous_period": {
            "start": _iso(before.start),
            "end": _iso(before.end),
            "label": before.label(tz),
        },
        "late": late,
        "due_at": _iso(period.end),
        "sent_at": _iso(now),
        "summary": summary,
        "change": change(summary, old),
        "items": items,
    }
    return {
        "id": f"{report.name}-{int(period.start)}",
        "event": REPORT_EVENT,
        "sentDate": _iso(now),
        "data": data,
    }


async def send_report(
    store: Store,
    settings: Settings,
    report: ReportConfig,
    period: Period,
    now: float,
    wall: float,
    *,
    late: bool,
    scheduled: bool,
) -> int | None:
    """Store the report for ``period`` and its deliveries; None if the period was already sent.

    ``now`` is the scheduler's clock (what the message says), ``wall`` the worker's (when due).
    """
    doc = await report_doc(store, settings, report, period, now, late)
    external = f"report:{report.name}:{int(period.start)}"
    if not scheduled:
        external += f":manual:{uuid.uuid4().hex[:12]}"
    event = NewEvent(
        source=SOURCE,
        external_id=external,
        event=REPORT_EVENT,
        sent_date=doc["sentDate"],
        received_at=wall,
        status="accepted",
        headers={},
        body=msgspec.json.encode(doc),
    )
    sinks = [(s, "disabled" if s in settings.disabled_sinks else "pending") for s in report.to]
    run = ReportRun(report.name, period.start, period.end, now, late, event, sinks, scheduled)
    return await store.record_report(run)


async def run_due(store: Store, settings: Settings, now: float, wall: float) -> int:
    """Send every report whose latest period ended and was not sent yet; return how many."""
    sent = 0
    for report in settings.config.reports:
        try:
            sent += await _run_one(store, settings, report, now, wall)
        except Exception:
            log.exception("report_failed", report=report.name)
    return sent


async def _run_one(
    store: Store, settings: Settings, report: ReportConfig, now: float, wall: float
) -> int:
    """Send ``report``'s latest period if it ended and was not sent yet; 1 if sent."""
    tz = ZoneInfo(report_zone(settings, report))
    period = last_period(report.every, parse_at(report.at), tz, now)
    last = await store.last_report(report.name)
    if last is not None and last >= period.start:  # sent (or the clock went back)
        return 0
    late = now - period.end > LATE_AFTER
    if last is None and late:  # a new report: its first period is the next one, not a past one
        await store.record_report(
            ReportRun(report.name, period.start, period.end, now, False, None, [])
        )
        log.info("report_scheduled", report=report.name, next_after=_iso(period.end))
        return 0
    event_id = await send_report(
        store, settings, report, period, now, wall, late=late, scheduled=True
    )
    if event_id is None:
        return 0
    log.info(
        "report_sent",
        report=report.name,
        period_start=_iso(period.start),
        late=late,
        event_id=event_id,
    )
    return 1
