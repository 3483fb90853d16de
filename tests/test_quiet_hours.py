"""Quiet hours: a due time inside the window moves to its end, across midnight and DST."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.routing.quiet_hours import QuietHours, compile_quiet_hours

ZONES = ["America/Sao_Paulo", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]
SP = ZoneInfo("America/Sao_Paulo")
clocks = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))
windows = st.builds(QuietHours, clocks, clocks, st.sampled_from(ZONES).map(ZoneInfo)).filter(
    lambda q: q.start != q.end)
instants = st.floats(1_200_000_000, 1_900_000_000)  # 2008 … 2030: Brazil's DST years included


def at(text: str, tz: ZoneInfo = SP) -> float:
    """Unix seconds of a local ``YYYY-MM-DD HH:MM`` in ``tz``."""
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


NIGHT = QuietHours(time(21), time(8), SP)


@pytest.mark.parametrize(("due", "sent"), [
    ("2024-05-10 20:59", "2024-05-10 20:59"),  # before the window: unchanged
    ("2024-05-10 21:00", "2024-05-11 08:00"),  # the window's first minute
    ("2024-05-10 23:30", "2024-05-11 08:00"),  # evening: tomorrow morning
    ("2024-05-11 03:00", "2024-05-11 08:00"),  # after midnight: this morning
    ("2024-05-11 08:00", "2024-05-11 08:00"),  # the window's end is outside it
])
def test_across_midnight(due, sent):
    """21:00–08:00 holds evenings and early mornings; the rest of the day is untouched."""
    assert NIGHT.shift(at(due)) == at(sent)


def test_same_day_window():
    """12:00–14:00 (lunch) holds only that stretch."""
    lunch = QuietHours(time(12), time(14), SP)
    assert lunch.shift(at("2024-05-10 12:30")) == at("2024-05-10 14:00")
    assert lunch.shift(at("2024-05-10 11:59")) == at("2024-05-10 11:59")


def test_dst_gap_ends_at_the_jump():
    """Brazil 2018-11-04: 00:00 jumped to 01:00; a window to 00:30 ends at the jump."""
    q = QuietHours(time(21), time(0, 30), SP)
    ended = q.shift(at("2018-11-03 22:00"))
    assert datetime.fromtimestamp(ended, SP).strftime("%Y-%m-%d %H:%M") == "2018-11-04 01:00"
    assert not q.holds(ended) and q.holds(ended - 1.5)


def test_dst_fold_ends_at_first_occurrence():
    """Brazil 2019-02-17: 00:00 came back to 23:00; a window to 23:30 ends the first time."""
    q = QuietHours(time(22), time(23, 30), SP)
    ended = q.shift(at("2019-02-16 22:10"))
    assert ended == datetime(2019, 2, 16, 23, 30, tzinfo=SP, fold=0).timestamp()


@settings(max_examples=300, deadline=None)
@given(windows, instants)
def test_shift_lands_outside_the_window_and_never_early(q, t):
    """The result is never before the due time, lies outside the window, within about a day."""
    sent = q.shift(t)
    assert sent >= t
    assert not q.holds(sent)
    assert sent - t <= 26 * 3600
    if not q.holds(t):
        assert sent == t


@settings(max_examples=150, deadline=None)
@given(windows, instants)
def test_shift_is_the_first_moment_out(q, t):
    """Every moment between the due time and the result is inside the window (sampled)."""
    sent = q.shift(t)
    if sent == t:
        return
    steps = max(1, int((sent - t) // 300))
    assert all(q.holds(t + i * (sent - t) / (steps + 1)) for i in range(steps + 1))


@settings(max_examples=100, deadline=None)
@given(windows, instants)
def test_shift_is_idempotent(q, t):
    """Shifting a shifted time changes nothing."""
    assert q.shift(q.shift(t)) == q.shift(t)


@pytest.mark.parametrize(("start", "end", "tz", "error"), [
    ("21:00", "8:00", "UTC", "'8:00' is not a time of day"),
    ("24:00", "08:00", "UTC", "'24:00' is not a time of day"),
    ("21:00", "21:00", "UTC", "from and to are both 21:00"),
    ("21:00", "08:00", "Mars/Olympus", "unknown timezone 'Mars/Olympus'"),
])
def test_malformed(start, end, tz, error):
    """A malformed window says why."""
    got = compile_quiet_hours(start, end, tz)
    assert isinstance(got, str) and error in got
