"""The overview's chart: events and dead letters per hour, laid out for a server-rendered SVG."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from service.ui.i18n import local_time

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 720, 220, 16, 24, 36


@dataclass(frozen=True, slots=True)
class Bar:
    """One hour: two bars (events, failures) and its label."""

    x: float
    width: float
    events: int
    failures: int
    events_y: float
    failures_y: float
    label: str
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything the SVG template draws."""

    bars: list[Bar]
    peak: int
    width: int = WIDTH
    height: int = HEIGHT
    base: int = HEIGHT - BOTTOM
    left: int = LEFT


def hourly_chart(rows: list[tuple[int, int, int]], now: float, zone: ZoneInfo, hours: int = 24) -> Chart:
    """Lay out the last ``hours`` hours (empty hours included) from ``(hour, events, failures)``."""
    by_hour = {h: (e, f) for h, e, f in rows}
    last = int(now // 3600) * 3600
    starts = [last - 3600 * i for i in range(hours - 1, -1, -1)]
    peak = max([1, *(max(by_hour.get(h, (0, 0))) for h in starts)])
    slot = (WIDTH - LEFT) / hours
    usable = HEIGHT - TOP - BOTTOM
    bars = []
    for i, start in enumerate(starts):
        events, failures = by_hour.get(start, (0, 0))
        x = LEFT + i * slot
        label = local_time(float(start), zone, "%H")
        bars.append(Bar(x=round(x + 1, 1), width=round(slot / 2 - 1, 1), events=events, failures=failures,
                        events_y=round(usable * events / peak, 1), failures_y=round(usable * failures / peak, 1),
                        label=label if i % 3 == 0 else "", title=local_time(float(start), zone, "%d/%m %H:00")))
    return Chart(bars, peak)
