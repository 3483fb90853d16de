"""Wrong-credential throttling: the admin API answers 429 past a few guesses per client,
and neither the API nor the console ever refuses the right credential (issue 19, item 12)."""

from __future__ import annotations

import pytest
from console_helpers import PASSWORD, TOKEN, console_sections, log_in

from service.operate import api as admin_api
from service.operate.throttle import Throttle

WRONG = {"Authorization": "Bearer wrong-token"}
RIGHT = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def app(settings_for, start):
    """The app with the admin API and the console on; 127.0.0.1 is a trusted proxy."""
    return await start(settings_for(**console_sections(trusted_proxies=["127.0.0.1"])))


async def test_admin_api_wrong_tokens_past_the_limit_get_429_with_retry_after(app):
    """40 wrong tokens: the first ones 401, the rest 429 with Retry-After; the right one passes."""
    statuses = [(await app.get("/api/events", headers=WRONG)).status for _ in range(40)]
    assert statuses[:admin_api.GUESSES] == [401] * admin_api.GUESSES
    assert set(statuses[admin_api.GUESSES:]) == {429}
    refused = await app.get("/api/events", headers=WRONG)
    assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "error" in await refused.json()
    assert (await app.get("/api/events", headers=RIGHT)).status == 200


async def test_a_request_without_a_token_guesses_nothing_and_is_never_throttled(app):
    """40 requests with no Authorization header: every one a plain 401 (probes, fuzzers)."""
    statuses = {(await app.get("/api/events")).status for _ in range(40)}
    assert statuses == {401}
    assert (await app.get("/api/events", headers=WRONG)).status == 401  # guesses still count from 0


async def test_admin_api_throttle_is_per_forwarded_client_behind_a_trusted_proxy(app):
    """Behind a trusted proxy each X-Forwarded-For address has its own budget."""
    for _ in range(admin_api.GUESSES):
        await app.get("/api/events", headers={**WRONG, "X-Forwarded-For": "203.0.113.7"})
    blocked = await app.get("/api/events", headers={**WRONG, "X-Forwarded-For": "203.0.113.7"})
    other = await app.get("/api/events", headers={**WRONG, "X-Forwarded-For": "203.0.113.8"})
    assert (blocked.status, other.status) == (429, 401)


async def test_console_lockout_never_blocks_the_right_password(app):
    """After the wrong-password limit, wrong ones get 429 + Retry-After; the right one logs in."""
    for given in ("wrong", "", "x", "y", "z"):
        assert (await log_in(app, given)).status == 401
    throttled = await log_in(app, "again-wrong")
    assert throttled.status == 429 and "Muitas tentativas" in await throttled.text()
    assert int(throttled.headers["Retry-After"]) > 0
    resp = await log_in(app, PASSWORD)
    assert resp.status == 200 and "Painel" in await resp.text()


def test_throttle_window_slides_and_forgets():
    """Wrong guesses count within the window only; the table keeps the newest ``limit``."""
    throttle = Throttle(3, 60.0)
    for t in (0.0, 1.0, 2.0, 3.0):
        throttle.failed("a", t)
    assert throttle.retry_after("a", 10.0) == pytest.approx(51.0)
    assert throttle.retry_after("b", 10.0) == 0.0
    assert throttle.retry_after("a", 62.0) == 0.0
