"""Retry-After is capped at 24 hours: an endless or year-9999 one keeps the schedule finite."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import pytest

from conftest import fixture_body, post_signed
from service.delivery.retry import MAX_RETRY_AFTER, next_delay
from service.sinks.http import parse_retry_after
from test_delivery import Endpoint, db, serve, wait_for

HUGE = "9" * 400
YEAR_9999 = "Fri, 31 Dec 9999 23:59:59 GMT"


@pytest.mark.parametrize("value", [HUGE, YEAR_9999, str(10 * 86400)])
async def test_a_huge_retry_after_schedules_the_retry_within_24_hours(
        value, tmp_path, settings_for, start, aiohttp_server):
    """The delivery stays pending, due within 24 h, and every list still answers 200."""
    endpoint = Endpoint([503], headers={"Retry-After": value})
    url = await serve(aiohttp_server, endpoint)
    settings = settings_for(sinks={"crm": {"type": "webhook", "url": url}},
                            routes=[{"name": "tudo", "events": ["*"], "to": ["crm"]}],
                            server={"admin_token": "adm"})
    client = await start(settings, worker=True)
    before = time.time()
    await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    await wait_for(lambda: bool(db(tmp_path, "SELECT 1 FROM attempts")))
    [(status, due)] = db(tmp_path, "SELECT status, next_attempt_at FROM deliveries")
    assert status == "pending"
    assert math.isfinite(due) and before + 86400 * 0.99 < due <= time.time() + MAX_RETRY_AFTER
    auth = {"Authorization": "Bearer adm"}
    for path in ("/api/deliveries", "/api/events/1", "/api/deliveries/1"):
        resp = await client.get(path, headers=auth)
        assert resp.status == 200, path
    page = await (await client.get("/api/deliveries", headers=auth)).json()
    assert page["items"][0]["next_attempt_at"].startswith(
        datetime.fromtimestamp(due, UTC).strftime("%Y-%m-%d"))


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120.0), (HUGE, MAX_RETRY_AFTER), (YEAR_9999, MAX_RETRY_AFTER), ("garbage", None),
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
])
def test_parse_retry_after_is_capped(value, seconds):
    """Delta seconds and HTTP dates are read, then held between 0 and 24 hours."""
    assert parse_retry_after(value) == seconds


def test_next_delay_caps_an_endless_retry_after_but_keeps_a_longer_schedule_step():
    """An infinite Retry-After waits 24 h; a configured 2-day step still waits its 2 days."""
    assert next_delay([5.0], 1, retry_after=math.inf) == MAX_RETRY_AFTER
    assert next_delay([2 * 86400.0], 1, retry_after=math.inf) >= 0.8 * 2 * 86400


@pytest.mark.parametrize("value", ["9" * 400 + "d", 10**400, "36500d"])
def test_an_endless_retry_schedule_step_is_a_config_error(value):
    """A century or more (400 nines are an infinite float) is refused with its path."""
    from service.config.load import parse_config
    from service.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        parse_config({"delivery": {"retry_schedule": ["5s", value]}}, env={})
    errors = info.value.errors
    assert any(e.startswith("delivery.retry_schedule[1]") for e in errors), errors
