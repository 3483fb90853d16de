"""The web console through the real app and a real SQLite file: login, guard, headers, CSRF."""

from __future__ import annotations

import pytest
from console_helpers import (
    PASSWORD,
    TOKEN,
    console_sections,
    csrf_of,
    form_token,
    log_in,
)

from service.keys import STORE
from service.ui import security


@pytest.fixture
async def ui(settings_for, start):
    """The app with the console on (no worker)."""
    return await start(settings_for(**console_sections()))


async def test_console_is_off_without_an_admin_token(settings_for, start):
    """Without server.admin_token every /ui/ path answers 404."""
    client = await start(settings_for())
    for path in ("/ui", "/ui/", "/ui/login", "/ui/eventos", "/ui/static/console.js"):
        assert (await client.get(path, allow_redirects=False)).status == 404
    assert (await client.post("/ui/login", data={"password": "x"})).status == 404


async def test_not_logged_in_redirects_to_login_and_shows_no_data(ui):
    """Every page without a session is a redirect to the login form, never data."""
    for path in ("/ui/", "/ui/eventos", "/ui/eventos/1", "/ui/falhas", "/ui/destinos", "/ui/regras"):
        resp = await ui.get(path, allow_redirects=False)
        assert resp.status == 303, path
        assert resp.headers["Location"].startswith("/ui/login?next=")
    resp = await ui.post("/ui/destinos/arquivo/desativar", data={}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/ui/login")
    poll = await ui.get("/ui/eventos/novos?after=0", headers={"X-Requested-With": "ponte"})
    assert poll.status == 401


async def test_login_with_token_or_password_then_logout_revokes(ui):
    """Both secrets log in; after logout the old cookie no longer opens a page."""
    for secret in (TOKEN, PASSWORD):
        resp = await log_in(ui, secret)
        assert resp.status == 200 and "Painel" in await resp.text()
        cookie = ui.session.cookie_jar.filter_cookies(ui.make_url("/ui/"))[security.COOKIE].value
        csrf = await csrf_of(ui)
        out = await ui.post("/ui/sair", data={"csrf": csrf}, allow_redirects=False)
        assert out.status == 303
        replayed = await ui.get("/ui/", cookies={security.COOKIE: cookie}, allow_redirects=False)
        assert replayed.status == 303


async def test_wrong_and_missing_password_get_one_message_and_are_throttled(ui):
    """Wrong and empty passwords answer alike; the sixth wrong try is throttled, the right one is not."""
    bodies = []
    for given in ("wrong", "", "admin-token-12", "wrong-again", TOKEN + "x"):
        resp = await log_in(ui, given)
        assert resp.status == 401
        bodies.append(await resp.text())
    assert all("Senha ou token incorretos." in b for b in bodies)
    assert TOKEN not in "".join(bodies)
    resp = await log_in(ui, "sixth")
    assert resp.status == 429
    assert "Muitas tentativas" in await resp.text()
    assert (await log_in(ui, TOKEN)).status == 200


async def test_login_form_needs_its_own_token(ui):
    """A login POST from another site (no login-form cookie) is refused."""
    resp = await ui.post("/ui/login", data={"password": TOKEN, "form_token": "forged"})
    assert resp.status == 403
    assert security.COOKIE not in ui.session.cookie_jar.filter_cookies(ui.make_url("/ui/"))


async def test_session_cookie_flags(ui):
    """HttpOnly, SameSite=Strict, expiring, path /ui/; not Secure over plain HTTP."""
    page = await ui.get("/ui/login")
    token = form_token(await page.text(), "form_token")
    resp = await ui.post("/ui/login", data={"password": TOKEN, "form_token": token}, allow_redirects=False)
    cookie = resp.cookies[security.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/ui/"
    assert int(cookie["max-age"]) == security.SESSION_SECONDS
    assert not cookie["secure"]


async def test_cookie_is_secure_behind_a_trusted_https_proxy(settings_for, start):
    """X-Forwarded-Proto: https counts only from a trusted proxy."""
    for trusted, secure in ((["127.0.0.1"], True), ([], False)):
        client = await start(settings_for(**console_sections(trusted_proxies=trusted)))
        page = await client.get("/ui/login")
        token = form_token(await page.text(), "form_token")
        resp = await client.post("/ui/login", data={"password": TOKEN, "form_token": token},
                                 headers={"X-Forwarded-Proto": "https"}, allow_redirects=False)
        assert bool(resp.cookies[security.COOKIE]["secure"]) is secure


async def test_forged_or_expired_cookies_are_refused(ui, settings_for):
    """A cookie with a bad signature or a past expiry is no session."""
    server = settings_for(**console_sections()).config.server
    good, session = security.new_session(server, security.now())
    await ui.server.app[STORE].start_session(security.session_key(session), session.expires, security.now())
    expired = security.new_cookie(server, security.now() - security.SESSION_SECONDS - 5)
    expires, nonce, _ = good.split(".")
    forged = f"{int(expires) + 9999}.{nonce}.{'0' * 64}"
    assert (await ui.get("/ui/", cookies={security.COOKIE: good}, allow_redirects=False)).status == 200
    for value in (expired, forged, "garbage", "a.b.c"):
        resp = await ui.get("/ui/", cookies={security.COOKIE: value}, allow_redirects=False)
        assert resp.status == 303, value


async def test_forged_post_without_csrf_is_refused(ui):
    """A state-changing POST without (or with a wrong) CSRF token changes nothing."""
    await log_in(ui)
    for data in ({}, {"csrf": "forged"}):
        resp = await ui.post("/ui/destinos/arquivo/desativar", data=data, allow_redirects=False)
        assert resp.status == 403
    page = await (await ui.get("/ui/destinos")).text()
    assert "Desativar" in page and "badge disabled" not in page


async def test_every_page_sends_the_safe_headers(ui):
    """CSP without inline scripts, no framing, no caching: on pages, redirects and errors."""
    responses = [await ui.get("/ui/login"), await ui.get("/ui/", allow_redirects=False)]
    await log_in(ui)
    responses += [await ui.get(p) for p in ("/ui/", "/ui/eventos", "/ui/falhas", "/ui/destinos",
                                            "/ui/regras", "/ui/eventos/999")]
    for resp in responses:
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Cache-Control"] == "no-store"
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


async def test_pages_carry_no_inline_script(ui):
    """The only script is the vendored file: no inline <script> and no on* handlers."""
    await log_in(ui)
    for path in ("/ui/", "/ui/eventos", "/ui/falhas", "/ui/destinos", "/ui/regras"):
        html = await (await ui.get(path)).text()
        assert html.count("<script") == 1 and '<script src="/ui/static/console.js" defer></script>' in html
        assert " onclick=" not in html and " onload=" not in html


async def test_next_never_leaves_the_console(ui):
    """After login, ``next`` only goes to a /ui/ path (no open redirect)."""
    for target in ("//evil.example/", "https://evil.example/", "/api/events", "/ui/\\evil"):
        page = await ui.get("/ui/login")
        token = form_token(await page.text(), "form_token")
        resp = await ui.post("/ui/login", data={"password": TOKEN, "form_token": token, "next": target},
                             allow_redirects=False)
        assert resp.headers["Location"] == "/ui/"
        ui.session.cookie_jar.clear()


async def test_language_from_accept_language_and_switch(ui):
    """pt-BR by default; English by Accept-Language; the switch's cookie wins."""
    assert "Acessar o console" in await (await ui.get("/ui/login")).text()
    english = await ui.get("/ui/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Console login" in await english.text()
    await ui.get("/ui/idioma?lang=en&next=/ui/login")
    assert "Console login" in await (await ui.get("/ui/login")).text()
    await ui.get("/ui/idioma?lang=pt&next=/ui/login")
    page = await ui.get("/ui/login", headers={"Accept-Language": "en"})
    assert "Acessar o console" in await page.text()


async def test_guard_counts_failures_per_client_and_forgets_old_ones():
    """Throttling is per client, in a sliding window."""
    throttle = security.Guard().throttle
    for _ in range(security.MAX_FAILURES):
        throttle.failed("a", 1000.0)
    assert throttle.retry_after("a", 1001.0) and not throttle.retry_after("b", 1001.0)
    assert not throttle.retry_after("a", 1000.0 + security.FAILURE_WINDOW + 1)


def test_password_check_refuses_empty_secrets():
    """An empty given password never matches, even if a secret is unset."""
    from service.config.schema import ServerConfig

    server = ServerConfig(admin_token="t", ui_password=None)
    assert security.password_ok(server, "t")
    assert not security.password_ok(server, "") and not security.password_ok(server, "None")




@pytest.mark.parametrize(("text", "hidden", "kept"), [
    ("contato: maria.silva@example.com.br", "maria.silva", "m***@example.com.br"),
    ("CPF 123.456.789-09 e fone +55 (11) 99999-1234", "123.456.789", "••••••09 e fone"),
    ("fone +55 (11) 99999-1234", "99999", "••••••34"),
    ("x" * 100_000 + "@", "@" * 2, "x" * 10),
    ("1" * 100_000 + " cpf 12345678901", "12345678901", "••••••01"),
])
def test_mask_text_hides_emails_and_digit_runs(text, hidden, kept):
    """Free text (a cut body) loses e-mails and long digit runs, in linear time."""
    from service.ui.mask import mask_text

    masked = mask_text(text)
    assert hidden not in masked and kept in masked


def test_mask_doc_masks_personal_keys_anywhere_but_keeps_the_rest():
    """Buyer e-mail, phones, document and the whole address are hidden; ids and names stay."""
    from service.ui.mask import mask_doc

    doc = {"number": "NF-1", "data": {"buyer": {"name": "Ana", "email": "ana@x.com", "document": "12345678901",
                                                "address": {"street": "Rua A", "number": "10"}},
                                      "items": [{"cellphone": "11999990000", "id": 7}]}}
    masked = mask_doc(doc)
    assert masked["number"] == "NF-1" and masked["data"]["buyer"]["name"] == "Ana"
    assert masked["data"]["buyer"]["email"] == "a***@x.com"
    assert masked["data"]["buyer"]["document"].endswith("01") and "123" not in masked["data"]["buyer"]["document"]
    assert "Rua" not in str(masked["data"]["buyer"]["address"]) and masked["data"]["items"][0]["id"] == 7
    assert "1199999" not in str(masked)


def test_counts_and_times_in_the_users_language():
    """Counts group thousands per language and show the cap; times use the configured zone."""
    from zoneinfo import ZoneInfo

    from service.ui.i18n import local_time, translator

    assert translator("pt").count(1234567) == "1.234.567"
    assert translator("en").count(1234567) == "1,234,567"
    assert translator("pt").count(100_000, cap=100_000) == "100.000+"
    zone = ZoneInfo("America/Sao_Paulo")
    assert local_time("2026-11-25T13:00:00.000Z", zone) == "25/11/2026 10:00:00"
    assert local_time(0.0, zone, "%H:%M") == "21:00"


def test_hourly_chart_has_every_hour_and_scales_to_the_peak():
    """24 bars, empty hours included; the busiest hour reaches the top."""
    from zoneinfo import ZoneInfo

    from service.ui.chart import HEIGHT, hourly_chart

    now = 1_764_500_000.0
    hour = int(now // 3600) * 3600
    chart = hourly_chart([(hour, 10, 2), (hour - 7200, 5, 0)], now, ZoneInfo("UTC"))
    assert len(chart.bars) == 24 and chart.peak == 10
    assert chart.bars[-1].events == 10 and chart.bars[-3].events == 5 and chart.bars[-2].events == 0
    assert chart.bars[-1].events_y > chart.bars[-3].events_y > 0
    assert all(b.events_y <= HEIGHT for b in chart.bars)
