"""Scheduled summaries (``reports:``): periods in the report's time zone, each sent once.

A report with ``every: day`` and ``at: "20:00"`` fires at 20:00 local time and covers the
period since the previous firing: [yesterday 20:00, today 20:00). ``hour`` uses only the
minutes of ``at``; ``week`` fires on Mondays, ``month`` on day 1. Periods are computed on
the local calendar with ``zoneinfo`` (a day across a DST change is 23 or 25 hours) and
stored by their start (``report_runs``), so a period is sent once even across restarts.
Only the latest period that ended is sent: a period whose time passed while Ponte was
down is sent at start, marked late; older missed periods are not caught up. A new
report starts with its next period (no "late" summary of the day before it existed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_AT = re.compile(r"^(\d{1,2}):(\d{2})$")
LATE_AFTER = 300.0  # seconds after its time: a report sent later says it is late


def parse_at(text: str) -> time:
    """``"20:00"`` -> 20:00; ValueError naming ``at`` for ``"25:00"``, ``"8h"``…"""
    match = _AT.match(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"at: {text!r} is not a time of day (use HH:MM, 00:00 to 23:59)")
    return time(int(match[1]), int(match[2]))


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for ``name``; ValueError naming ``timezone`` if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: unknown time zone {name!r}") from None


def validate_report(cfg: Any) -> None:
    """Raise ValueError (``key: problem``) for a report that cannot be scheduled."""
    parse_at(cfg.at)
    if cfg.timezone is not None:
        zone(cfg.timezone)
    if not re.match(r"^[A-Za-z0-9_.-]+$", cfg.name):
        raise ValueError("name: names may use letters, digits, '_', '-' and '.'")


def check_report_references(reports: list[Any], sinks: dict[str, Any], errors: list[str]) -> None:
    """Unknown sinks in ``to`` and duplicate report names."""
    seen: set[str] = set()
    for i, report in enumerate(reports):
        if report is None:
            continue
        if report.name in seen:
            errors.append(f"reports[{i}].name: duplicate report name {report.name!r}")
        seen.add(report.name)
        errors += [
            f"reports[{i}].to[{j}]: unknown sink {sink!r}"
            for j, sink in enumerate(report.to)
            if sink not in sinks
        ]


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in unix seconds; ``fire`` is when it is due (its end)."""

    start: float
    end: float
    calendar: bool = False  # a calendar day (``ponte report --period``), not a scheduled period

    def label(self, tz: ZoneInfo) -> str:
        """``29/11/2026 20:00 a 30/11/2026 20:00``."""
        fmt = "%d/%m/%Y %H:%M"
        a, b = (datetime.fromtimestamp(t, tz).strftime(fmt) for t in (self.start, self.end))
        return f"{a} a {b}"


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def last_period(every: str, at: time, tz: ZoneInfo, now: float) -> Period:
    """The latest period that has ended by ``now``."""
    local = datetime.fromtimestamp(now, tz)
    if every == "hour":
        fire = local.replace(minute=at.minute, second=0, microsecond=0).astimezone(UTC)
        if fire.timestamp() > now:
            fire -= timedelta(hours=1)
        return Period((fire - timedelta(hours=1)).timestamp(), fire.timestamp())
    day = _fire_day(every, local.date())
    if _local(day, at, tz).timestamp() > now:
        day = _fire_day(every, day - timedelta(days=1))
    return Period(
        _local(previous_day(every, day), at, tz).timestamp(), _local(day, at, tz).timestamp()
    )


def _fire_day(every: str, day: date) -> date:
    """The latest firing day on or before ``day``."""
    if every == "week":
        return day - timedelta(days=day.weekday())
    if every == "month":
        return day.replace(day=1)
    return day


def previous_day(every: str, day: date) -> date:
    """The firing day one period before ``day`` (a firing day)."""
    if every == "week":
        return day - timedelta(days=7)
    if every == "month":
        return (day - timedelta(days=1)).replace(day=1)
    return day - timedelta(days=1)


def previous(period: Period, every: str, at: time, tz: ZoneInfo) -> Period:
    """The period just before ``period`` (for a calendar day: the same hours a day earlier)."""
    if period.calendar:
        start, end = (
            datetime.fromtimestamp(t, tz) - timedelta(days=1) for t in (period.start, period.end)
        )
        back = [datetime.combine(d.date(), d.time(), tzinfo=tz).timestamp() for d in (start, end)]
        return Period(back[0], back[1], calendar=True)
    return last_period(every, at, tz, period.start)


def calendar_day(text: str, tz: ZoneInfo, now: float) -> Period:
    """``today`` (so far), ``yesterday`` or ``YYYY-MM-DD`` as a local calendar day."""
    today = datetime.fromtimestamp(now, tz).date()
    if text == "today":
        return Period(_local(today, time(0), tz).timestamp(), now, calendar=True)
    if text == "yesterday":
        day = today - timedelta(days=1)
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"--period: {text!r} is not yesterday, today or YYYY-MM-DD") from None
    start, end = _local(day, time(0), tz), _local(day + timedelta(days=1), time(0), tz)
    return Period(start.timestamp(), end.timestamp(), calendar=True)
